"""In a real browser: save a SQLite connection, test it, import a query from the Import page's SQL tab, and
find the new dataset's version with its origin. The import job runs in this process (no worker needed)."""

from __future__ import annotations

import os
import sqlite3

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_a_sqlite_query_is_imported_from_the_import_page(sign_in, make_user, page_problems, settings, tmp_path):
    from apps.core.jobs import job_execute
    from apps.core.services import project_create
    from apps.datasets.models import Dataset

    settings.IMPORT_PATHS = [str(tmp_path)]
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("CREATE TABLE orders (id INTEGER, item TEXT, price REAL)")
        db.executemany("INSERT INTO orders VALUES (?, ?, ?)", [(i, f"item {i}", i * 1.5) for i in range(1, 31)])
    user = make_user("ana")
    project_create(name="Shop", user=user)
    page = sign_in("ana")

    page.goto("/p/shop/data/")
    page.get_by_role("link", name="Connections").click()
    page.get_by_label("Name").fill("shop db")
    page.get_by_label("URL").fill(f"sqlite:///{tmp_path / 'shop.db'}")
    page.get_by_label("Password").fill("not-needed-but-secret")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("table.connections-table")).to_contain_text("shop db")
    expect(page.locator("table.connections-table")).to_contain_text("saved")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-result")).to_contain_text("Connected: SQLite file")
    assert "not-needed-but-secret" not in page.content()
    _shot(page, "connections")

    page.goto("/p/shop/data/import/?source=sql")
    page_problems.expect_error_status("/p/shop/data/import/sql/")  # the refused query answers 400
    page.get_by_label("Query").fill("DELETE FROM orders")
    page.get_by_role("button", name="Run the query and import").click()
    expect(page.get_by_role("alert").first).to_contain_text("start the query with SELECT or WITH")
    page.get_by_label("Query").fill("SELECT id, item, price FROM orders WHERE id <= 25")
    page.get_by_label("Name").fill("orders")
    _shot(page, "import-sql")
    page.get_by_role("button", name="Run the query and import").click()
    expect(page.get_by_role("heading", name="orders")).to_be_visible()
    job_execute(job_id=Dataset.objects.get(name="orders").last_job_id)
    expect(page.locator("#dataset-status")).to_have_text("Ready", timeout=20_000)
    versions = page.locator("#versions")
    expect(versions).to_contain_text("SQL query")
    expect(versions).to_contain_text("25 × 3")
    _shot(page, "dataset-versions")
    page_problems.assert_none()


def _shot(page, name: str) -> None:
    """Screenshots for a person to look at when STUDIO_SHOTS names a directory; nothing otherwise."""
    directory = os.environ.get("STUDIO_SHOTS")
    if directory:
        page.screenshot(path=f"{directory}/{name}.png", full_page=True)
