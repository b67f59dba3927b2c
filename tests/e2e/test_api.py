"""The API from a traveller's side: a token made on the settings page works in a plain HTTP
request (as curl would send it) until it is revoked there; the docs page runs under the CSP."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_token_made_on_the_settings_page_works_until_it_is_revoked(page: Page, live_server):
    UserFactory(username="rosa", display_name="Rosa")
    sign_in(page, "rosa")
    page.goto("/settings/")
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("my script")
    page.get_by_label("Read journeys, stations and the profile").check()
    page.get_by_label("Expires after").select_option(label="30 days")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_test_id("token-secret").inner_text().strip()
    assert secret.startswith("trainy_pat_")

    me = f"{live_server.url}/api/v1/me/"
    headers = {"Authorization": f"Bearer {secret}"}
    answer = requests.get(me, headers=headers, timeout=10)
    assert answer.status_code == 200 and answer.json()["username"] == "rosa"
    refused = requests.patch(me, json={"likes_enabled": False}, headers=headers, timeout=10)
    assert refused.status_code == 403  # the token may read, not change settings

    page.goto("/settings/tokens/")  # the secret was on that one answer only
    expect(page.get_by_test_id("token-secret")).to_have_count(0)
    row = page.get_by_test_id("tokens").get_by_role("row", name="my script")
    expect(row).to_contain_text("ago")  # its last use, just now
    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("Token revoked")).to_be_visible()

    gone = requests.get(me, headers=headers, timeout=10)
    assert gone.status_code == 401
    assert gone.json()["error"]["code"] == "authentication_failed"


def test_the_docs_page_shows_the_operations_without_breaking_the_csp(page: Page):
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto("/api/docs/")
    expect(page.get_by_role("heading", name="Trainy API")).to_be_visible()
    # One path has several operations (GET, PATCH, DELETE): each is shown under its own id.
    expect(page.locator("#operations-journeys-journey_get")).to_be_visible()
    expect(page.locator("#operations-checkins-checkins_create")).to_be_visible()
    assert violations == []
