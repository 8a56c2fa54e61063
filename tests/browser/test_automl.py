"""AutoML in a real browser with a real worker, the Canvas journey: from Training open AutoML, pick the demo
dataset and the target, see the problem type inferred, start a short build, watch progress and the
leaderboard, read the best model's report, then change values in the what-if form and see the prediction
change."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.worker]

GENTOO = {"island": "Biscoe", "bill_length_mm": "48", "bill_depth_mm": "15", "flipper_length_mm": "220",
          "body_mass_g": "5500"}
CHINSTRAP = {"island": "Dream", "bill_length_mm": "50", "bill_depth_mm": "19", "flipper_length_mm": "196",
             "body_mass_g": "3700"}


def _what_if(page, values: dict[str, str]) -> None:
    form = page.locator("#what-if-form")
    for name, value in values.items():
        form.locator(f'[name="col_{name}"]').fill(value)
    with page.expect_response(lambda response: "/what-if/" in response.url):
        form.get_by_role("button", name="Predict").click()


def test_an_analyst_builds_a_model_with_automl_and_asks_what_if(member, project, celery_worker, sign_in,
                                                                 page_problems):
    from apps.core.management.commands.load_demo import penguins_frame
    from apps.datasets.services import dataset_import_dataframe

    analyst = member("analyst", "ana")
    dataset = dataset_import_dataframe(project=project, user=analyst, name="penguins", frame=penguins_frame())
    page = sign_in("ana")
    page.goto(f"/p/{project.slug}/training/")
    with page.expect_navigation():
        page.get_by_role("link", name="AutoML").first.click()
    with page.expect_navigation():
        page.get_by_role("link", name="New AutoML build").click()

    expect(page.get_by_label("Dataset")).to_have_value(str(dataset.id))
    with page.expect_response(lambda response: "/automl/form/" in response.url):
        page.get_by_label("Column to predict").select_option("species")
    expect(page.locator("#inferred-problem-type")).to_contain_text("Multiclass classification")
    page.get_by_label("Custom time budget").check()
    page.get_by_label("Custom budget (seconds)").fill("20")
    with page.expect_navigation():
        page.get_by_role("button", name="Start the build").click()
    expect(page).to_have_url(re.compile(rf"/p/{project.slug}/training/automl/\d+/$"))
    expect(page.locator("#automl-body progress")).to_be_visible()

    celery_worker()
    expect(page.locator("#leaderboard tbody tr").first).to_be_visible(timeout=60_000)  # grows while searching
    expect(page.locator("#best-model")).to_be_visible(timeout=120_000)
    expect(page.locator(".job-live .badge")).to_have_text("Completed")
    expect(page.locator('#leaderboard tr[data-rank="1"]')).to_be_visible()
    expect(page.locator('[data-plotly="figure-confusion"] svg.main-svg').first).to_be_visible()
    expect(page.locator('[data-plotly="automl-importance"] svg.main-svg').first).to_be_visible()
    expect(page.get_by_role("link", name="Python script")).to_be_visible()
    expect(page.locator("#onnx")).to_contain_text("ONNX")

    _what_if(page, GENTOO)
    expect(page.locator("[data-prediction]")).to_have_text("Gentoo")
    expect(page.locator("table.impacts tbody tr").first).to_be_visible()
    _what_if(page, CHINSTRAP)
    expect(page.locator("[data-prediction]")).to_have_text("Chinstrap")
    page.locator("#what-if").scroll_into_view_if_needed()
    screenshot(page, "automl")
    page_problems.assert_none()
