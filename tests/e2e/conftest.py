"""Playwright driving Debian's Chromium (never a downloaded browser) against the live server."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.factories import PASSWORD

CHROMIUM = os.environ.get("TRAINY_CHROMIUM", "/usr/bin/chromium")
# Flags for a sandbox without network: no background traffic to Google, no first-run UI.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/services install)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 420, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page: Page, username: str) -> None:
    """Signs in with the factories' password on the sign-in form, as a traveller does."""
    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_test_id("account")).to_contain_text("Signed in as")


def field(page: Page, label: str):
    return page.get_by_label(f"{label}:", exact=True)


def fill_manual_checkin(page: Page, *, arrival: str) -> None:
    """From any page: open "Check in by hand" and fill in an RE 1 from Berlin Ostbahnhof to
    Frankfurt (Oder) leaving 2026-11-20 17:00 and arriving at ``arrival``; not sent yet."""
    page.get_by_role("link", name="Check in").first.click()
    page.get_by_role("link", name="Check in by hand").click()
    field(page, "Line").fill("RE 1")
    field(page, "Mode").select_option("regional")
    field(page, "From").fill("Berlin Ostbahnhof")
    field(page, "To").fill("Frankfurt (Oder)")
    field(page, "Departure").fill("2026-11-20T17:00")
    field(page, "Arrival").fill(arrival)
