"""Signing in, the navigation shell, unbuilt areas and error pages, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.browser]

AREAS = ["Data", "Labeling", "Features", "Training", "Experiments", "Models", "Endpoints", "Monitoring",
         "Pipelines", "Jobs"]


def test_a_superuser_signs_in_and_the_navigation_shows_every_area(make_user, project, sign_in, page_problems):
    from apps.core.models import Membership

    admin = make_user("ada", superuser=True)
    Membership.objects.create(project=project, user=admin, role="admin")

    page = sign_in("ada")

    expect(page.get_by_role("heading", name="Your projects")).to_be_visible()
    expect(page.get_by_role("link", name="Alpha")).to_be_visible()
    nav = page.get_by_role("navigation", name="Areas")
    expect(nav.get_by_role("link")).to_have_text(AREAS + ["Admin"])
    switcher = page.get_by_label("Project")
    expect(switcher.locator("option:checked")).to_have_text("Choose a project…")

    switcher.select_option(label="Alpha")

    expect(page).to_have_url(re.compile(rf"/p/{project.slug}/data/$"))
    expect(page.get_by_label("Project").locator("option:checked")).to_have_text("Alpha")
    page_problems.assert_none()


def test_a_member_sees_every_area_but_not_admin_and_an_unbuilt_area_says_so(member, project, sign_in, page_problems):
    member("analyst", "bea")

    page = sign_in("bea")
    page.get_by_role("link", name="Alpha").click()
    expect(page).to_have_url(re.compile(rf"/p/{project.slug}/data/$"))
    nav = page.get_by_role("navigation", name="Areas")
    expect(nav.get_by_role("link")).to_have_text(AREAS)

    nav.get_by_role("link", name="Labeling").click()

    expect(page).to_have_url(re.compile(rf"/p/{project.slug}/labeling/$"))
    expect(page.get_by_role("heading", name="Labeling")).to_be_visible()
    expect(page.get_by_text("Not built yet.")).to_be_visible()
    expect(nav.get_by_role("link", name="Labeling")).to_have_class(re.compile(r"\bactive\b"))
    page_problems.assert_none()


def test_a_wrong_password_shows_an_inline_error_and_keeps_the_user_on_the_form(make_user, browser_page, page_problems):
    make_user("cy")
    page = browser_page
    page.goto("/accounts/login/")
    expect(page).to_have_title("Sign in · ML Studio")
    expect(page.locator("header .brand")).to_have_text("ML Studio")
    page.get_by_label("Username").fill("cy")
    page.get_by_label("Password").fill(PASSWORD + "-wrong")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text(re.compile(r"username and password", re.I))
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_label("Username")).to_have_value("cy")
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_role("navigation", name="Areas")).to_have_count(0)
    page_problems.assert_none()


def test_an_unknown_address_shows_a_friendly_not_found_page(make_user, sign_in, page_problems):
    make_user("dee")
    page = sign_in("dee")

    page_problems.expect_error_status("/p/no-such-project/data/")
    response = page.goto("/p/no-such-project/data/")

    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_role("link", name="Back to your projects")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Traceback")
    page_problems.assert_none()


def test_the_browser_harness_reports_a_script_blocked_by_the_content_security_policy(make_user, sign_in,
                                                                                     page_problems):
    make_user("eve")
    page = sign_in("eve")
    assert page_problems.console_errors == []

    with page.expect_console_message(lambda message: "CSP violation" in message.text):
        page.evaluate("""() => { const s = document.createElement("script"); s.textContent = "window.ran = 1";
                                  document.body.appendChild(s); }""")

    assert page.evaluate("() => window.ran") is None
    assert any("CSP violation: script-src" in e for e in page_problems.console_errors), page_problems.console_errors


def test_a_script_inside_an_htmx_fragment_is_blocked_by_the_content_security_policy(make_user, sign_in,
                                                                                    page_problems):
    make_user("finn")
    page = sign_in("finn")

    with page.expect_console_message(lambda message: "CSP violation" in message.text):
        page.evaluate("""() => htmx.swap("#flash", '<p id="swapped">swapped</p><script>window.ran = 1</script>' +
                                         '<script type="application/json" id="figure">{"data": []}</script>',
                                         {swapStyle: "innerHTML"})""")

    expect(page.locator("#swapped")).to_have_text("swapped")
    assert page.evaluate("() => window.ran") is None
    # Chart data (JSON script tags) in a fragment survives the swap; only executable scripts are refused.
    assert page.evaluate("() => JSON.parse(document.getElementById('figure').textContent)") == {"data": []}
