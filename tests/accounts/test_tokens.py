"""Personal access tokens: made on the settings page, shown once, stored hashed, scoped,
expiring, revocable; and the session of the site's own JavaScript, with CSRF."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.apiclient import bearer, error_of, token_for
from trainy.accounts.models import AccessToken
from trainy.accounts.services import MAX_TOKENS, TOKEN_PREFIX, token_create, token_revoke
from trainy.accounts.views import NEW_TOKEN_SESSION_KEY

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
TOKENS = reverse("accounts:tokens")


def test_only_the_hash_of_the_secret_is_stored(alice):
    made = token_create(user=alice, name="phone", scopes=["read"])
    assert made.secret.startswith(TOKEN_PREFIX) and len(made.secret) >= len(TOKEN_PREFIX) + 43
    row = AccessToken.objects.get(pk=made.token.pk)
    assert row.secret_hash == hashlib.sha256(made.secret.encode()).hexdigest()
    stored = " ".join(str(value) for value in AccessToken.objects.values_list().get())
    assert made.secret not in stored and made.secret[len(TOKEN_PREFIX) :] not in stored


def test_a_token_acts_as_its_traveller(alice):
    response = bearer(token_for(alice, ("read",))).get(ME)
    assert response.status_code == 200 and response.json()["username"] == "alice"


@pytest.mark.parametrize(
    ("name", "scopes", "field"),
    [("", ["read"], "name"), ("   ", ["read"], "name"), ("x", [], "scopes"),
     ("x", ["read", "admin"], "scopes")],
)  # fmt: skip
def test_a_token_needs_a_name_and_known_scopes(alice, name, scopes, field):
    with pytest.raises(ValidationError) as raised:
        token_create(user=alice, name=name, scopes=scopes)
    assert field in raised.value.message_dict
    assert not AccessToken.objects.exists()


def test_an_expiry_in_the_past_is_refused(alice):
    with pytest.raises(ValidationError):
        token_create(
            user=alice, name="x", scopes=["read"], expires_at=timezone.now() - timedelta(days=1)
        )


def test_a_traveller_has_at_most_so_many_live_tokens(alice):
    for number in range(MAX_TOKENS):
        token_create(user=alice, name=f"t{number}", scopes=["read"])
    with pytest.raises(ValidationError):
        token_create(user=alice, name="one too many", scopes=["read"])
    token_revoke(user=alice, token_id=AccessToken.objects.first().pk)
    token_create(user=alice, name="in place of a revoked one", scopes=["read"])


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer " + "x" * 300, f"Bearer {TOKEN_PREFIX}nothing-like-it",
     "Bearer trainy_pat_é"],
)  # fmt: skip
def test_a_malformed_or_unknown_token_is_401(alice, header):
    response = Client(headers={"Authorization": header}).get(ME)
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


def test_a_revoked_token_is_401_and_the_others_still_work(alice):
    kept, revoked = token_for(alice), token_for(alice)
    row = AccessToken.objects.get(hint=revoked[-4:])
    assert token_revoke(user=alice, token_id=row.pk)
    assert bearer(revoked).get(ME).status_code == 401
    assert bearer(kept).get(ME).status_code == 200
    assert not token_revoke(user=alice, token_id=row.pk)  # once


def test_nobody_revokes_someone_elses_token(alice, bob):
    secret = token_for(alice)
    assert not token_revoke(user=bob, token_id=AccessToken.objects.get().pk)
    assert bearer(secret).get(ME).status_code == 200


def test_an_expired_token_is_401(alice):
    secret = token_for(alice, expires_at=timezone.now() + timedelta(days=1))
    assert bearer(secret).get(ME).status_code == 200
    AccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = bearer(secret).get(ME)
    assert response.status_code == 401
    assert error_of(response)["message"] == "The token is unknown, expired or revoked."


def test_the_token_of_a_traveller_whose_sign_in_is_blocked_is_401(alice):
    secret = token_for(alice)
    alice.is_active = False
    alice.save()
    assert bearer(secret).get(ME).status_code == 401


def test_last_use_is_written_at_most_once_a_minute(alice):
    client = bearer(token_for(alice))
    client.get(ME)
    first = AccessToken.objects.get().last_used_at
    assert first is not None
    client.get(ME)
    assert AccessToken.objects.get().last_used_at == first
    AccessToken.objects.update(last_used_at=first - timedelta(seconds=61))
    client.get(ME)
    assert AccessToken.objects.get().last_used_at > first


# --- The settings page ------------------------------------------------------------------------


def secret_on(response) -> str | None:
    found = re.search(r'data-testid="token-secret">([^<]+)<', response.content.decode())
    return found.group(1) if found else None


def test_the_page_makes_a_token_and_shows_its_secret_once(client, alice):
    client.force_login(alice)
    response = client.post(TOKENS, {"name": "phone", "scopes": ["read", "social"],
                                    "expires_in_days": "30"})  # fmt: skip
    # POST/redirect/GET: the answer to the POST is a redirect to the page.
    assert response.status_code == 302 and response["Location"] == TOKENS
    shown = client.get(TOKENS)
    secret = secret_on(shown)
    assert secret is not None
    assert "no-store" in shown["Cache-Control"]
    token = AccessToken.objects.get()
    assert (token.name, token.scopes) == ("phone", ["read", "social"])
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert bearer(secret).get(ME).status_code == 200
    listed = client.get(TOKENS).content.decode()
    assert "phone" in listed and secret not in listed and token.hint in listed


def test_reloading_the_page_after_making_a_token_makes_no_second_one(client, alice):
    client.force_login(alice)
    made = client.post(TOKENS, {"name": "phone", "scopes": ["read"]}, follow=True)
    assert made.redirect_chain == [(TOKENS, 302)]
    secret = secret_on(made)
    assert secret is not None
    # A reload repeats the last request, which is now the GET: no token made, no secret shown.
    reloaded = client.get(TOKENS)
    assert secret_on(reloaded) is None and secret not in reloaded.content.decode()
    assert AccessToken.objects.count() == 1
    assert NEW_TOKEN_SESSION_KEY not in client.session


def test_the_page_offers_every_scope_settings_included(client, alice):
    client.force_login(alice)
    page = client.get(TOKENS).content.decode()
    for scope in ("read", "checkins:write", "social", "settings", "exports", "webhooks"):
        assert f'value="{scope}"' in page, scope


def test_the_page_says_what_is_wrong_with_the_form(client, alice):
    client.force_login(alice)
    response = client.post(TOKENS, {"name": "", "expires_in_days": "30"})
    page = response.content.decode()
    assert response.status_code == 200 and "Pick at least one scope." in page
    assert not AccessToken.objects.exists() and "token-secret" not in page


def test_the_page_revokes_a_token(client, alice):
    secret = token_for(alice)
    client.force_login(alice)
    response = client.post(TOKENS, {"revoke": str(AccessToken.objects.get().pk)}, follow=True)
    assert "Token revoked" in response.content.decode()
    assert bearer(secret).get(ME).status_code == 401
    assert "revoked" in client.get(TOKENS).content.decode()


def test_the_page_does_not_revoke_someone_elses_token(client, alice, bob):
    secret = token_for(bob)
    client.force_login(alice)
    client.post(TOKENS, {"revoke": str(AccessToken.objects.get().pk)})
    assert bearer(secret).get(ME).status_code == 200


def test_the_page_needs_signing_in(client):
    assert client.get(TOKENS).status_code == 302


# --- The site's own JavaScript: the session, with CSRF ----------------------------------------


def test_the_session_works_for_reads_and_needs_the_csrf_token_for_writes(alice):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.get(ME).status_code == 200
    refused = browser.patch(ME, {"likes_enabled": False}, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in error_of(refused)["message"]
    browser.get(reverse("accounts:settings"))  # sets the CSRF cookie, as a page does
    csrf = browser.cookies["csrftoken"].value
    allowed = browser.patch(ME, {"likes_enabled": False}, content_type="application/json",
                            headers={"X-CSRFToken": csrf})  # fmt: skip
    assert allowed.status_code == 200
    alice.refresh_from_db()
    assert alice.likes_enabled is False


def test_a_token_needs_no_csrf_token(alice):
    client = Client(
        enforce_csrf_checks=True, headers={"Authorization": f"Bearer {token_for(alice)}"}
    )
    response = client.patch(ME, {"likes_enabled": False}, content_type="application/json")
    assert response.status_code == 200


# --- The admin ---------------------------------------------------------------------------------

ADMIN_TOKENS = "/admin/accounts/accesstoken/"


def test_an_admin_finds_and_revokes_a_travellers_token_but_never_sees_its_secret(
    admin_client, alice
):
    secret = token_for(alice)
    token = AccessToken.objects.get()
    listing = admin_client.get(ADMIN_TOKENS, {"q": "alice"})
    assert listing.status_code == 200 and token.hint in listing.content.decode()
    page = admin_client.get(f"{ADMIN_TOKENS}{token.pk}/change/").content.decode()
    assert token.secret_hash not in page and secret not in page
    admin_client.post(ADMIN_TOKENS, {"action": "revoke", "_selected_action": [token.pk]})
    assert bearer(secret).get(ME).status_code == 401
    assert admin_client.get(f"{ADMIN_TOKENS}add/").status_code == 403
