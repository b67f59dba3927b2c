"""An OAuth2 app from both sides: its maker registers it on /settings/apps/, a traveller allows
it on the consent page in Chromium (under the site's CSP), and the app, with plain HTTP requests
as its server would send them, exchanges the code (with its PKCE verifier) for a token and reads
the API; the traveller then takes the access back on the same page."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import sign_in
from tests.factories import UserFactory
from tests.oauthclient import REDIRECT_URI, authorize_url, pkce_pair, query_of
from trainy.accounts.models import Scope

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_app_registered_on_the_settings_page_gets_a_token_through_the_consent_page(
    page: Page, live_server
):
    UserFactory(username="rosa", display_name="Rosa")
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    sign_in(page, "rosa")
    page.goto("/settings/")
    page.get_by_role("link", name="OAuth2 apps").click()
    page.get_by_label("Name").fill("Journey log")
    page.get_by_label("Redirect URIs").fill(REDIRECT_URI)
    page.get_by_label("Confidential: a server that can keep a client secret").check()
    page.get_by_role("button", name="Register app").click()
    client_id = page.get_by_test_id("new-client-id").inner_text().strip()
    secret = page.get_by_test_id("client-secret").inner_text().strip()

    # The app's redirect URI is on another site: the browser's visit there is caught, as the
    # app's server would receive it.
    arrived: list[str] = []

    def app_server(route: Route) -> None:
        arrived.append(route.request.url)
        route.fulfill(status=200, content_type="text/plain", body="the app got its code")

    page.route("https://client.example.org/**", app_server)
    verifier, challenge = pkce_pair()
    page.goto(authorize_url(client_id, scope="read social", challenge=challenge))
    expect(page.get_by_role("heading", name="Allow Journey log to use your Trainy account?"))
    scopes = page.get_by_test_id("requested-scopes")
    expect(scopes).to_contain_text(str(Scope.READ.label))
    expect(scopes).to_contain_text(str(Scope.SOCIAL.label))
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_text("the app got its code")).to_be_visible()
    returned = query_of(arrived[0])
    assert returned["state"] == "st4te"

    base = live_server.url
    answer = requests.post(f"{base}/oauth/token/", data={
        "grant_type": "authorization_code", "code": returned["code"],
        "redirect_uri": REDIRECT_URI, "code_verifier": verifier,
    }, auth=(client_id, secret), timeout=10)  # fmt: skip
    assert answer.status_code == 200, answer.text
    headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    me = requests.get(f"{base}/api/v1/me/", headers=headers, timeout=10)
    assert me.status_code == 200 and me.json()["username"] == "rosa"

    page.goto("/settings/apps/")
    row = page.get_by_test_id("authorized-apps").get_by_role("row", name="Journey log")
    row.get_by_role("button", name="Revoke access").click()
    expect(page.get_by_text("Access revoked")).to_be_visible()
    assert requests.get(f"{base}/api/v1/me/", headers=headers, timeout=10).status_code == 401
    assert violations == []
