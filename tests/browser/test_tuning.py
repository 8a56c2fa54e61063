"""Tuning in a real browser with a real worker: from the Training area's Tuning tab, fill the form (data,
Bayesian search, a few ranges ticked and narrowed), start it, watch the trials run, then read the trials
table with the best marked and the objective, parallel-coordinates and importance charts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.worker]


def test_a_bayesian_tuning_job_started_from_the_form_runs_its_trials_and_draws_its_charts(
    member, project, celery_worker, sign_in, page_problems
):
    from apps.core.management.commands.load_demo import penguins_frame
    from apps.datasets.services import dataset_import_dataframe

    user = member("data_scientist", "ivy")
    dataset_import_dataframe(project=project, user=user, name="penguins", frame=penguins_frame())
    page = sign_in("ivy")
    page.goto(f"/p/{project.slug}/training/")
    with page.expect_navigation():
        page.get_by_role("link", name="Tuning jobs").click()
    with page.expect_navigation():
        page.get_by_role("link", name="New tuning job").click()

    page.get_by_label("Target", exact=True).select_option("species")
    page.get_by_label("Leave out columns").select_option(["year"])
    expect(page.get_by_label("Strategy")).to_have_value("bayesian")
    page.get_by_label("Max trials").fill("4")
    page.get_by_label("Trials at a time").fill("2")
    for box in page.locator("#ranges input[type=checkbox]").all():
        box.uncheck()
    page.locator('[name="range_n_estimators_on"]').check()
    page.locator('[name="range_n_estimators_min"]').fill("5")
    page.locator('[name="range_n_estimators_max"]').fill("40")
    page.locator('[name="range_learning_rate_on"]').check()
    page.locator('[name="range_max_depth_on"]').check()
    with page.expect_navigation():
        page.get_by_role("button", name="Start tuning").click()
    expect(page).to_have_url(re.compile(rf"/p/{project.slug}/tuning/\d+/$"))
    expect(page.locator("#tuning-body progress")).to_be_visible()

    celery_worker(concurrency=3)
    expect(page.locator(".job-live .badge")).to_have_text("Completed", timeout=240_000)
    expect(page.locator(".trials-table tbody tr")).to_have_count(4)
    expect(page.locator(".trials-table tr.best .best-badge")).to_have_count(1)
    expect(page.locator('[data-plotly="tuning-objective"] svg.main-svg').first).to_be_visible()
    expect(page.locator('[data-plotly="tuning-parallel"] svg.main-svg').first).to_be_visible()
    expect(page.locator('[data-plotly="tuning-importance"] svg.main-svg').first).to_be_visible()
    expect(page.get_by_role("link", name="Compare the trials' runs in Experiments")).to_be_visible()
    screenshot(page, "tuning")
    page_problems.assert_none()
