"""GitLab single sign-on, end to end in Chromium against a GitLab-compatible identity provider
on 127.0.0.1 (tests/idp): the consent page, accounts made and reused, admin rights from
groups given and taken back, a denied consent, a tampered state, a refused outsider."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from feed.models import User
from tests.idp.server import CLIENT_ID, CLIENT_SECRET, PASSWORD, GitLabIdP
from trainy.security import content_security_policy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMINS = "kbs610/admins"


@pytest.fixture(scope="module")
def idp(tmp_path_factory) -> Iterator[GitLabIdP]:
    server = GitLabIdP(tmp_path_factory.mktemp("idp"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gitlab(idp: GitLabIdP, live_server, settings) -> GitLabIdP:
    """Trainy configured for the test GitLab, as GITLAB_* in the environment would."""
    idp.register(f"{live_server.url}/accounts/oidc/gitlab/login/callback/")
    settings.GITLAB_CLIENT_ID = CLIENT_ID
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "SCOPE": ["openid", "profile", "email"],
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [{"provider_id": "gitlab", "name": "GitLab", "client_id": CLIENT_ID,
                      "secret": CLIENT_SECRET, "settings": {"server_url": idp.url}}],
        }
    }  # fmt: skip
    settings.TRAINY_GITLAB_ADMIN_GROUPS = [ADMINS]
    settings.TRAINY_GITLAB_ALLOWED_GROUPS = []
    # The sign-in button's redirect to GitLab is a form submission's: allowed by form-action.
    settings.CONTENT_SECURITY_POLICY = content_security_policy(
        map_tiles=settings.TRAINY_MAP_TILES, gitlab_url=idp.url, image_sources=[]
    )
    return idp


def start_sign_in(page: Page) -> None:
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.get_by_role("link", name="GitLab").click()
    page.get_by_role("button", name="Continue").click()


def sign_in_at_gitlab(page: Page, username: str) -> None:
    """The IdP's own sign-in, then its consent page."""
    expect(page.get_by_role("heading", name="Test GitLab")).to_be_visible()
    page.get_by_label("Username or primary email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("Authorize Trainy"))).to_be_visible()


def sign_in_with_gitlab(page: Page, username: str) -> None:
    start_sign_in(page)
    sign_in_at_gitlab(page, username)
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_test_id("account")).to_contain_text("Signed in as")


def admin_reachable(page: Page) -> bool:
    response = page.goto("/admin/")
    assert response is not None
    return response.status == 200 and page.get_by_text("Site administration").count() > 0


def test_sign_in_creates_the_account_once_and_groups_decide_admin_rights(
    page: Page, gitlab: GitLabIdP
):
    gitlab.user("grace", "Grace Hopper", groups=["kbs610", ADMINS])
    gitlab.user("lin", "Lin Outsider", groups=["other/team"])

    sign_in_with_gitlab(page, "grace")
    expect(page.get_by_test_id("account")).to_contain_text("Grace Hopper")
    grace = User.objects.get(username="grace")
    assert grace.display_name == "Grace Hopper" and grace.avatar_url.startswith("https://")
    assert grace.is_staff and grace.is_superuser
    assert admin_reachable(page)

    # Again: the same account, not a second one.
    sign_in_with_gitlab(page, "grace")
    assert User.objects.filter(username__startswith="grace").count() == 1

    # Someone outside the admin group signs in but does not reach the admin.
    sign_in_with_gitlab(page, "lin")
    assert not User.objects.get(username="lin").is_staff
    assert not admin_reachable(page)

    # Grace leaves the group: her rights end at her next sign-in.
    gitlab.user("grace", "Grace Hopper", groups=["kbs610"])
    sign_in_with_gitlab(page, "grace")
    grace.refresh_from_db()
    assert not grace.is_staff and not grace.is_superuser
    assert not admin_reachable(page)


def test_denying_consent_says_so_and_signs_nobody_in(page: Page, gitlab: GitLabIdP):
    gitlab.user("ada", "Ada Lovelace", groups=[])
    start_sign_in(page)
    sign_in_at_gitlab(page, "ada")
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_test_id("sso-cancelled")).to_contain_text(
        "You did not allow Trainy to use your GitLab account"
    )
    expect(page.get_by_test_id("account")).not_to_contain_text("Signed in as")
    assert not User.objects.filter(username="ada").exists()


def test_a_tampered_state_is_rejected(page: Page, gitlab: GitLabIdP):
    gitlab.user("mallory", "Mallory", groups=[])
    start_sign_in(page)
    sign_in_at_gitlab(page, "mallory")
    # The consent form carries the state GitLab sends back to Trainy: forge it.
    state = page.locator("input[name=state]")
    state.evaluate("input => { input.value = 'forged' + input.value.slice(6) }")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_test_id("sso-error")).to_contain_text("could not be accepted")
    expect(page.get_by_test_id("account")).not_to_contain_text("Signed in as")
    assert not User.objects.filter(username="mallory").exists()


def test_only_members_of_the_allowed_groups_may_sign_in(page: Page, gitlab: GitLabIdP, settings):
    settings.TRAINY_GITLAB_ALLOWED_GROUPS = ["kbs610"]
    gitlab.user("eve", "Eve Elsewhere", groups=["other/team"])
    gitlab.user("kim", "Kim Member", groups=["kbs610/trains"])

    start_sign_in(page)
    sign_in_at_gitlab(page, "eve")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_test_id("refused")).to_contain_text("only members of kbs610 may sign in")
    assert not User.objects.filter(username="eve").exists()

    sign_in_with_gitlab(page, "kim")
    assert User.objects.filter(username="kim").exists()


def test_a_local_account_can_be_linked_to_gitlab(page: Page, gitlab: GitLabIdP):
    from tests.factories import PASSWORD as LOCAL_PASSWORD
    from tests.factories import UserFactory

    UserFactory(username="rosa", display_name="Rosa Local")
    gitlab.user("rosa-gl", "Rosa Parks", groups=[])
    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill("rosa")
    page.get_by_label("Password").fill(LOCAL_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.goto("/accounts/3rdparty/")
    page.get_by_role("link", name="GitLab").click()
    page.get_by_role("button", name="Continue").click()
    sign_in_at_gitlab(page, "rosa-gl")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_text("GitLab", exact=False).first).to_be_visible()

    # Signing in with GitLab now opens Rosa's local account.
    sign_in_with_gitlab(page, "rosa-gl")
    expect(page.get_by_test_id("account")).to_contain_text("Rosa Parks")
    assert User.objects.filter(username="rosa").get().socialaccount_set.count() == 1
    assert not User.objects.filter(username="rosa-gl").exists()
