"""Sign up, sign out and sign in again through the real pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from feed.models import User

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
