"""Webhooks from the settings page to the receiver: register an endpoint, copy its secret, check
in, and see the delivery listed with the receiver's answer."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

import pytest
from playwright.sync_api import Page, expect

from feed.models import WebhookDelivery
from tests.conftest import wait_for
from tests.e2e.conftest import field, fill_manual_checkin, sign_in
from tests.factories import UserFactory
from tests.receiver import receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_traveller_registers_a_webhook_checks_in_and_sees_the_delivery(
    page: Page, celery_worker, settings
):
    settings.TRAINY_WEBHOOKS_ALLOW_PRIVATE = True  # the receiver is on 127.0.0.1
    UserFactory(username="ada", display_name="Ada")
    sign_in(page, "ada")
    with receiver() as hook:
        page.goto("/settings/")
        page.get_by_role("link", name="Webhooks").click()
        field(page, "URL").fill(hook.url)
        page.get_by_label("A journey was changed").uncheck()
        page.get_by_role("button", name="Add webhook").click()
        secret_text = page.get_by_test_id("webhook-secret").inner_text()
        secret = re.search(r"whsec_[0-9a-f]+", secret_text).group(0)
        page.reload()
        expect(page.get_by_test_id("webhook-secret")).to_have_count(0)  # shown once
        expect(page.get_by_test_id("webhook")).to_contain_text("Nothing sent yet")

        fill_manual_checkin(page, arrival="2026-11-20T18:15")
        page.get_by_role("button", name="Check in").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Berlin Ostbahnhof")

        [request] = hook.wait_for(1)
        body = json.loads(request.body)
        assert body["event"] == "checkin.created" and body["data"]["line_name"] == "RE 1"
        fields = dict(part.split("=", 1) for part in request.headers["Trainy-Signature"].split(","))
        signed = f"{fields['t']}.".encode() + request.body
        assert hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest() == fields["v1"]

        # The worker records the answer just after the receiver sent it.
        wait_for(
            lambda: WebhookDelivery.objects.filter(status="delivered").exists(),
            timeout=15,
            message="the delivery to be recorded",
        )
        page.goto("/settings/webhooks/")
        delivery = page.get_by_test_id("delivery")
        expect(delivery).to_have_attribute("data-status", "delivered")
        expect(delivery).to_contain_text("checkin.created")
        expect(delivery).to_contain_text("200")
        expect(delivery).to_contain_text(" ms")
