"""Headless Chromium (Debian's `chromium`, driven by Playwright's sync API) against pytest-django's live server.

`browser_page` is a fresh page in a fresh browser context that records console errors, uncaught page errors
and Content-Security-Policy violations; every browser test ends by asserting that none happened
(`page_problems.assert_none()`), so a blocked inline script or a broken asset fails the test that saw it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("STUDIO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
    "--no-first-run", "--disable-component-update", "--disable-sync",
]
PASSWORD = "a-long-test-password"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# Installed before any page script runs: CSP violations become entries the test can read back.
RECORD_CSP = """
window.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                " at " + (e.sourceFile || document.location.href) + ":" + e.lineNumber);
});
"""


@dataclass
class PageProblems:
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)

    def expect_error_status(self, url_suffix: str) -> None:
        """The test loads `url_suffix` on purpose for an error page: the browser's "Failed to load resource"
        for that one address is not a problem."""
        self.expected.append(url_suffix)

    def assert_none(self) -> None:
        problems = [e for e in self.console_errors + self.page_errors
                    if not any("Failed to load resource" in e and e.endswith(f"{s})") for s in self.expected)]
        assert not problems, "the browser reported problems:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def chromium():
    """One browser per test module: Playwright's event loop and the ORM allowance below end with the module."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)")
    # Playwright's sync API runs an event loop in this thread, and Django's ORM refuses to run "inside" one.
    # Allowed only while browser tests run, so the rest of the suite keeps Django's check.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    # launch() gives the browser a fresh temporary profile (user-data dir), removed when it closes.
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page_problems():
    return PageProblems()


@pytest.fixture
def browser_page(chromium, live_server, page_problems):
    """A page in a fresh context (no cookies) whose base URL is the live server."""
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.add_init_script(RECORD_CSP)
    page.on("console", lambda msg: msg.type == "error" and page_problems.console_errors.append(
        f"console error on {page.url}: {msg.text} ({msg.location.get('url')})"))
    page.on("pageerror", lambda exc: page_problems.page_errors.append(f"uncaught error on {page.url}: {exc}"))
    yield page
    context.close()


@pytest.fixture
def sign_in(browser_page):
    """Sign in through the login form; returns the page on the page the login redirected to."""

    def sign(username: str, password: str = PASSWORD):
        browser_page.goto("/accounts/login/")
        browser_page.get_by_label("Username").fill(username)
        browser_page.get_by_label("Password").fill(password)
        with browser_page.expect_navigation():
            browser_page.get_by_role("button", name="Sign in").click()
        return browser_page

    return sign


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
