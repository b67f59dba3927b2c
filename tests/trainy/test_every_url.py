"""No input makes a server error: every URL pattern of the project (resolved from the URL conf, so
a new view is covered the day it is added), signed out and signed in (and as an admin for the
admin's pages), gets every hostile value of a list in each path parameter, query parameter and
form field its view reads, and every HTTP method. Each answer is below 500 and shows no
traceback.

Which parameters a view reads is found by asking it: a first GET and POST run with recording
query dictionaries (tests/urlwalk.py), and the page's own form fields and filter links are added.
Form fields are tried all at once (each field is cleaned on its own) and one at a time inside an
otherwise valid form, so values that pass validation reach the services too.

Every request runs in a savepoint that is rolled back, so no request changes what the next one
sees (a deleted journey stays for the next route) and a database error cannot leak into later
requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from tests.apiclient import token_for
from tests.urlwalk import (
    Route,
    api_body_fields,
    field_names,
    is_api,
    recording,
    recording_middleware,
    routes,
    url_for,
)
from tests.world import UNKNOWN_ID, World, build_world

pytestmark = pytest.mark.django_db

ROUTES = routes()
METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
TEN_KB = "x" * 10_240
JSON = "application/json"
# Values only a JSON body can carry, and bodies that are no object of fields.
JSON_VALUES: list[tuple[str, Any]] = [
    ("null", None),
    ("true", True),
    ("huge integer", 10**40),
    ("float", 1.5),
    ("object", {"a": {"b": ["c"]}}),
    ("deep list", [[[[[]]]]]),
]
JSON_BODIES: list[tuple[str, str]] = [
    ("not JSON", "{not json"),
    ("a list", "[1, 2, 3]"),
    ("a string", '"text"'),
    ("empty", ""),
    ("deeply nested", "[" * 5_000 + "]" * 5_000),
]


def hostile_values(world: World) -> list[tuple[str, Any]]:
    """(what it is, the value) pairs sent in query parameters and form fields."""
    return [
        ("empty", ""),
        ("far past date", "0001-01-01"),
        ("far future date", "9999-12-31"),
        ("far future moment", "9999-12-31T23:59"),
        ("far past moment", "0001-01-01T00:00"),
        ("impossible date", "2019-02-30"),
        ("10 kB string", TEN_KB),
        ("thousands of words", " ".join(["Berlin"] * 1_500)),
        ("NUL byte", "Ber\x00lin"),
        ("negative number", "-1"),
        ("huge number", "9" * 30),
        ("huge negative number", "-" + "9" * 30),
        ("overflowing float", "1e999"),
        ("not a number", "NaN"),
        ("malformed cursor", "12-x"),
        ("cursor past the end of time", f"{10**22}-1"),
        ("unknown id", UNKNOWN_ID),
        ("another traveller's id", str(world.bobs_private.id)),
        ("markup", "<script>alert(1)</script>'\""),
        ("two values", ["public", "private"]),
    ]


def hostile_path_values(kind: str) -> list[tuple[str, str]]:
    """Values for a path parameter of converter ``kind``; those that do not fit the converter
    are left out (the URL conf refuses them before any view runs)."""
    if kind == "int":
        return [("zero", "0"), ("unknown id", UNKNOWN_ID), ("huge id", "9" * 30)]
    values = [("unknown", "nothing-here"), ("10 kB", TEN_KB)]
    if kind != "slug":
        values += [("NUL byte", "a\x00b"), ("far future date", "9999-12-31"),
                   ("unicode", "Zürich 🚆"), ("markup", "<b>'\"")]  # fmt: skip
    return values


def good_form_values(world: World) -> dict[str, str]:
    """Valid values for form fields by name, so that one hostile field at a time reaches the
    services behind a form."""
    today = timezone.localdate()
    return {
        "line_name": "ICE 1601",
        "mode": "long_distance",
        "operator_name": "DB Fernverkehr",
        "origin_name": "Berlin Hbf",
        "destination_name": "Hamburg Hbf",
        "departure_planned": f"{today - timedelta(days=1)}T08:00",
        "arrival_planned": f"{today - timedelta(days=1)}T09:51",
        "message": "On my way",
        "visibility": "public",
        "purpose": "private",
        "origin_seq": "1",
        "destination_seq": "5",
        "default_visibility": "public",
        "period": "custom",
        "start": str(today - timedelta(days=30)),
        "end": str(today),
        "format": "csv",
        "q": "Berlin",
        "at": f"{today}T08:00",
        "field": "origin",
        "feed_name": "demo-again",
        "login": "alice",
        "action": "renew",
        "url": "https://example.org/hook",
        "events": "checkin.created",
    }


@dataclass
class Visitor:
    """A test client for one identity whose cookies are put back after each request, so that
    signing out (a POST to the logout page) does not change who the next request comes from."""

    name: str
    client: Client
    cookies: SimpleCookie = field(default_factory=SimpleCookie)

    def send(
        self, method: str, path: str, data: Any = None, content_type: str | None = None
    ) -> tuple[int, str]:
        self.client.cookies = SimpleCookie(self.cookies)
        extra = {"content_type": content_type} if content_type else {}
        try:
            with transaction.atomic():
                response = getattr(self.client, method)(path, data, **extra)
                body = _content(response)
                transaction.set_rollback(True)
        finally:
            self.client.cookies = SimpleCookie(self.cookies)
        return response.status_code, body


def _content(response: Any) -> str:
    if getattr(response, "streaming", False):
        raw = b"".join(response.streaming_content)
    else:
        raw = response.content
    return raw.decode("utf-8", "replace")


def visitors(world: World, route: Route) -> Iterator[Visitor]:
    yield Visitor("signed out", Client())
    people = [("traveller", world.alice)]
    if route.is_admin:
        people.append(("admin", world.admin))
    for name, user in people:
        client = Client()
        client.force_login(user)
        yield Visitor(name, client, SimpleCookie(client.cookies))
    if is_api(route):
        # Apps and scripts: a personal access token with every scope, no cookies.
        secret = token_for(world.alice)
        yield Visitor("token", Client(headers={"Authorization": f"Bearer {secret}"}))


@dataclass
class Failures:
    route: Route
    found: list[str] = field(default_factory=list)
    sent: int = 0

    def check(
        self,
        visitor: Visitor,
        method: str,
        path: str,
        data: Any,
        what: str,
        content_type: str | None = None,
    ) -> None:
        self.sent += 1
        where = f"{visitor.name}: {method.upper()} {path[:120]} {what}"
        try:
            status, body = visitor.send(method, path, data, content_type)
        except Exception as error:  # noqa: BLE001 -- every failure is reported, not just the first
            self.found.append(f"{where} raised {error.__class__.__name__}: {str(error)[:200]}")
            return
        if status >= 500:
            self.found.append(f"{where} answered {status}")
        elif "Traceback (most recent call last)" in body or 'File "/' in body:
            self.found.append(f"{where} shows a traceback")


def _base_path(world: World, route: Route) -> str:
    kwargs = {name: world.good_values(route, name)[0] for name, _ in route.params}
    path = url_for(route, kwargs)
    assert path is not None, f"{route.label}: its first values {kwargs} do not reverse"
    return path


def _discover(visitor: Visitor, path: str) -> tuple[set[str], set[str]]:
    """The query parameters and form fields the view reads (or offers) for this visitor."""
    with recording() as asked_get:
        _, page = visitor.send("get", path)
    with recording() as asked_post:
        visitor.send("post", path, {})
    return asked_get | field_names(page), asked_post | field_names(page)


@pytest.fixture
def world(settings) -> World:
    settings.MIDDLEWARE = recording_middleware(settings.MIDDLEWARE)
    # Rate limits would answer 429 to most of the walk's requests to a view, which then never
    # reach its code; the limits themselves are tested on their own.
    settings.RATELIMIT_ENABLE = False
    settings.ACCOUNT_RATE_LIMITS = False
    return build_world()


REQUESTS_SENT: list[int] = []


@pytest.mark.parametrize("route", ROUTES, ids=[route.label for route in ROUTES])
def test_no_input_makes_a_server_error(route: Route, world: World) -> None:
    failures = Failures(route)
    values = hostile_values(world)
    good = good_form_values(world)
    base = _base_path(world, route)
    for visitor in visitors(world, route):
        for method in METHODS:
            failures.check(visitor, method, base, None, "(no data)")
        for index, (name, kind) in enumerate(route.params):
            for label, value in hostile_path_values(kind) + [
                ("someone else's", v) for v in world.good_values(route, name)[1:]
            ]:
                kwargs = {n: world.good_values(route, n)[0] for n, _ in route.params}
                kwargs[name] = value
                path = url_for(route, kwargs)
                if path is None:
                    continue
                for method in ("get", "post"):
                    failures.check(visitor, method, path, None, f"path {name}={label} (#{index})")
        query, form = _discover(visitor, base)
        for method, names in (("get", query), ("post", form)):
            if not names:
                continue
            valid = {name: good[name] for name in names if name in good}
            for label, value in values:
                every = dict.fromkeys(names, value)
                failures.check(visitor, method, base, every, f"every field={label}")
                if route.is_admin:
                    continue  # admin forms: every field at once is enough (each is cleaned alone)
                for name in sorted(names):
                    failures.check(visitor, method, base, {**valid, name: value}, f"{name}={label}")
        # An API operation's JSON body: its fields as its schema names them.
        for method, names in api_body_fields(route).items():
            for label, value in [*values, *JSON_VALUES]:
                every = dict.fromkeys(names, value)
                failures.check(visitor, method, base, every, f"JSON every field={label}", JSON)
                for name in sorted(names):
                    body = {name: value}
                    failures.check(visitor, method, base, body, f"JSON {name}={label}", JSON)
            for label, raw in JSON_BODIES:
                failures.check(visitor, method, base, raw, f"JSON body {label}", JSON)
    REQUESTS_SENT.append(failures.sent)
    assert not failures.found, (
        f"{len(failures.found)} of {failures.sent} requests to {route.label} failed:\n"
        + "\n".join(failures.found[:40])
    )


@pytest.fixture(scope="module", autouse=True)
def _report_requests(request: pytest.FixtureRequest) -> Iterator[None]:
    """Say how many requests the walk sent (the issue's closing note quotes it)."""
    yield
    if REQUESTS_SENT:
        plugins = request.config.pluginmanager
        reporter = plugins.get_plugin("terminalreporter")
        line = (
            f"every-URL hostile input: {sum(REQUESTS_SENT)} requests "
            f"to {len(REQUESTS_SENT)} URL patterns"
        )
        # Teardown output is captured like a test's; this line is for the terminal.
        with plugins.get_plugin("capturemanager").global_and_fixture_disabled():
            if reporter is not None:
                reporter.write_line("\n" + line)
