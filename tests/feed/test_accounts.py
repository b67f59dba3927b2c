"""Local accounts through allauth, and the GitLab button when SSO is configured."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.factories import UserFactory

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
        "gitlab": {
            "GITLAB_URL": "https://git.example.edu",
            "SCOPE": ["read_user"],
            "APPS": [{"client_id": "trainy-client", "secret": "s3cret", "key": ""}],
        }
    }
    page = client.get("/accounts/login/").content.decode()
    assert "GitLab" in page
    assert "/accounts/gitlab/login/" in page
