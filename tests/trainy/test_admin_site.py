"""trainy/admin_site.py: the admin's sign-in, with a password while local accounts are on and
through GitLab only once they are off."""

from __future__ import annotations

import pytest

from tests.conftest import configure_gitlab
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sso_only(settings):
    configure_gitlab(settings)
    settings.TRAINY_LOCAL_ACCOUNTS = False


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_without_local_accounts_a_password_signs_nobody_in_to_the_admin(client, root, sso_only):
    response = client.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 405
    assert "takes no password" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still signed out


def test_without_local_accounts_the_admin_sends_to_gitlab_and_back(client, sso_only):
    response = client.get("/admin/checkins/checkin/", follow=True)
    login, gitlab = response.redirect_chain[0][0], response.redirect_chain[-1][0]
    assert login == "/admin/login/?next=/admin/checkins/checkin/"
    assert gitlab == "/accounts/oidc/gitlab/login/?next=%2Fadmin%2Fcheckins%2Fcheckin%2F"
    # Only pages of this site to come back to.
    response = client.get("/admin/login/?next=https://evil.example.org/")
    assert response["Location"] == "/accounts/oidc/gitlab/login/?next=%2Fadmin%2F"


def test_without_local_accounts_a_traveller_without_rights_is_told_so(client, alice, sso_only):
    client.force_login(alice)
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 403
    assert "who has no admin rights" in response.content.decode()


def test_without_local_accounts_an_admin_signed_in_goes_straight_on(client, root, sso_only):
    client.force_login(root)
    response = client.get("/admin/login/?next=/admin/checkins/checkin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/checkins/checkin/"


def test_without_local_accounts_or_gitlab_the_admin_sign_in_says_why(client, settings):
    settings.TRAINY_LOCAL_ACCOUNTS = False
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert "not configured" in response.content.decode()


def test_with_local_accounts_the_admin_takes_a_password(client, root, settings):
    settings.TRAINY_LOCAL_ACCOUNTS = True
    response = client.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_gitlab_tokens_kept_for_the_recheck_are_not_shown_in_the_admin(client, root):
    client.force_login(root)
    assert client.get("/admin/socialaccount/socialaccount/").status_code == 200
    assert client.get("/admin/socialaccount/socialtoken/").status_code == 404
