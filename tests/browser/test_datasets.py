"""The main flow in a real browser with a real worker: sign in, upload a CSV on the Data page, watch the import
job reach 100%, page through and sort the data table, read the column summaries; a ragged CSV gets a clear
message on its dataset page."""

from __future__ import annotations

import csv
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.worker]

ROWS = 1200
CATEGORIES = ["alpha", "beta", "gamma"]


def _write_sales_csv(path):
    """id 1..1200 in order; price falls as id rises (so sorting by price reverses the order); every 10th
    region is empty."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "product", "category", "price", "region"])
        for i in range(1, ROWS + 1):
            writer.writerow([i, f"item-{i:04d}", CATEGORIES[i % 3], f"{(ROWS - i) * 0.25 + 3:.2f}",
                             "" if i % 10 == 0 else ["north", "south"][i % 2]])
    return path


def _column(page, name: str) -> list[str]:
    """The cells of one column of the data table as shown."""
    table = page.locator("table.data-table")
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    index = next(i for i, h in enumerate(headers) if h.split()[0] == name)
    return [c.strip() for c in table.locator(f"tbody tr td:nth-child({index + 1})").all_inner_texts()]


def _upload(page, project, path, name):
    page.goto(f"/p/{project.slug}/data/")
    upload = page.locator("#upload")
    upload.get_by_label("File").set_input_files(str(path))
    upload.get_by_label("Name").fill(name)
    with page.expect_navigation():
        upload.get_by_role("button", name="Upload and import").click()


def _first_ids(page) -> list[str]:
    return _column(page, "id")


def test_an_uploaded_csv_imports_with_live_progress_then_pages_sorts_and_summarises(
    member, project, celery_worker, sign_in, page_problems, tmp_path
):
    member("data_scientist", "gus")
    csv_path = _write_sales_csv(tmp_path / "sales.csv")
    page = sign_in("gus")

    page.get_by_role("link", name="Alpha").click()
    expect(page.get_by_role("heading", name="Datasets in Alpha")).to_be_visible()
    _upload(page, project, csv_path, "Sales")

    expect(page).to_have_url(re.compile(rf"/p/{project.slug}/data/\d+/$"))
    expect(page.get_by_role("heading", name="Sales")).to_be_visible()
    # The worker starts only once the page shows the waiting import, so the live phase is always seen,
    # however fast the import runs.
    waiting = page.locator("#dataset-live progress")
    expect(waiting).to_be_visible()
    expect(page.locator("#dataset-live")).to_contain_text("Waiting for a worker")
    first_value = waiting.get_attribute("value")
    celery_worker()
    # While the import runs the page polls the job's progress bar; when it ends, the table replaces the bar.
    seen = [int(float(first_value or 0))]
    table = page.locator("table.data-table")
    deadline = 60_000
    while not table.count() and deadline > 0:
        bar = page.locator("#dataset-live progress")
        if bar.count():
            try:
                value = bar.first.get_attribute("value", timeout=500)
            except PlaywrightTimeoutError:  # swapped out by the poll that ended the import
                value = None
            if value is not None:
                seen.append(int(float(value)))
        page.wait_for_timeout(100)
        deadline -= 100
    expect(table).to_be_visible()
    assert seen == sorted(seen), seen  # the bar never goes backwards
    # The status and row count above the table follow without a reload too.
    expect(page.locator("#dataset-status")).to_have_text("Ready")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(re.compile(r"Rows\s*1,?200"))
    page.get_by_role("link", name=re.compile("Import")).first.click()
    expect(page.locator("#job-live [data-status]")).to_have_attribute("data-status", "Completed")
    expect(page.locator("#job-live progress")).to_have_attribute("value", "100")
    expect(page.locator("#job-live")).to_contain_text("100%")
    page.go_back()

    expect(table).to_be_visible()
    assert _first_ids(page) == [str(i) for i in range(1, 51)]
    page.locator("#data-table .pager-next").click()
    expect(page.locator("#data-table .pager-position")).to_contain_text(re.compile(r"rows 51–100 of 1,?200"))
    assert _first_ids(page) == [str(i) for i in range(51, 101)]
    expect(page).to_have_url(re.compile(r"page=2"))

    page.locator("table.data-table thead").get_by_role("link", name="price").click()
    expect(page.locator("table.data-table thead th[aria-sort=ascending]")).to_contain_text("price")
    prices = [float(p) for p in _column(page, "price")]
    assert prices == sorted(prices) and prices[0] == 3.0
    assert _first_ids(page)[0] == "1200"
    expect(page.locator("#data-table .pager-position")).to_contain_text("rows 1–50")

    page.locator("table.data-table thead").get_by_role("link", name=re.compile("price")).click()
    expect(page.locator("table.data-table thead th[aria-sort=descending]")).to_contain_text("price")
    prices = [float(p) for p in _column(page, "price")]
    assert prices == sorted(prices, reverse=True)
    assert _first_ids(page)[0] == "1"

    summary = page.locator("table.summary-table")
    region = summary.locator("tbody tr", has_text="region")
    expect(region).to_contain_text("120")  # every 10th region is empty
    expect(region).to_contain_text("10")
    expect(summary.locator("tbody tr", has_text="category")).to_contain_text("3")  # distinct categories
    expect(summary.locator("tbody tr", has_text="price")).to_contain_text("302.75")  # the largest price

    page.get_by_role("navigation", name="Areas").get_by_role("link", name="Data").click()
    listed = page.locator("table.dataset-list tbody tr", has_text="Sales")
    expect(listed).to_contain_text("Ready")
    expect(listed).to_contain_text(re.compile(r"1,?200"))
    page_problems.assert_none()


def test_a_ragged_csv_fails_its_import_with_a_clear_message_on_the_dataset_page(
    member, project, celery_worker, sign_in, page_problems, tmp_path
):
    member("data_scientist", "hal")
    celery_worker()
    bad = tmp_path / "ragged.csv"
    bad.write_text("a,b,c\n1,2,3\n4,5\n6,7,8\n", encoding="utf-8")
    page = sign_in("hal")

    _upload(page, project, bad, "Ragged")

    failure = page.get_by_role("alert").filter(has_text="The import failed")
    expect(failure).to_be_visible(timeout=60_000)
    expect(failure).to_contain_text("has 2 fields but the header has 3: '4,5'")
    expect(page.locator("#dataset-status")).to_have_text("Failed")
    expect(page.locator("table.data-table")).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text("Traceback")
    page_problems.assert_none()
