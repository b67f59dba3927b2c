"""The API's rate limits: per token and per traveller, counted in the real Redis, a 429 with
Retry-After past them; while Redis is down the API answers, unlimited, and logs it."""

from __future__ import annotations

import logging
import time

import pytest
from django.test import Client

from tests.apiclient import bearer, error_of, token_for

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


@pytest.fixture
def limits(settings, full_stack):
    """Small limits over the real Redis, and a fresh minute: the counts are per minute, so a
    test that began in a minute's last seconds would see them reset halfway."""
    settings.TRAINY_API_RATE_TOKEN = 3
    settings.TRAINY_API_RATE_USER = 5
    if time.time() % 60 > 50:
        time.sleep(61 - time.time() % 60)


def test_a_token_past_its_limit_gets_429_with_retry_after(limits, alice):
    client = bearer(token_for(alice))
    assert [client.get(ME).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(ME)
    assert refused.status_code == 429
    assert error_of(refused)["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60


def test_each_token_has_its_own_limit_within_the_travellers(limits, alice, bob):
    first, second = bearer(token_for(alice)), bearer(token_for(alice))
    assert [first.get(ME).status_code for _ in range(4)] == [200, 200, 200, 429]
    # Alice's second token has its own three, but she has five in all (the fourth refused
    # request above counted too: it was made).
    assert second.get(ME).status_code == 200
    assert second.get(ME).status_code == 429
    site = Client()
    site.force_login(alice)
    assert site.get(ME).status_code == 429  # the site's own JavaScript counts as her too
    assert bearer(token_for(bob)).get(ME).status_code == 200


@pytest.mark.outage
def test_the_api_answers_without_limits_while_redis_is_down(limits, services, alice, caplog):
    client = bearer(token_for(alice))
    services.stop("redis")
    with caplog.at_level(logging.WARNING):
        answers = [client.get(ME).status_code for _ in range(6)]
    assert answers == [200] * 6
    relaxed = [r for r in caplog.records if r.name == "trainy.api.throttling"]
    assert relaxed and "relaxed" in relaxed[0].getMessage()
    services.start("redis")
    # Counting again once Redis is back.
    assert [client.get(ME).status_code for _ in range(4)][-1] == 429
