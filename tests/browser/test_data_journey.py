"""The data-preparation journey in a real browser with a real worker: upload a CSV, run the quality and insights
report, add its recommended fixes to a flow in one click each, build a 6-step flow watching the preview, apply
it, open the new version, export the script and check that it reproduces the new version from the old one."""

from __future__ import annotations

import csv
import re
import runpy
import sys

import pandas as pd
import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.worker]
ROWS = 300


def _write_customers_csv(path):
    """A constant column (region), an identifier (customer) and a skewed, missing-prone income."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer", "region", "age", "income", "plan", "churned"])
        for i in range(ROWS):
            income = "" if i % 9 == 0 else f"{(1.9 ** (i % 23)) + 1000:.2f}"
            writer.writerow([f"C{10_000 + i}", "EU", 18 + (i * 7) % 60, income, ["basic", "plus", "pro"][i % 3],
                             "yes" if i % 4 == 0 else "no"])
    return path


def _add_step(page, transform: str, fill) -> None:
    page.get_by_label("Search transforms").fill(transform.split("_")[0])
    page.locator(f"#picker button[data-transform={transform}]").click()
    form = page.locator(f"#add-form form[data-transform={transform}]")
    expect(form).to_be_visible()
    fill(form)
    form.get_by_role("button", name="Add step").click()
    expect(page.locator("#add-form form")).to_have_count(0)


def _add_proposal(page, report_url: str, row_class: str, transform: str) -> None:
    page.goto(report_url)
    proposal = page.locator(f"#report-warnings tr.{row_class} .proposal[data-transform={transform}]").first
    with page.expect_navigation():
        proposal.get_by_role("button", name="Add to a flow").click()
    expect(page.locator(".step").last).to_contain_text(transform)


def test_upload_report_fixes_flow_apply_and_export_reproduce_the_new_version(
    member, project, celery_worker, sign_in, page_problems, tmp_path, monkeypatch
):
    from apps.core.artifacts import artifact_path
    from apps.datasets.models import Dataset

    member("data_scientist", "noor")
    celery_worker()
    page = sign_in("noor")
    page.goto(f"/p/{project.slug}/data/")
    upload = page.locator("#upload")
    upload.get_by_label("File").set_input_files(str(_write_customers_csv(tmp_path / "customers.csv")))
    upload.get_by_label("Name").fill("customers")
    with page.expect_navigation():
        upload.get_by_role("button", name="Upload and import").click()
    expect(page.locator("#dataset-status")).to_have_text("Ready", timeout=60_000)

    section = page.locator("#insights")
    section.get_by_label("Target column").select_option("churned")
    with page.expect_navigation():
        section.get_by_role("button", name="Make a quality and insights report").click()
    report_url = page.url
    expect(page.locator("#report-warnings")).to_be_visible(timeout=90_000)
    expect(page.locator("#report-warnings tr.warning-constant")).to_contain_text("region")

    # Two recommended fixes, one click each; the first makes the flow, the second joins it.
    _add_proposal(page, report_url, "warning-constant", "drop_columns")
    _add_proposal(page, report_url, "warning-missing", "fill_median")
    flow_url = page.url
    counts = page.locator("#preview-counts")
    expect(counts).to_contain_text(f"{ROWS} rows × 5 columns")

    _add_step(page, "log_transform", lambda form: form.get_by_label("Columns").select_option(["income"]))
    expect(page.locator("#preview th.col-changed[data-column=income]")).to_be_visible()
    _add_step(page, "one_hot_encode", lambda form: form.get_by_label("Column").select_option("plan"))
    expect(page.locator("#preview th.col-added[data-column=plan_pro]")).to_be_visible()
    _add_step(page, "formula_column", lambda form: (form.get_by_label("New column").fill("age_decades"),
                                                    form.get_by_label("Expression").fill("age // 10")))
    expect(page.locator("#preview th.col-added[data-column=age_decades]")).to_be_visible()
    _add_step(page, "filter_rows", lambda form: form.get_by_label("Expression").fill("age >= 21"))
    expect(page.locator(".step")).to_have_count(6)
    expect(page.locator(".step-error")).to_have_count(0)
    assert page.url == flow_url
    page.screenshot(path=str(tmp_path / "journey-flow.png"), full_page=True)

    page.get_by_role("button", name="Apply", exact=True).click()
    made = page.locator("#runs a.made-version")
    expect(made).to_have_text("customers v2", timeout=90_000)
    with page.expect_download() as download:
        page.get_by_role("link", name="Export script").click()
    script = tmp_path / "flow.py"
    script.write_text(download.value.path().read_text())

    made.click()
    expect(page.locator("table.versions-table")).to_contain_text("Data flow")
    expect(page.locator("table.data-table thead")).to_contain_text("age_decades")
    page_problems.assert_none()

    dataset = Dataset.objects.get(project=project, name="customers")
    v1, v2 = dataset.versions.get(number=1), dataset.versions.get(number=2)
    output = tmp_path / "out.parquet"
    monkeypatch.setattr(sys, "argv", ["flow.py", str(artifact_path(v1.parquet)), str(output)])
    runpy.run_path(str(script), run_name="__main__")
    from_script, applied = pd.read_parquet(output), pd.read_parquet(artifact_path(v2.parquet))
    assert list(from_script.columns) == list(applied.columns) and len(from_script) == len(applied) > 0
    for column in applied.columns:
        assert from_script[column].astype("string").tolist() == applied[column].astype("string").tolist(), column
    assert re.search(r"def fill_median", script.read_text())
