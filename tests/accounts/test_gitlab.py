"""trainy/accounts/gitlab.py: GitLab's claims and the rights they give, and the re-check of
signed-in GitLab users (accounts.middleware.GitLabRecheckMiddleware), against the test GitLab
(tests/idp) running in a process of its own: Trainy's side through Django's test client,
GitLab's side over HTTP."""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Iterator

import pytest
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.apps import apps
from django.contrib.sessions.models import Session
from django.test import Client, RequestFactory
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory
from tests.idp.server import GitLabIdP, running
from trainy.accounts.gitlab import Recheck, apply_gitlab_identity, identity, recheck_if_due
from trainy.accounts.models import User, UserSession

pytestmark = pytest.mark.django_db

ADMINS = "kbs610/admins"
# The re-check interval in these tests; sleeping a little longer lets it pass.
INTERVAL = 1
PAST_INTERVAL = INTERVAL + 0.2


# --- Claims and rights ----------------------------------------------------------------------------


def test_admin_rights_come_from_direct_membership_as_in_the_readme_example(settings):
    settings.TRAINY_GITLAB_ALLOWED_GROUPS = ["kbs610"]
    settings.TRAINY_GITLAB_ADMIN_GROUPS = [ADMINS]
    # A plain member of kbs610: GitLab's "groups" lists kbs610/admins too (inherited).
    member = identity(
        id_token={"groups_direct": ["kbs610"]}, userinfo={"groups": ["kbs610", ADMINS]}
    )
    assert member.allowed and not member.admin
    admin = identity(id_token={"groups_direct": [ADMINS]}, userinfo={"groups": [ADMINS]})
    assert admin.allowed and admin.admin


def test_each_group_claim_is_read_from_the_token_gitlab_puts_it_in(settings):
    settings.TRAINY_GITLAB_ALLOWED_GROUPS = ["kbs610"]
    settings.TRAINY_GITLAB_ADMIN_GROUPS = [ADMINS]
    # groups_direct is an ID token claim, groups a userinfo claim; elsewhere they count for nothing.
    misplaced = identity(id_token={"groups": [ADMINS]}, userinfo={"groups_direct": [ADMINS]})
    assert not misplaced.admin and not misplaced.allowed
    assert misplaced.groups == () and misplaced.groups_direct == ()
    # Claims that are not lists of paths give no groups rather than an error.
    assert identity(id_token={"groups_direct": "kbs610/admins"}, userinfo={"groups": 3}) == (
        identity(id_token={}, userinfo={})
    )


def test_names_come_from_the_userinfo_and_fall_back_to_the_id_token():
    gitlab = identity(
        id_token={"email": "ada@example.org"},
        userinfo={"name": "Ada Lovelace", "nickname": "ada", "picture": "https://x/a.png"},
    )
    assert (gitlab.username, gitlab.name, gitlab.email, gitlab.avatar_url) == (
        "ada", "Ada Lovelace", "ada@example.org", "https://x/a.png",
    )  # fmt: skip


def test_applying_gitlab_names_keeps_to_the_lengths_trainy_stores():
    user = User(
        username="long", display_name="Long", avatar_url="https://gitlab.example.org/old.png"
    )
    gitlab = identity(
        id_token={},
        userinfo={"name": "N" * 300, "picture": "https://gitlab.example.org/" + "a" * 600},
    )
    fields = apply_gitlab_identity(user, gitlab, now=timezone.now())
    assert user.display_name == "N" * 150
    assert (
        user.avatar_url == "https://gitlab.example.org/old.png"
    )  # too long to store: the old one stays
    user.full_clean(exclude=["password"])
    assert {"display_name", "avatar_url", "gitlab_confirmed_at"} <= set(fields)


# --- The re-check, against the test GitLab --------------------------------------------------------


@pytest.fixture(scope="module")
def idp(tmp_path_factory) -> Iterator[GitLabIdP]:
    yield from running(tmp_path_factory.mktemp("idp"))


@pytest.fixture
def gitlab(idp: GitLabIdP, settings) -> GitLabIdP:
    idp.register("http://testserver/accounts/oidc/gitlab/login/callback/")
    idp.configure_trainy(settings)
    settings.TRAINY_GITLAB_ADMIN_GROUPS = [ADMINS]
    settings.TRAINY_GITLAB_ALLOWED_GROUPS = ["kbs610"]
    settings.TRAINY_GITLAB_RECHECK_SECONDS = INTERVAL
    return idp


def signed_in(client: Client) -> bool:
    return "Signed in as" in client.get("/").content.decode()


def admin_reachable(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def sign_in(gitlab: GitLabIdP, username: str, **client_options: str) -> Client:
    client = Client(**client_options)
    page = gitlab.sign_in(client, username)
    assert "Signed in as" in page.content.decode(), page.content.decode()[-3000:]
    return client


def test_a_due_recheck_asks_gitlab_once_and_keeps_the_rotated_tokens(gitlab: GitLabIdP):
    gitlab.user("ada", "Ada Lovelace", groups=[ADMINS])
    browser = sign_in(gitlab, "ada")
    ada = User.objects.get(username="ada")
    token = SocialToken.objects.get(account__user=ada)
    assert ada.is_staff and token.token_secret  # the refresh token is kept
    refreshes = gitlab.requests_to("/oauth/token")

    time.sleep(PAST_INTERVAL)
    assert admin_reachable(browser)
    assert signed_in(browser)  # within the interval again: GitLab is not asked
    assert gitlab.requests_to("/oauth/token") == refreshes + 1
    ada.refresh_from_db()
    assert ada.gitlab_confirmed_at > ada.date_joined and ada.is_staff
    rotated = SocialToken.objects.get(account__user=ada)
    assert rotated.token_secret != token.token_secret and rotated.token != token.token

    # The old refresh token is spent: only the stored new one lets the next check succeed.
    time.sleep(PAST_INTERVAL)
    assert admin_reachable(browser)
    assert gitlab.requests_to("/oauth/token") == refreshes + 2


def test_an_admin_removed_from_the_admin_group_loses_the_rights_but_not_the_session(
    gitlab: GitLabIdP,
):
    gitlab.user("grace", "Grace Hopper", groups=[ADMINS])
    browser = sign_in(gitlab, "grace")
    assert admin_reachable(browser)

    gitlab.user("grace", "Grace Hopper Renamed", groups=["kbs610"])
    time.sleep(PAST_INTERVAL)
    assert not admin_reachable(browser)
    assert signed_in(browser)
    grace = User.objects.get(username="grace")
    assert not grace.is_staff and not grace.is_superuser
    assert grace.display_name == "Grace Hopper Renamed"


def test_a_user_the_allowed_groups_no_longer_include_loses_every_session_at_once(
    gitlab: GitLabIdP, bob
):
    gitlab.user("kim", "Kim Member", groups=["kbs610", ADMINS])
    laptop = sign_in(gitlab, "kim", HTTP_USER_AGENT="Laptop")
    phone = sign_in(gitlab, "kim", HTTP_USER_AGENT="Phone")
    other = Client()
    assert other.login(username="bob", password=PASSWORD)
    assert signed_in(other)
    kim = User.objects.get(username="kim")
    assert kim.is_staff and UserSession.objects.filter(user=kim).count() == 2

    gitlab.user("kim", "Kim Member", groups=["other/team"])
    time.sleep(PAST_INTERVAL)
    page = laptop.get("/").content.decode()
    assert "no longer in a group that may use Trainy" in page
    assert "Signed in as" not in page
    # The phone is signed out by the laptop's check, before a check of its own could come.
    assert not signed_in(phone)
    assert not UserSession.objects.filter(user=kim).exists()
    assert not [
        s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(kim.pk)
    ]
    kim.refresh_from_db()
    assert not kim.is_staff and not kim.is_superuser
    assert not SocialToken.objects.filter(account__user=kim).exists()
    assert signed_in(other)  # someone else's session is not touched


@pytest.mark.parametrize("revocation", ["block", "revoke"])
def test_a_grant_gitlab_takes_back_signs_the_user_out_everywhere(gitlab: GitLabIdP, revocation):
    username = f"lin-{revocation}"
    gitlab.user(username, "Lin", groups=["kbs610", ADMINS])
    laptop, phone = sign_in(gitlab, username), sign_in(gitlab, username)

    getattr(gitlab, revocation)(username)  # blocked at GitLab, or Trainy's access revoked
    time.sleep(PAST_INTERVAL)
    page = phone.get("/").content.decode()
    assert "GitLab no longer lets Trainy use your account" in page
    assert not signed_in(phone) and not signed_in(laptop)
    assert not User.objects.get(username=username).is_staff


def test_while_gitlab_cannot_be_asked_travellers_stay_and_admin_rights_last_the_grace_period(
    gitlab: GitLabIdP, settings, caplog
):
    settings.TRAINY_GITLAB_ADMIN_GRACE_SECONDS = 3
    gitlab.user("admin", "An Admin", groups=[ADMINS])
    gitlab.user("traveller", "A Traveller", groups=["kbs610"])
    admin, traveller = sign_in(gitlab, "admin"), sign_in(gitlab, "traveller")
    asked = gitlab.requests_to("/oauth/token")

    gitlab.stop()  # GitLab is down (an outside system: its stand-in's process is ended)
    try:
        time.sleep(PAST_INTERVAL)
        with caplog.at_level(logging.WARNING, logger="trainy.accounts.gitlab"):
            assert admin_reachable(admin)  # within the grace period
            assert admin_reachable(admin)
        # Logged once per interval, not per request.
        assert len([r for r in caplog.records if "could not be asked" in r.message]) == 1
        assert signed_in(traveller)

        time.sleep(settings.TRAINY_GITLAB_ADMIN_GRACE_SECONDS)
        assert not admin_reachable(admin)  # unconfirmed for longer than the grace period
        settings.TRAINY_LOCAL_ACCOUNTS = False  # the admin's own sign-in page says why
        assert "Your admin rights are on hold" in admin.get("/admin/", follow=True).content.decode()
        assert signed_in(admin) and signed_in(traveller)
        stored = User.objects.get(username="admin")
        assert stored.is_staff and stored.is_superuser  # suspended, not taken away
    finally:
        gitlab.start()

    time.sleep(PAST_INTERVAL)
    assert admin_reachable(admin)  # GitLab answers again: the rights are back
    assert gitlab.requests_to("/oauth/token") > asked


def test_local_accounts_are_never_rechecked(gitlab: GitLabIdP, settings):
    settings.TRAINY_GITLAB_ADMIN_GRACE_SECONDS = INTERVAL
    UserFactory(username="root", is_staff=True, is_superuser=True)
    browser = Client()
    assert browser.login(username="root", password=PASSWORD)
    asked = gitlab.requests_to("/oauth/token")
    time.sleep(PAST_INTERVAL * 2)
    assert admin_reachable(browser)
    assert gitlab.requests_to("/oauth/token") == asked
    assert User.objects.get(username="root").gitlab_checked_at is None


def test_concurrent_requests_ask_gitlab_only_once(gitlab: GitLabIdP):
    gitlab.user("joan", "Joan Clarke", groups=[ADMINS])
    sign_in(gitlab, "joan")
    time.sleep(PAST_INTERVAL)
    # Two requests that loaded the user before either asked GitLab.
    first, second = User.objects.get(username="joan"), User.objects.get(username="joan")
    request = RequestFactory().get("/")
    asked = gitlab.requests_to("/oauth/token")
    assert recheck_if_due(request, first) is Recheck.CONFIRMED
    assert recheck_if_due(request, second) is Recheck.NOT_DUE
    assert gitlab.requests_to("/oauth/token") == asked + 1


def test_an_account_signed_in_before_tokens_were_kept_is_asked_to_sign_in_again(settings):
    """Sessions from before the re-check have no refresh token: the migration makes them due,
    and the check ends them (and the admin rights the old rule may have granted)."""
    settings.TRAINY_GITLAB_ADMIN_GROUPS = [ADMINS]
    old = UserFactory(username="old", is_staff=True, is_superuser=True)
    SocialAccount.objects.create(user=old, provider="gitlab", uid="77", extra_data={})
    browser = Client()
    assert browser.login(username="old", password=PASSWORD)
    migration = importlib.import_module("feed.migrations.0006_gitlab_recheck")
    migration.recheck_gitlab_accounts_now(apps, None)

    page = browser.get("/").content.decode()
    assert "Please sign in with GitLab again" in page
    assert not signed_in(browser)
    old.refresh_from_db()
    assert not old.is_staff and not old.is_superuser and old.gitlab_checked_at is None
