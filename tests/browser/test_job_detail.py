"""A running job's detail page, driven by a real Celery worker: live progress, log lines, and Stop."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.worker]


def _progress(page) -> float:
    return float(page.locator("#job-live progress").get_attribute("value") or 0)


def test_the_job_page_shows_live_progress_and_logs_and_stop_ends_the_job_stopped(
    member, project, celery_worker, sign_in, page_problems
):
    from apps.core.models import Job
    from apps.core.services import job_create

    scientist = member("data_scientist", "fay")
    celery_worker()
    job = job_create(project=project, user=scientist, kind="test.count", inputs={"n": 400, "delay": 0.05})

    page = sign_in("fay")
    page.goto(f"/jobs/{job.id}/")

    expect(page.get_by_role("heading", name="Count with checkpoints")).to_be_visible()
    status = page.locator("#job-live [data-status]")
    expect(status).to_have_attribute("data-status", "InProgress", timeout=30_000)
    first = wait_for(lambda: _progress(page) > 0 and _progress(page), timeout=15)
    later = wait_for(lambda: _progress(page) > first and _progress(page), timeout=15)
    assert 0 < first < later < 100
    expect(page.locator("#job-live .job-message")).to_have_text(re.compile(r"Step \d+ of 400"))
    expect(page.locator("#job-live .job-log > div").first).to_be_visible()
    # The metric chart's figure JSON arrives inside each polled fragment and is drawn after the swap.
    expect(page.locator("#job-live [data-plotly] .main-svg").first).to_be_visible()

    page.get_by_role("button", name="Stop").click()

    expect(status).to_have_attribute("data-status", "Stopped", timeout=20_000)
    expect(status).to_have_text("Stopped")
    expect(page.get_by_role("button", name="Stop")).to_have_count(0)
    expect(page.locator("#job-live .job-log")).to_contain_text("Stop requested by fay")
    job.refresh_from_db()
    assert job.status == "Stopped" and job.progress < 100
    assert Job.objects.get(id=job.id).ended_at is not None
    page_problems.assert_none()
