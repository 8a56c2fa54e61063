"""Training in a real browser with a real worker: pick a dataset and a target, switch the algorithm and see its
hyperparameters change, start the job, watch the learning curve grow, then read the evaluation and its charts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.worker]


def test_a_training_job_started_from_the_form_completes_with_curves_metrics_and_charts(
    member, project, celery_worker, sign_in, page_problems
):
    from apps.core.management.commands.load_demo import penguins_frame
    from apps.datasets.services import dataset_import_dataframe

    user = member("data_scientist", "ivy")
    dataset = dataset_import_dataframe(project=project, user=user, name="penguins", frame=penguins_frame())
    page = sign_in("ivy")
    page.goto(f"/p/{project.slug}/training/")
    with page.expect_navigation():
        page.get_by_role("link", name="New training job").click()

    expect(page.get_by_label("Dataset")).to_have_value(str(dataset.id))  # the only ready dataset
    with page.expect_response(lambda response: "/training/form/" in response.url):
        page.get_by_label("Algorithm").select_option("mlp")
    expect(page.get_by_label("Epochs")).to_be_visible()
    expect(page.locator('[name="hp_n_estimators"]')).to_have_count(0)
    with page.expect_response(lambda response: "/training/form/" in response.url):
        page.get_by_label("Algorithm").select_option("xgboost")
    expect(page.get_by_label("N estimators")).to_have_value("200")
    page.get_by_label("Target", exact=True).select_option("species")
    page.get_by_label("Leave out columns").select_option(["species"])
    page_problems.expect_error_status(f"/p/{project.slug}/training/new/")  # the refused form answers 400
    with page.expect_navigation():
        page.get_by_role("button", name="Start training").click()
    expect(page.locator(".field-exclude .errorlist")).to_have_text("The target cannot also be left out.")
    expect(page.get_by_label("Target", exact=True)).to_have_value("species")  # nothing chosen is lost
    page.get_by_label("Leave out columns").select_option(["year"])

    page.get_by_label("N estimators").fill("150")
    page.get_by_label("Learning rate").fill("0.1")
    with page.expect_navigation():
        page.get_by_role("button", name="Start training").click()
    expect(page).to_have_url(re.compile(rf"/p/{project.slug}/training/\d+/$"))
    expect(page.locator("#training-body progress")).to_be_visible()
    screenshot(page, "training-form-started", full_page=False)

    celery_worker()
    expect(page.locator("#evaluation")).to_be_visible(timeout=120_000)
    expect(page.locator(".job-live .badge")).to_have_text("Completed")
    expect(page.locator('#metrics tr[data-metric="balanced_accuracy"]')).to_contain_text("objective")
    expect(page.locator('[data-plotly="curve-mlogloss"] svg.main-svg').first).to_be_visible()
    expect(page.locator('[data-plotly="figure-confusion"] svg.main-svg').first).to_be_visible()
    expect(page.locator('[data-plotly="figure-importance"] svg.main-svg').first).to_be_visible()
    expect(page.get_by_role("link", name="Download the model bundle")).to_be_visible()
    screenshot(page, "training")
    page_problems.assert_none()
