"""The API docs page renders Swagger UI from the studio's own static files, within the Content-Security-Policy."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_the_api_docs_page_renders_swagger_ui_from_local_files_without_csp_violations(
    make_user, live_server, sign_in, page_problems
):
    make_user("api-user")
    page = sign_in("api-user")
    external = []
    page.on("request", lambda request: request.url.startswith(live_server.url) or request.url.startswith("data:")
            or external.append(request.url))

    response = page.goto("/api/v1/docs/")

    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]  # no exemption for the docs

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("ML Studio API")
    expect(page.locator(".swagger-ui .info")).to_contain_text("Authorization: Token <key>")
    expect(page.get_by_role("link", name="/api/v1/schema/")).to_be_visible()
    for path in ("/api/v1/jobs/", "/api/v1/datasets/"):
        expect(page.locator(".opblock-summary-path", has_text=path).first).to_be_visible()

    # "Try it out" calls the API from the page with the browser's session.
    operation = page.locator("#operations-jobs-jobs_list")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".live-responses-table .response .response-col_status").first).to_have_text("200")
    expect(operation.locator(".live-responses-table")).to_contain_text('"count": 0')
    assert external == []
    page_problems.assert_none()
