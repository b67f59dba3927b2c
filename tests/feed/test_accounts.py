"""Local accounts through allauth, and the GitLab button when SSO is configured."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_a_forgotten_password_is_reset_through_the_emailed_link(client):
    UserFactory(username="rosa", email="rosa@example.org")
    response = client.post("/accounts/password/reset/", {"email": "rosa@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    assert link, mail.outbox[0].body

    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200
    new_password = "a-brand-new-travel-password-7"
    done = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link.group(1),
        {"password1": new_password, "password2": new_password},
        follow=True,
    )
    assert done.status_code == 200
    client.logout()
    assert client.login(username="rosa", password=new_password)


def test_the_gitlab_button_appears_only_when_configured(client, settings):
    assert b"GitLab" not in client.get("/accounts/login/").content

    settings.GITLAB_CLIENT_ID = "trainy-client"
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [{"provider_id": "gitlab", "name": "GitLab", "client_id": "trainy-client",
                      "secret": "s3cret", "settings": {"server_url": "https://git.example.edu"}}],
        }
    }  # fmt: skip
    page = client.get("/accounts/login/").content.decode()
    assert "GitLab" in page
    assert "/accounts/oidc/gitlab/login/" in page


def test_group_membership_as_gitlab_lists_it():
    from feed.gitlab import member_of_any, member_within_any

    # Admin groups (matched against groups_direct): the path itself, not its subgroups.
    assert member_of_any(["kbs610", "kbs610/admins"], ["kbs610/admins"])
    assert not member_of_any(["kbs610"], ["kbs610/admins"])
    assert not member_of_any(["kbs610/admins/ops"], ["kbs610/admins"])
    # The sign-in gate: the group or any subgroup of it.
    assert member_within_any(["kbs610/trains"], ["kbs610"])
    assert not member_within_any(["kbs6100"], ["kbs610"])
    assert not member_within_any([], ["kbs610"])


def test_failed_sign_ins_are_limited_per_account(client, alice):
    for _ in range(5):
        response = client.post("/accounts/login/", {"login": "alice", "password": "wrong"})
        assert "Too many failed login attempts" not in response.content.decode()
    response = client.post("/accounts/login/", {"login": "alice", "password": "wrong"})
    assert "Too many failed login attempts" in response.content.decode()
    # Even the right password has to wait now.
    response = client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    assert "Signed in as" not in response.content.decode()


def test_a_traveller_sees_where_they_are_signed_in_and_signs_out_there(alice, bob):
    from django.test import Client

    def signed_in(browser: Client) -> bool:
        return "Signed in as" in browser.get("/").content.decode()

    laptop, phone = Client(HTTP_USER_AGENT="Laptop browser"), Client(HTTP_USER_AGENT="Phone")
    tablet, bobs = Client(HTTP_USER_AGENT="Tablet"), Client(HTTP_USER_AGENT="Bob's browser")
    for browser, name in ((laptop, "alice"), (phone, "alice"), (tablet, "alice"), (bobs, "bob")):
        assert browser.login(username=name, password=PASSWORD)
        browser.get("/")
    page = laptop.get("/settings/sessions/").content.decode()
    assert "Laptop browser" in page and "(this browser)" in page and "Phone" in page
    assert "Bob's browser" not in page

    # Someone else's live session is not theirs to end.
    response = laptop.post(
        "/settings/sessions/", {"session": bobs.session.session_key}, follow=True
    )
    assert "That session has ended already." in response.content.decode()
    assert signed_in(bobs)
    # Her own other browser's is.
    laptop.post("/settings/sessions/", {"session": tablet.session.session_key})
    assert not signed_in(tablet)
    assert signed_in(phone) and signed_in(laptop)

    laptop.post("/settings/sessions/", {"others": "1"})

    assert not signed_in(phone)  # signed out there
    assert signed_in(laptop) and signed_in(bobs)
    assert "Phone" not in laptop.get("/settings/sessions/").content.decode()
