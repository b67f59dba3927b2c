"""Local accounts through allauth, and the GitLab button when SSO is configured."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.conftest import configure_gitlab
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

    configure_gitlab(settings)
    page = client.get("/accounts/login/").content.decode()
    assert "GitLab" in page
    assert "/accounts/oidc/gitlab/login/" in page


def test_group_membership_as_gitlab_lists_it():
    from trainy.accounts.gitlab import member_of_any, member_within_any

    # Admin groups (matched against groups_direct): the path itself, not its subgroups.
    assert member_of_any(["kbs610", "kbs610/admins"], ["kbs610/admins"])
    assert not member_of_any(["kbs610"], ["kbs610/admins"])
    assert not member_of_any(["kbs610/admins/ops"], ["kbs610/admins"])
    # The sign-in gate: the group or any subgroup of it.
    assert member_within_any(["kbs610/trains"], ["kbs610"])
    assert not member_within_any(["kbs6100"], ["kbs610"])
    assert not member_within_any([], ["kbs610"])


TOO_MANY = "Too many failed login attempts"


def sign_in(client, login: str, password: str, **headers):
    return client.post("/accounts/login/", {"login": login, "password": password}, **headers)


def test_failed_sign_ins_are_limited_per_account(client, alice):
    for _ in range(5):
        response = sign_in(client, "alice", "wrong")
        assert TOO_MANY not in response.content.decode()
    response = sign_in(client, "alice", "wrong")
    assert TOO_MANY in response.content.decode()
    # Even the right password has to wait now: the answer is the limit, not a sign-in.
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 200
    assert TOO_MANY in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/settings/").status_code == 302  # still signed out


# Behind the chart's Gateway (10.0.0.2) every request comes from the same peer; the client's
# address is what the Gateway appended to X-Forwarded-For.
GATEWAY = "10.0.0.2"
BEHIND_THE_GATEWAY = [
    pytest.param({"TRAINY_TRUSTED_PROXIES": ["10.0.0.0/8"], "TRAINY_PROXY_HOPS": 0}, id="trusted"),
    pytest.param({"TRAINY_TRUSTED_PROXIES": [], "TRAINY_PROXY_HOPS": 1}, id="hops"),
]


def exhaust_the_address_limit(client, attacker: str, peer: str = GATEWAY) -> None:
    """Ten failed sign-ins from one address (10/m/ip), each for another account so the
    per-account limit (5 in 5 minutes) never trips first; the eleventh is refused."""
    for n in range(10):
        response = sign_in(client, f"nobody-{n}", "wrong", REMOTE_ADDR=peer,
                           HTTP_X_FORWARDED_FOR=attacker)  # fmt: skip
        assert TOO_MANY not in response.content.decode()
    response = sign_in(client, "nobody-10", "wrong", REMOTE_ADDR=peer,
                       HTTP_X_FORWARDED_FOR=attacker)  # fmt: skip
    assert TOO_MANY in response.content.decode()


@pytest.mark.parametrize("proxy_settings", BEHIND_THE_GATEWAY)
def test_behind_the_gateway_one_attacker_does_not_lock_out_everyone(
    client, settings, proxy_settings
):
    for name, value in proxy_settings.items():
        setattr(settings, name, value)
    # Counters live in the cache for the whole run: an address and an account of its own.
    hops = proxy_settings["TRAINY_PROXY_HOPS"]
    attacker, other = ("198.51.100.7", "203.0.113.7") if hops else ("198.51.100.8", "203.0.113.8")
    rosa = UserFactory(username=f"rosa-{hops}")
    exhaust_the_address_limit(client, attacker)

    from django.test import Client

    traveller = Client()
    response = sign_in(traveller, rosa.username, PASSWORD, REMOTE_ADDR=GATEWAY,
                       HTTP_X_FORWARDED_FOR=other)  # fmt: skip
    assert response.status_code == 302
    assert traveller.session["_auth_user_id"] == str(rosa.pk)
    # The attacker is still refused, even with the right password.
    response = sign_in(client, rosa.username, PASSWORD, REMOTE_ADDR=GATEWAY,
                       HTTP_X_FORWARDED_FOR=attacker)  # fmt: skip
    assert TOO_MANY in response.content.decode()


def test_a_forwarded_for_forged_by_a_peer_that_is_no_proxy_does_not_change_the_key(
    client, settings
):
    settings.TRAINY_TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.TRAINY_PROXY_HOPS = 0
    attacker = "198.51.100.9"  # straight to the pod, not through the Gateway
    for n in range(10):
        sign_in(client, f"nobody-{n}", "wrong", REMOTE_ADDR=attacker,
                HTTP_X_FORWARDED_FOR=f"203.0.113.{n + 100}")  # fmt: skip
    response = sign_in(client, UserFactory().username, PASSWORD, REMOTE_ADDR=attacker,
                       HTTP_X_FORWARDED_FOR="203.0.113.200")  # fmt: skip
    assert TOO_MANY in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_entries_forged_left_of_the_gateways_do_not_change_the_key(client, settings):
    settings.TRAINY_TRUSTED_PROXIES = []
    settings.TRAINY_PROXY_HOPS = 1
    attacker = "198.51.100.10"
    for n in range(10):
        # The attacker sends "X-Forwarded-For: 203.0.113.n"; the Gateway appends its address.
        sign_in(client, f"nobody-{n}", "wrong", REMOTE_ADDR=GATEWAY,
                HTTP_X_FORWARDED_FOR=f"203.0.113.{n + 50}, {attacker}")  # fmt: skip
    response = sign_in(client, UserFactory().username, PASSWORD, REMOTE_ADDR=GATEWAY,
                       HTTP_X_FORWARDED_FOR=f"203.0.113.99, {attacker}")  # fmt: skip
    assert TOO_MANY in response.content.decode()


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


def test_a_browser_whose_session_ended_leaves_the_list_and_is_forgotten(alice):
    from django.test import Client

    from trainy.accounts.models import UserSession
    from trainy.accounts.selectors import browser_sessions

    kept, ended = Client(HTTP_USER_AGENT="Kept"), Client(HTTP_USER_AGENT="Ended")
    for browser in (kept, ended):
        assert browser.login(username="alice", password=PASSWORD)
        browser.get("/")
    ended.logout()  # the Django session goes; the row of the browser is still there
    assert UserSession.objects.filter(user=alice).count() == 2

    # Reading the list writes nothing: the ended browser is only left out.
    assert [row.user_agent for row in browser_sessions(user=alice)] == ["Kept"]
    assert UserSession.objects.filter(user=alice).count() == 2

    page = kept.get("/settings/sessions/").content.decode()
    assert "Kept" in page and "Ended" not in page
    assert list(UserSession.objects.filter(user=alice).values_list("user_agent", flat=True)) == [
        "Kept"
    ]
