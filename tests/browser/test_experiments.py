"""Experiments in a real browser: two runs logged through the API, then the experiment's runs searched, both
picked and compared, with the differing params highlighted and the metric curves drawn."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _log_two_runs(owner, project) -> int:
    from rest_framework.test import APIClient

    from apps.accounts.services import token_create

    _, key = token_create(user=owner, name="sdk")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    created = api.post("/api/v1/experiments/", {"project": project.slug, "name": "churn"}, format="json").json()
    for name, depth, losses in (("deep", "8", [0.9, 0.5, 0.3, 0.2]), ("shallow", "3", [0.9, 0.7, 0.6, 0.55])):
        run = api.post("/api/v1/runs/", {"experiment": created["id"], "name": name}, format="json").json()
        body = {"metrics": [{"key": "loss", "value": v, "step": s, "timestamp": 1_700_000_000_000 + s}
                            for s, v in enumerate(losses)] + [{"key": "auc", "value": 0.95 if depth == "8" else 0.85}],
                "params": [{"key": "max_depth", "value": depth}, {"key": "algorithm", "value": "xgboost"}],
                "tags": [{"key": "team", "value": "vision"}]}
        assert api.post(f"/api/v1/runs/{run['id']}/log-batch/", body, format="json").status_code == 200
        assert api.post(f"/api/v1/runs/{run['id']}/finish/", {}, format="json").status_code == 200
    return created["id"]


def test_runs_logged_through_the_api_are_searched_picked_and_compared(project, sign_in, page_problems):
    owner = project.memberships.get().user
    experiment_id = _log_two_runs(owner, project)
    page = sign_in(owner.username)
    page.goto(f"/p/{project.slug}/experiments/")
    page.get_by_role("link", name="churn").click()
    expect(page).to_have_url(re.compile(rf"/experiments/{experiment_id}/$"))
    table = page.locator("#runs")
    expect(table.locator("tbody tr")).to_have_count(2)

    # A malformed filter says where, inline; a good one narrows the table.
    page.get_by_label("Search runs").fill("metrics.auc > 0.9 or params.a = 1")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#search-error")).to_contain_text("at position 19 is not supported")
    page.get_by_label("Search runs").fill("metrics.auc > 0.9")
    page.get_by_role("button", name="Search").click()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).to_contain_text("deep")
    page.get_by_label("Search runs").fill("tags.team = 'vision'")
    page.get_by_role("button", name="Search").click()
    expect(table.locator("tbody tr")).to_have_count(2)

    page.get_by_label("Pick deep").check()
    page.get_by_label("Pick shallow").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Compare selected runs").click()
    expect(page.get_by_role("heading", name="Compare 2 runs")).to_be_visible()
    expect(page.locator('tr.differs[data-key="max_depth"]')).to_be_visible()
    expect(page.locator('tr[data-key="algorithm"]')).not_to_have_class(re.compile("differs"))
    expect(page.locator('[data-plotly="chart-curve-1"] svg.main-svg').first).to_be_visible()
    expect(page.locator('[data-plotly="chart-parcoords"] svg.main-svg').first).to_be_visible()
    expect(page.locator('[data-plotly="chart-scatter"] svg.main-svg').first).to_be_visible()
    screenshot(page, "experiments-compare")
    page.get_by_role("link", name="Show only differences").click()
    expect(page.locator('tr[data-key="algorithm"]')).to_have_count(0)
    expect(page.locator('tr.differs[data-key="max_depth"]')).to_be_visible()
    page_problems.assert_none()
