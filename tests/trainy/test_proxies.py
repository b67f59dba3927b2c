"""The client's address behind proxies: whose X-Forwarded-For is believed, and how far."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory

from trainy.middleware import ClientAddressMiddleware
from trainy.proxies import client_address

GATEWAY = "10.0.0.2"
TRUSTED = ("10.0.0.0/8", "2001:db8:ffff::/48")


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        # Through the Gateway: it appended the client it saw.
        (GATEWAY, "203.0.113.5", "203.0.113.5"),
        # Whatever the client sent itself is left of that, never read.
        (GATEWAY, "1.1.1.1, 203.0.113.5", "203.0.113.5"),
        # Two proxies of ours: both skipped.
        (GATEWAY, "203.0.113.5, 10.1.2.3", "203.0.113.5"),
        # From inside the network, every hop ours: the leftmost.
        (GATEWAY, "10.9.9.9, 10.1.2.3", "10.9.9.9"),
        # A peer that is no proxy of ours: its header is a forgery.
        ("198.51.100.9", "203.0.113.5", "198.51.100.9"),
        # Nothing believable after the proxy: the proxy is the client we know.
        (GATEWAY, "unknown", GATEWAY),
        (GATEWAY, "203.0.113.5, garbage, 10.1.2.3", "10.1.2.3"),
        (GATEWAY, "", GATEWAY),
        # Ports and IPv6 as proxies write them.
        (GATEWAY, "203.0.113.5:4711", "203.0.113.5"),
        (GATEWAY, "[2001:db8::7]:443", "2001:db8::7"),
        ("2001:db8:ffff::1", "2001:db8::7", "2001:db8::7"),
        ("::ffff:10.0.0.2", "203.0.113.5", "203.0.113.5"),
    ],
)
def test_trusted_proxies_are_skipped_from_the_right(peer, header, expected):
    assert client_address(peer, header, trusted=TRUSTED, hops=0) == expected


@pytest.mark.parametrize(
    ("hops", "header", "expected"),
    [
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "1.1.1.1, 203.0.113.5", "203.0.113.5"),
        (2, "203.0.113.5, 192.0.2.80", "203.0.113.5"),
        (2, "1.1.1.1, 203.0.113.5, 192.0.2.80", "203.0.113.5"),
        # Fewer entries than proxies: it did not come through them all; the peer it is.
        (2, "203.0.113.5", GATEWAY),
        (1, "not-an-address", GATEWAY),
    ],
)
def test_proxy_hops_count_entries_from_the_right(hops, header, expected):
    assert client_address(GATEWAY, header, trusted=(), hops=hops) == expected


def test_without_a_setting_the_header_is_ignored():
    assert client_address(GATEWAY, "203.0.113.5", trusted=(), hops=0) == GATEWAY


HOSTILE_HEADERS = [
    "\x00",
    ",,,,",
    "[::1",
    "1.2.3.4:99999999999999999999",
    "x" * 10_000,
    ", ".join(["203.0.113.5"] * 5000),
    ", ".join(["10.0.0.1"] * 5000),
    "%00%0a",
    "203.0.113.5\nX-Injected: yes",
]


@pytest.mark.parametrize("header", HOSTILE_HEADERS, ids=range(len(HOSTILE_HEADERS)))
@pytest.mark.parametrize("hops", [0, 1, 3])
def test_the_middleware_never_fails_on_a_malformed_header_and_keeps_the_peer(
    header, hops, settings
):
    settings.TRAINY_TRUSTED_PROXIES = [] if hops else list(TRUSTED)
    settings.TRAINY_PROXY_HOPS = hops
    seen = {}

    def view(request):
        seen.update(request.META)
        return HttpResponse()

    request = RequestFactory().get("/", REMOTE_ADDR=GATEWAY, HTTP_X_FORWARDED_FOR=header)
    ClientAddressMiddleware(view)(request)
    assert seen["TRAINY_PEER_ADDR"] == GATEWAY
    # Whatever it settled on is one address, never header text.
    assert seen["REMOTE_ADDR"] in {GATEWAY, "203.0.113.5", "10.0.0.1"}


@pytest.mark.django_db
def test_the_sessions_page_shows_the_clients_address_not_the_gateways(alice, settings):
    settings.TRAINY_PROXY_HOPS = 1
    browser = Client(REMOTE_ADDR=GATEWAY, HTTP_X_FORWARDED_FOR="203.0.113.44")
    browser.force_login(alice)
    assert browser.get("/").status_code == 200  # the session list notes the browser
    page = browser.get("/settings/sessions/").content.decode()
    assert "203.0.113.44" in page
    assert GATEWAY not in page


@pytest.mark.django_db
@pytest.mark.parametrize("header", HOSTILE_HEADERS[:5], ids=range(5))
def test_pages_answer_with_a_malformed_forwarded_for(client, header, settings):
    settings.TRAINY_PROXY_HOPS = 2
    response = client.get("/", REMOTE_ADDR=GATEWAY, HTTP_X_FORWARDED_FOR=header)
    assert response.status_code == 200


def test_django_ratelimit_keys_on_the_client_behind_the_gateway(settings):
    from django_ratelimit.core import is_ratelimited

    settings.TRAINY_PROXY_HOPS = 1

    def limited(forwarded_for: str) -> bool:
        answers = []

        def view(request):
            answers.append(
                is_ratelimited(request, group="test-proxies", key="ip", rate="1/m", increment=True)
            )
            return HttpResponse()

        request = RequestFactory().get("/", REMOTE_ADDR=GATEWAY, HTTP_X_FORWARDED_FOR=forwarded_for)
        ClientAddressMiddleware(view)(request)
        return answers[0]

    assert not limited("198.51.100.31")
    assert limited("198.51.100.31")
    assert not limited("198.51.100.32")  # another client through the same Gateway
