"""GitLab single sign-on, end to end in Chromium against a GitLab-compatible identity provider
on 127.0.0.1 (tests/idp): the consent page, accounts made and reused, admin rights from direct
group membership given and taken back (at the next sign-in, and in the same session by the
re-check), a denied consent, a tampered state, a refused outsider, the admin's sign-in through
GitLab when local accounts are off."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.idp.server import PASSWORD, GitLabIdP, running
from trainy.accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMINS = "kbs610/admins"


@pytest.fixture(scope="module")
def idp(tmp_path_factory) -> Iterator[GitLabIdP]:
    yield from running(tmp_path_factory.mktemp("idp"))


@pytest.fixture
def gitlab(idp: GitLabIdP, live_server, settings) -> GitLabIdP:
    """Trainy configured for the test GitLab, as GITLAB_* in the environment would."""
    idp.register(f"{live_server.url}/accounts/oidc/gitlab/login/callback/")
    idp.configure_trainy(settings)
    settings.TRAINY_GITLAB_ADMIN_GROUPS = [ADMINS]
    settings.TRAINY_GITLAB_ALLOWED_GROUPS = []
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


def test_the_readme_example_makes_only_direct_members_of_the_admin_group_admins(
    page: Page, gitlab: GitLabIdP, settings
):
    # README: TRAINY_GITLAB_ALLOWED_GROUPS=kbs610, TRAINY_GITLAB_ADMIN_GROUPS=kbs610/admins.
    settings.TRAINY_GITLAB_ALLOWED_GROUPS = ["kbs610"]
    gitlab.create_groups("kbs610", ADMINS)
    gitlab.user("margaret", "Margaret Hamilton", groups=[ADMINS])
    # A plain member of kbs610, whom GitLab's "groups" lists in kbs610/admins as well.
    gitlab.user("paul", "Paul Plain", groups=["kbs610"])

    sign_in_with_gitlab(page, "paul")
    paul = User.objects.get(username="paul")
    assert not paul.is_staff and not paul.is_superuser
    assert not admin_reachable(page)

    sign_in_with_gitlab(page, "margaret")
    margaret = User.objects.get(username="margaret")
    assert margaret.is_staff and margaret.is_superuser
    assert admin_reachable(page)


def test_an_admin_removed_from_the_group_loses_the_admin_in_the_same_session(
    page: Page, gitlab: GitLabIdP, settings
):
    settings.TRAINY_GITLAB_RECHECK_SECONDS = 1
    gitlab.user("hedy", "Hedy Lamarr", groups=["kbs610", ADMINS])
    sign_in_with_gitlab(page, "hedy")
    assert admin_reachable(page)

    # Removed at GitLab; the browser keeps its cookies and signs in no more.
    gitlab.user("hedy", "Hedy Lamarr", groups=["kbs610"])
    time.sleep(1.2)
    assert not admin_reachable(page)
    page.goto("/")
    expect(page.get_by_test_id("account")).to_contain_text("Signed in as Hedy Lamarr")
    hedy = User.objects.get(username="hedy")
    assert not hedy.is_staff and not hedy.is_superuser


def test_without_local_accounts_the_admin_signs_in_through_gitlab(
    page: Page, gitlab: GitLabIdP, settings
):
    settings.TRAINY_LOCAL_ACCOUNTS = False
    gitlab.user("barbara", "Barbara Liskov", groups=[ADMINS])
    page.context.clear_cookies()
    page.goto("/admin/checkins/checkin/")
    # The admin's sign-in is GitLab's, and comes back to the page asked for.
    page.get_by_role("button", name="Continue").click()
    sign_in_at_gitlab(page, "barbara")
    page.get_by_role("button", name="Authorize").click()
    expect(page).to_have_url(re.compile(r"/admin/checkins/checkin/$"))
    expect(page.locator("#site-name")).to_be_visible()


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
    rosa = User.objects.get(username="rosa")
    assert rosa.socialaccount_set.count() == 1
    assert rosa.gitlab_checked_at is not None  # GitLab vouches for her now: she is re-checked
    assert not User.objects.filter(username="rosa-gl").exists()
