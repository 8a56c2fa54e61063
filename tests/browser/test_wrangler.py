"""The flow builder in a real browser with a real worker: open a demo dataset, build a flow step by step
while the preview follows and highlights columns, see an error at its step after a bad edit and fix it,
apply, open the new version, download the script."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.worker]


def _add_step(page, transform: str, fill) -> None:
    page.get_by_label("Search transforms").fill(transform.split("_")[0])
    page.locator(f"#picker button[data-transform={transform}]").click()
    form = page.locator(f"#add-form form[data-transform={transform}]")
    expect(form).to_be_visible()
    fill(form)
    form.get_by_role("button", name="Add step").click()
    expect(page.locator("#add-form form")).to_have_count(0)  # the builder re-rendered


def test_a_flow_is_built_with_a_live_preview_fixed_after_an_error_applied_and_exported(
    member, project, celery_worker, sign_in, page_problems, tmp_path
):
    from apps.core.management.commands.load_demo import penguins_frame
    from apps.datasets.services import dataset_import_dataframe

    user = member("data_scientist", "ada")
    dataset = dataset_import_dataframe(project=project, user=user, name="penguins", frame=penguins_frame())
    page = sign_in("ada")
    page.goto(f"/p/{project.slug}/data/{dataset.id}/")
    page.get_by_role("link", name="Prepare data (flow)").click()
    page.get_by_role("button", name="Create flow").click()
    expect(page.get_by_role("heading", name="penguins flow")).to_be_visible()
    counts = page.locator("#preview-counts")
    expect(counts).to_have_text("344 rows × 8 columns (sample of 344 rows, first)")
    url = page.url

    _add_step(page, "rename_columns", lambda form: form.get_by_label("Mapping").fill("bill_length_mm=bill_length"))
    expect(page.locator("#preview th.col-added[data-column=bill_length]")).to_be_visible()
    _add_step(page, "cast_column", lambda form: (form.get_by_label("Column").select_option("year"),
                                                 form.get_by_label("To").select_option("string")))
    expect(page.locator("#preview th.col-changed[data-column=year]")).to_contain_text("str")
    _add_step(page, "drop_columns", lambda form: form.get_by_label("Columns").select_option(["island"]))
    expect(counts).to_have_text("344 rows × 7 columns (sample of 344 rows, first)")
    _add_step(page, "duplicate_column", lambda form: (form.get_by_label("Column").select_option("species"),
                                                      form.get_by_label("New name").fill("kind")))
    expect(page.locator("#preview th.col-added[data-column=kind]")).to_be_visible()
    assert page.url == url  # no page load: every change came back through htmx
    expect(page.locator(".step")).to_have_count(4)
    expect(page.locator(".step-timing").first).to_contain_text(" s · 344 × 8")
    page.screenshot(path=str(tmp_path / "wrangler-steps.png"), full_page=True)

    # A bad edit upstream: renaming island makes the drop step fail, in red, at its parameter.
    rename = page.locator(".step").nth(0)
    rename.get_by_role("button", name="Edit").click()
    rename.get_by_label("Mapping").fill("bill_length_mm=bill_length\nisland=isle")
    rename.get_by_role("button", name="Save step").click()
    drop = page.locator(".step").nth(2)
    expect(drop.locator(".step-error")).to_contain_text("columns: Column 'island' is not in the data at this step")
    expect(drop.locator(".param-error select")).to_be_visible()
    expect(page.locator(".step").nth(3).locator(".step-error")).to_contain_text("an earlier step failed")
    page.screenshot(path=str(tmp_path / "wrangler-error.png"), full_page=True)
    drop.get_by_label("Columns").select_option(["isle"])
    drop.get_by_role("button", name="Save step").click()
    expect(page.locator(".step-error")).to_have_count(0)
    expect(counts).to_have_text("344 rows × 8 columns (sample of 344 rows, first)")

    celery_worker(queues="batch")
    page.get_by_role("button", name="Apply", exact=True).click()
    made = page.locator("#runs a.made-version")
    expect(made).to_have_text("penguins v2", timeout=60_000)
    expect(page.locator("#runs")).to_contain_text("Completed")
    page.screenshot(path=str(tmp_path / "wrangler-applied.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Export script").click()
    script = download.value.path().read_text()
    assert "def rename_columns" in script and '"isle"' in script
    with page.expect_download() as fitted:
        page.get_by_role("link", name="Download fitted flow").click()
    assert '"transform": "drop_columns"' in fitted.value.path().read_text()
    # Applied: Train on this opens the training form on the new version with the fitted flow.
    expect(page.get_by_role("link", name="Train on this")).to_have_attribute("href", re.compile(r"flow_run=\d+"))

    made.click()
    expect(page.locator("table.versions-table")).to_contain_text("Made by flow penguins flow run 1")
    header = page.locator("table.data-table thead")
    expect(header).to_contain_text("bill_length")
    expect(header).to_contain_text("kind")
    expect(header).not_to_contain_text("island")
    page_problems.assert_none()
