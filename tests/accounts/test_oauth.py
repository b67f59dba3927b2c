"""OAuth2 apps (django-oauth-toolkit): travellers register apps on /settings/apps/; an app gets a
token by the authorization code flow with PKCE through the consent page, uses the API with the
scopes the traveller allowed (the same rule as personal access tokens), refreshes, and loses
access when the token is revoked, the traveller takes access back or the app is deleted."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from oauth2_provider.models import AccessToken as OAuthAccessToken
from oauth2_provider.models import Application

from tests.apiclient import bearer, error_of, token_for
from tests.oauthclient import REDIRECT_URI, authorize_url, hidden_fields, pkce_pair, query_of
from trainy.accounts.models import Scope
from trainy.accounts.services import MAX_REDIRECT_URIS, NewApp, oauth_app_create

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
APPS = reverse("accounts:apps")
TOKEN = "/oauth/token/"


def register(user, *, confidential: bool = True, name: str = "Journey log") -> NewApp:
    return oauth_app_create(
        user=user, name=name, redirect_uris=[REDIRECT_URI], confidential=confidential
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def consent(browser: Client, new: NewApp, *, scope: str | None = "read", allow: bool = True):
    """The traveller's side: the consent page for the app's request, then Allow (or Deny).
    The PKCE verifier and the POST's answer (the redirect back to the app)."""
    verifier, challenge = pkce_pair()
    page = browser.get(authorize_url(new.app.client_id, scope=scope, challenge=challenge))
    assert page.status_code == 200, page.content[:500]
    fields = hidden_fields(page.content.decode())
    if allow:
        fields["allow"] = "on"
    return verifier, browser.post("/oauth/authorize/", fields)


def exchange(new: NewApp, code: str, verifier: str) -> dict:
    """The app's side: the code for tokens (client_secret_post for a confidential app)."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "client_id": new.app.client_id, "code_verifier": verifier}  # fmt: skip
    if new.secret:
        data["client_secret"] = new.secret
    answer = Client().post(TOKEN, data)
    assert answer.status_code == 200, answer.content
    return answer.json()


def tokens_for(user, new: NewApp, scope: str | None = "read") -> dict:
    verifier, answer = consent(signed_in(user), new, scope=scope)
    return exchange(new, query_of(answer["Location"])["code"], verifier)


# --- The flow -----------------------------------------------------------------------------------


def test_an_app_gets_a_token_by_code_and_pkce_uses_it_refreshes_and_revokes_it(alice):
    new = register(alice)
    browser = signed_in(alice)
    verifier, challenge = pkce_pair()
    page = browser.get(authorize_url(new.app.client_id, scope="read social", challenge=challenge))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Allow Journey log to use your Trainy account?" in html
    assert escape(Scope.READ.label) in html and escape(Scope.SOCIAL.label) in html
    assert Scope.EXPORTS.label not in html
    assert 'href="/static/' in html  # the site's layout (base.html), not the toolkit's

    fields = hidden_fields(html) | {"allow": "on"}
    back = browser.post("/oauth/authorize/", fields)
    assert back.status_code == 302 and back["Location"].startswith(REDIRECT_URI + "?")
    returned = query_of(back["Location"])
    assert returned["state"] == "st4te" and returned["iss"]  # RFC 9207's issuer

    tokens = exchange(new, returned["code"], verifier)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert set(tokens["scope"].split()) == {"read", "social"}
    me = bearer(tokens["access_token"]).get(ME)
    assert me.status_code == 200 and me.json()["username"] == "alice"
    # Stored hashed, as personal access tokens are: the table holds no usable token.
    assert not OAuthAccessToken.objects.filter(token=tokens["access_token"]).exists()

    refreshed = Client().post(TOKEN, {
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": new.app.client_id, "client_secret": new.secret,
    })  # fmt: skip
    assert refreshed.status_code == 200, refreshed.content
    fresh = refreshed.json()
    assert fresh["refresh_token"] != tokens["refresh_token"]  # rotated
    assert bearer(tokens["access_token"]).get(ME).status_code == 401  # the old one ended
    assert bearer(fresh["access_token"]).get(ME).status_code == 200

    revoked = Client().post("/oauth/revoke_token/", {
        "token": fresh["access_token"], "client_id": new.app.client_id,
        "client_secret": new.secret,
    })  # fmt: skip
    assert revoked.status_code == 200
    gone = bearer(fresh["access_token"]).get(ME)
    assert gone.status_code == 401
    assert error_of(gone)["code"] == "authentication_failed"


def test_a_public_app_gets_a_token_with_pkce_alone(alice):
    new = register(alice, confidential=False)
    assert new.secret is None
    tokens = tokens_for(alice, new)
    assert bearer(tokens["access_token"]).get(ME).status_code == 200


def test_the_consent_page_lets_its_form_lead_to_the_apps_redirect_uri_only(alice):
    # Browsers hold the redirect after the form's POST to form-action: without the app's
    # origin there, Allow would end on a blocked navigation (tests/e2e/test_oauth.py).
    new = register(alice)
    _, challenge = pkce_pair()
    page = signed_in(alice).get(authorize_url(new.app.client_id, challenge=challenge))
    policy = page["Content-Security-Policy"]
    form_action = next(d for d in policy.split(";") if d.strip().startswith("form-action"))
    assert form_action.split()[1:] == ["'self'", "https://client.example.org"]
    assert "client.example.org" not in signed_in(alice).get(APPS)["Content-Security-Policy"]


def test_a_request_without_pkce_is_refused(alice):
    new = register(alice)
    answer = signed_in(alice).get(authorize_url(new.app.client_id))
    # The redirect URI is the app's own, so the error goes back to it (RFC 6749 4.1.2.1).
    assert answer.status_code == 302
    returned = query_of(answer["Location"])
    assert returned["error"] == "invalid_request" and "code" not in returned


def test_the_plain_pkce_method_gets_no_code(alice):
    new = register(alice)
    verifier, _ = pkce_pair()
    browser = signed_in(alice)
    page = browser.get(authorize_url(new.app.client_id, challenge=verifier, method="plain"))
    answer = browser.post(
        "/oauth/authorize/", hidden_fields(page.content.decode()) | {"allow": "on"}
    )
    assert answer.status_code == 302
    returned = query_of(answer["Location"])
    assert returned["error"] == "invalid_request" and "code" not in returned


def test_the_implicit_grant_is_refused(alice):
    new = register(alice)
    _, challenge = pkce_pair()
    answer = signed_in(alice).get(
        authorize_url(new.app.client_id, challenge=challenge, response_type="token")
    )
    assert answer.status_code in (302, 400)
    assert "access_token" not in answer.get("Location", "")


def test_a_wrong_verifier_gets_no_token(alice):
    new = register(alice)
    _, answer = consent(signed_in(alice), new)
    wrong, _ = pkce_pair()
    refused = Client().post(TOKEN, {
        "grant_type": "authorization_code", "code": query_of(answer["Location"])["code"],
        "redirect_uri": REDIRECT_URI, "client_id": new.app.client_id,
        "client_secret": new.secret, "code_verifier": wrong,
    })  # fmt: skip
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_a_wrong_client_secret_gets_no_token(alice):
    new = register(alice)
    verifier, answer = consent(signed_in(alice), new)
    refused = Client().post(TOKEN, {
        "grant_type": "authorization_code", "code": query_of(answer["Location"])["code"],
        "redirect_uri": REDIRECT_URI, "client_id": new.app.client_id,
        "client_secret": "not-the-secret", "code_verifier": verifier,
    })  # fmt: skip
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"


def test_deny_sends_the_traveller_back_with_access_denied(alice):
    new = register(alice)
    _, answer = consent(signed_in(alice), new, allow=False)
    assert answer.status_code == 302 and answer["Location"].startswith(REDIRECT_URI)
    returned = query_of(answer["Location"])
    assert returned["error"] == "access_denied" and returned["state"] == "st4te"
    assert "code" not in returned


def test_an_unknown_app_gets_an_error_page_and_no_redirect(alice):
    _, challenge = pkce_pair()
    page = signed_in(alice).get(authorize_url("no-such-client", challenge=challenge))
    assert page.status_code == 400
    assert 'data-testid="oauth-error"' in page.content.decode()


def test_a_consent_posted_for_an_app_that_is_gone_is_a_400(alice):
    new = register(alice)
    _, challenge = pkce_pair()
    browser = signed_in(alice)
    page = browser.get(authorize_url(new.app.client_id, challenge=challenge))
    new.app.delete()  # while the consent page was open
    answer = browser.post(
        "/oauth/authorize/", hidden_fields(page.content.decode()) | {"allow": "on"}
    )
    assert answer.status_code == 400
    assert "No app has this client ID." in answer.content.decode()


def test_the_consent_page_asks_to_sign_in_first(alice):
    new = register(alice)
    _, challenge = pkce_pair()
    answer = Client().get(authorize_url(new.app.client_id, challenge=challenge))
    assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")


# --- Scopes and authentication on the API -----------------------------------------------------


def test_an_app_token_without_the_operations_scope_gets_403(alice):
    tokens = tokens_for(alice, register(alice), scope="read")
    api = bearer(tokens["access_token"])
    assert api.get(ME).status_code == 200
    refused = api.patch(ME, {"likes_enabled": False}, content_type="application/json")
    assert refused.status_code == 403
    assert "“settings”" in error_of(refused)["message"]


def test_an_app_token_with_the_scope_may_write(alice):
    tokens = tokens_for(alice, register(alice), scope="read settings")
    answer = bearer(tokens["access_token"]).patch(
        ME, {"likes_enabled": False}, content_type="application/json"
    )
    assert answer.status_code == 200
    alice.refresh_from_db()
    assert alice.likes_enabled is False


def test_an_app_asking_for_no_scope_gets_read_only(alice):
    tokens = tokens_for(alice, register(alice), scope=None)
    assert tokens["scope"] == "read"


@pytest.mark.parametrize("secret", ["abc", "x" * 300, "trainy_pat_nothing-like-it"])
def test_an_unknown_bearer_token_of_either_kind_gets_401(secret):
    answer = bearer(secret).get(ME)
    assert answer.status_code == 401
    assert error_of(answer)["code"] == "authentication_failed"
    assert answer["WWW-Authenticate"].startswith("Bearer")


def test_personal_and_app_tokens_work_side_by_side(alice, bob):
    app_token = tokens_for(alice, register(alice))["access_token"]
    personal = token_for(bob, ("read",))
    assert bearer(app_token).get(ME).json()["username"] == "alice"
    assert bearer(personal).get(ME).json()["username"] == "bob"
    # An app's token with the personal tokens' prefix would be looked up as one: none has it.
    assert not app_token.startswith("trainy_pat_")


def test_an_expired_app_token_gets_401(alice):
    tokens = tokens_for(alice, register(alice))
    OAuthAccessToken.objects.filter(user=alice).update(expires=timezone.now() - timedelta(1))
    assert bearer(tokens["access_token"]).get(ME).status_code == 401


def test_the_app_token_of_a_traveller_whose_sign_in_is_blocked_gets_401(alice):
    tokens = tokens_for(alice, register(alice))
    alice.is_active = False
    alice.save()
    answer = bearer(tokens["access_token"]).get(ME)
    assert answer.status_code == 401
    assert error_of(answer)["code"] == "authentication_failed"


def test_an_app_token_in_the_query_string_is_not_accepted(alice):
    tokens = tokens_for(alice, register(alice))
    assert Client().get(f"{ME}?access_token={tokens['access_token']}").status_code == 401


def test_an_apps_limit_counts_per_traveller_across_refreshes(settings, full_stack, alice):
    settings.TRAINY_API_RATE_TOKEN = 2
    settings.TRAINY_API_RATE_USER = 100
    if time.time() % 60 > 50:  # a fresh minute: the counts are per minute
        time.sleep(61 - time.time() % 60)
    new = register(alice)
    tokens = tokens_for(alice, new)
    api = bearer(tokens["access_token"])
    assert [api.get(ME).status_code for _ in range(3)] == [200, 200, 429]
    fresh = Client().post(TOKEN, {
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": new.app.client_id, "client_secret": new.secret,
    }).json()  # fmt: skip
    refused = bearer(fresh["access_token"]).get(ME)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    # Another app of hers, and her personal tokens, have counts of their own.
    other = tokens_for(alice, register(alice, name="Other"))
    assert bearer(other["access_token"]).get(ME).status_code == 200
    assert bearer(token_for(alice)).get(ME).status_code == 200


# --- The settings page ----------------------------------------------------------------------------


def test_the_settings_page_registers_an_app_and_shows_its_secret_once(alice):
    page = signed_in(alice)
    answer = page.post(APPS, {"name": "Journey log", "redirect_uris": REDIRECT_URI,
                              "client_type": "confidential"})  # fmt: skip
    assert answer.status_code == 200
    html = answer.content.decode()
    app = Application.objects.get(user=alice)
    assert app.client_id in html
    secret = html.split('data-testid="client-secret">')[1].split("<")[0]
    assert len(secret) >= 64
    assert app.client_secret != secret and check_password(secret, app.client_secret)  # hashed
    assert app.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    again = page.get(APPS).content.decode()
    assert secret not in again and app.client_id in again


def test_a_public_app_is_registered_without_a_secret(alice):
    answer = signed_in(alice).post(
        APPS, {"name": "Phone", "redirect_uris": REDIRECT_URI, "client_type": "public"}
    )
    assert 'data-testid="client-secret"' not in answer.content.decode()
    assert Application.objects.get(user=alice).client_type == Application.CLIENT_PUBLIC


@pytest.mark.parametrize(
    ("uris", "message"),
    [
        ("", "This field is required."),
        ("http://client.example.org/callback", "redirect"),
        ("https://client.example.org/cb#fragment", "redirect"),
        (" ".join(f"https://c.example.org/{n}" for n in range(MAX_REDIRECT_URIS + 1)), "At most"),
    ],
)
def test_bad_redirect_uris_are_refused_with_a_message(alice, uris, message):
    answer = signed_in(alice).post(
        APPS, {"name": "Journey log", "redirect_uris": uris, "client_type": "confidential"}
    )
    assert answer.status_code == 400
    assert message in answer.content.decode()
    assert not Application.objects.filter(user=alice).exists()


def test_the_app_can_be_deleted_by_its_owner_and_its_tokens_end(alice):
    new = register(alice)
    tokens = tokens_for(alice, new)
    answer = signed_in(alice).post(reverse("accounts:app_delete", args=[new.app.pk]))
    assert answer.status_code == 302
    assert not Application.objects.filter(pk=new.app.pk).exists()
    assert bearer(tokens["access_token"]).get(ME).status_code == 401


def test_someone_elses_app_cannot_be_deleted(alice, bob):
    new = register(alice)
    answer = signed_in(bob).post(reverse("accounts:app_delete", args=[new.app.pk]))
    assert answer.status_code == 404
    assert Application.objects.filter(pk=new.app.pk).exists()


def test_revoking_access_on_the_settings_page_ends_the_apps_tokens(alice, bob):
    # Bob's app, which Alice allowed: she sees it among the apps she allowed, not her own.
    new = register(bob)
    tokens = tokens_for(alice, new, scope="read social")
    page = signed_in(alice)
    listing = page.get(APPS).content.decode()
    assert f'data-testid="authorized-{new.app.pk}"' in listing
    assert escape(Scope.SOCIAL.label) in listing
    assert f'data-testid="app-{new.app.pk}"' not in listing

    answer = page.post(reverse("accounts:app_revoke", args=[new.app.pk]))
    assert answer.status_code == 302
    assert bearer(tokens["access_token"]).get(ME).status_code == 401
    refused = Client().post(TOKEN, {
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": new.app.client_id, "client_secret": new.secret,
    })  # fmt: skip
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert f'data-testid="authorized-{new.app.pk}"' not in page.get(APPS).content.decode()
    # Nothing left to revoke: as for an app that never had access.
    assert page.post(reverse("accounts:app_revoke", args=[new.app.pk])).status_code == 404


def test_revoking_ones_own_access_leaves_other_travellers_tokens(alice, bob):
    new = register(bob)
    alices = tokens_for(alice, new)
    bobs = tokens_for(bob, new)
    signed_in(alice).post(reverse("accounts:app_revoke", args=[new.app.pk]))
    assert bearer(alices["access_token"]).get(ME).status_code == 401
    assert bearer(bobs["access_token"]).get(ME).status_code == 200


# --- The schema -----------------------------------------------------------------------------------


def test_the_schema_describes_the_oauth2_flow_and_each_operations_scope(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    scheme = schema["components"]["securitySchemes"]["oauth2"]
    flow = scheme["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == "/oauth/authorize/"
    assert flow["tokenUrl"] == flow["refreshUrl"] == "/oauth/token/"
    assert set(flow["scopes"]) == set(Scope.values)
    assert {"oauth2": ["read"]} in schema["paths"]["/api/v1/me/"]["get"]["security"]
    assert {"oauth2": ["settings"]} in schema["paths"]["/api/v1/me/"]["patch"]["security"]
