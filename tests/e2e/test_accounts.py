"""Sign up, sign out and sign in again through the real pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from trainy.accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-travel-password-42"


def test_a_traveller_signs_up_signs_out_and_signs_in(page: Page):
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill("rosa")
    page.get_by_label("Email").fill("rosa@example.org")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again):", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()

    account = page.get_by_test_id("account")
    expect(account).to_contain_text("Signed in as rosa")
    assert User.objects.filter(username="rosa", email="rosa@example.org").exists()

    account.get_by_role("button", name="Sign out").click()
    expect(account).to_contain_text("Sign in")
    expect(account).not_to_contain_text("Signed in as")

    account.get_by_role("link", name="Sign in").click()
    page.get_by_label("Username or email").fill("rosa")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign In").click()
    refused = page.get_by_text("username and/or password you specified are not correct")
    expect(refused).to_be_visible()

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(account).to_contain_text("Signed in as rosa")
    expect(page).to_have_url(re.compile(r"^http://[^/]+/$"))  # back on the feed


def test_a_traveller_resets_a_forgotten_password_through_the_emailed_link(page: Page):
    from django.core import mail

    from tests.factories import UserFactory

    UserFactory(username="milan", email="milan@example.org")
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("milan@example.org")
    page.get_by_role("button", name="Reset My Password").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Password Reset")

    # Mail goes to the console in development; the test server keeps it in memory.
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", mail.outbox[-1].body)
    assert link, mail.outbox[-1].body
    page.goto(link.group(0))
    new_password = "another-long-travel-password-9"
    page.get_by_label("New Password:", exact=True).fill(new_password)
    page.get_by_label("New Password (again):", exact=True).fill(new_password)
    page.get_by_role("button", name="Change Password").click()
    expect(page.get_by_test_id("account")).to_contain_text("Signed in as Milan")
