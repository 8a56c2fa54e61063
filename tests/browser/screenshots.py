"""README screenshots, taken from the running studio in headless Chromium, written as full-page PNGs into
docs/screenshots/. Each page is checked for what a reader of the README should see in it, and for console
errors and Content-Security-Policy violations. Not collected by the normal suite (the name does not match
test_*.py), so test runs do not rewrite the tracked PNGs; regenerate them with

    STUDIO_VAR_DIR=var/test-screenshots .venv/bin/python -m pytest tests/browser/screenshots.py -q
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, screenshot

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.worker]


def _is_png(path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def _demo_csvs(folder):
    from sklearn.datasets import load_breast_cancer, load_wine

    wine, cancer = folder / "wine.csv", folder / "breast_cancer.csv"
    load_wine(as_frame=True).frame.to_csv(wine, index=False)
    load_breast_cancer(as_frame=True).frame.to_csv(cancer, index=False)
    return wine, cancer


def _upload(page, project, path, name, description):
    page.goto(f"/p/{project.slug}/data/")
    upload = page.locator("#upload")
    upload.get_by_label("File").set_input_files(str(path))
    upload.get_by_label("Name").fill(name)
    upload.get_by_label("Description").fill(description)
    with page.expect_navigation():
        upload.get_by_role("button", name="Upload and import").click()
    expect(page.locator("table.data-table")).to_be_visible(timeout=60_000)


def test_the_readme_screenshots_show_each_page_working(make_user, celery_worker, browser_page, page_problems,
                                                       tmp_path):
    from apps.core.models import Membership
    from apps.core.services import job_create, project_create

    admin = make_user("admin", superuser=True)
    demo = project_create(name="Demo", user=admin, description="Demo datasets: wine and breast cancer.")
    Membership.objects.create(project=demo, user=make_user("grace"), role="data_scientist")
    Membership.objects.create(project=demo, user=make_user("lin"), role="analyst")
    project_create(name="Churn study", user=admin, description="Customer churn experiments.")
    celery_worker()
    job = job_create(project=demo, user=admin, kind="test.count", inputs={"n": 40, "delay": 0.02})
    page = browser_page
    shots = []

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("admin")
    shots.append(screenshot(page, "login"))
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Your projects")).to_be_visible()
    expect(page.get_by_role("link", name="Churn study")).to_be_visible()
    shots.append(screenshot(page, "projects"))

    wine, cancer = _demo_csvs(tmp_path)
    _upload(page, demo, cancer, "Breast cancer", "Wisconsin diagnostic breast cancer (scikit-learn).")
    _upload(page, demo, wine, "Wine", "Chemical analysis of wines from three cultivars (scikit-learn).")
    expect(page.locator("#dataset-status")).to_have_text("Ready")
    page.locator("table.data-table thead").get_by_role("link", name="alcohol").click()
    expect(page.locator("table.data-table thead th[aria-sort=ascending]")).to_contain_text("alcohol")
    shots.append(screenshot(page, "dataset"))
    page.locator("dl.facts").get_by_role("link", name="Import dataset Wine").click()
    expect(page.locator("#job-live [data-status]")).to_have_attribute("data-status", "Completed")
    expect(page.locator(".job-log")).to_contain_text("Completed.")
    shots.append(screenshot(page, "job"))  # a real job: the import, its log and artifacts

    page.goto(f"/p/{demo.slug}/data/")
    expect(page.get_by_role("heading", name="Datasets in Demo")).to_be_visible()
    expect(page.locator("table.dataset-list tbody tr")).to_have_count(2)
    shots.append(screenshot(page, "data"))

    page.goto(f"/jobs/{job.id}/")
    expect(page.locator("#job-live [data-status]")).to_have_attribute("data-status", "Completed", timeout=30_000)
    expect(page.locator("#job-live progress")).to_have_attribute("value", "100")
    expect(page.locator("#job-live [data-plotly] .main-svg").first).to_be_visible()
    shots.append(screenshot(page, "job-metrics"))  # a job that records a metric, drawn as a chart

    page.goto("/jobs/")
    expect(page.locator("table").first).to_contain_text("Completed")
    shots.append(screenshot(page, "jobs"))

    page.goto("/accounts/roles/")
    expect(page.get_by_role("heading", name="Role Manager")).to_be_visible()
    expect(page.locator("table.matrix")).to_contain_text("Data Scientist")
    shots.append(screenshot(page, "roles"))

    page.goto("/api/v1/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("ML Studio API")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    shots.append(screenshot(page, "api-docs", full_page=False))  # the full page is five screens tall

    assert all(_is_png(path) for path in shots), shots
    page_problems.assert_none()
