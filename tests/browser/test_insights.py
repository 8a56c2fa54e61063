"""The quality and insights report in a real browser with a real worker: start it from the dataset page, watch
its job's progress, then read the warnings and see the charts drawn."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.worker]


def test_a_report_started_on_the_dataset_page_completes_with_warnings_and_charts(
    member, project, celery_worker, sign_in, page_problems
):
    from apps.core.management.commands.load_demo import penguins_frame
    from apps.datasets.services import dataset_import_dataframe

    user = member("data_scientist", "ivy")
    # The raw Palmer data also carries a sample number and a region that is Anvers on every row.
    frame = penguins_frame().assign(region="Anvers")
    frame.insert(0, "sample_number", range(1, len(frame) + 1))
    dataset = dataset_import_dataframe(project=project, user=user, name="penguins", frame=frame)
    page = sign_in("ivy")
    page.goto(f"/p/{project.slug}/data/{dataset.id}/")

    section = page.locator("#insights")
    expect(section.get_by_role("heading", name="Quality and insights")).to_be_visible()
    section.get_by_label("Target column").select_option("species")
    section.screenshot(path="/tmp/insights-dataset-section.png")
    with page.expect_navigation():
        section.get_by_role("button", name="Make a quality and insights report").click()
    expect(page).to_have_url(re.compile(rf"/p/{project.slug}/data/{dataset.id}/insights/\d+/$"))
    expect(page.locator("#report-live progress")).to_be_visible()
    expect(page.locator("#report-live")).to_contain_text("Waiting for a worker")

    celery_worker()
    warnings = page.locator("#report-warnings")
    expect(warnings).to_be_visible(timeout=90_000)
    expect(page.locator("#report-live progress")).to_have_count(0)
    expect(page.locator("#report-header .badge")).to_have_text("Completed")
    constant = warnings.locator("tr.warning-constant")
    expect(constant).to_contain_text("1 distinct value or fewer")
    expect(constant.locator('.proposal[data-transform="drop_columns"]')).to_contain_text("Drop column region")
    expect(constant.locator(".proposal button")).to_have_text("Add to a flow")
    expect(warnings.locator("tr.warning-identifier")).to_contain_text("sample_number")
    expect(page.locator("#report-target")).to_contain_text("multiclass")
    expect(page.locator("#report-model")).to_contain_text("Balanced accuracy")
    # plotly drew the charts: each target element holds an svg.
    expect(page.locator('[data-plotly="chart-power"] svg.main-svg').first).to_be_visible()
    expect(page.locator('[data-plotly="chart-column-0"] svg.main-svg').first).to_be_attached()
    page.screenshot(path="/tmp/insights-report.png", full_page=True)
    page_problems.assert_none()
