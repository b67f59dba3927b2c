"""Every URL of the project, resolved from the URL conf, with values for its path parameters
and the names of the query parameters and form fields its view reads.

The every-URL tests (tests/trainy/test_every_url.py for hostile input, tests/feed/test_privacy.py
for the privacy matrix) walk what this module finds, so a view added tomorrow is covered the day
it is added: nothing here lists views by hand.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RegexPattern, RoutePattern


@dataclass(frozen=True)
class Route:
    """One URL pattern: its reversible name (None for an unnamed one), the whole pattern as
    written, and its path parameters with their converters ("int", "str", "slug", "path",
    or "regex" for a regular-expression group)."""

    name: str | None
    pattern: str
    params: tuple[tuple[str, str], ...]
    view: str

    @property
    def label(self) -> str:
        return self.name or self.pattern

    @property
    def is_admin(self) -> bool:
        return self.view.startswith("django.contrib.admin") or (self.name or "").startswith(
            "admin:"
        )


def _params(pattern: RoutePattern | RegexPattern) -> list[tuple[str, str]]:
    if isinstance(pattern, RoutePattern):
        kinds = {name: _converter_kind(conv) for name, conv in pattern.converters.items()}
        return list(kinds.items())
    return [(name, "regex") for name in pattern.regex.groupindex]


def _converter_kind(converter: Any) -> str:
    return type(converter).__name__.removesuffix("Converter").lower()


def routes() -> list[Route]:
    """Every URL pattern of the project, in URL-conf order."""
    found: list[Route] = []

    def walk(
        patterns: list[Any], prefix: str, namespaces: list[str], params: list[tuple[str, str]]
    ) -> None:
        for entry in patterns:
            here = params + _params(entry.pattern)
            text = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                spaces = namespaces + ([entry.namespace] if entry.namespace else [])
                walk(entry.url_patterns, text, spaces, here)
            elif isinstance(entry, URLPattern):
                name = ":".join([*namespaces, entry.name]) if entry.name else None
                callback = entry.callback
                view = f"{callback.__module__}.{getattr(callback, '__name__', '?')}"
                found.append(Route(name, text, tuple(here), view))

    walk(get_resolver().url_patterns, "", [], [])
    return found


def _fill_unnamed(pattern: str, kwargs: dict[str, str]) -> str:
    """The path of an unnamed pattern with ``kwargs`` put in for its parameters."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: quote(kwargs[m.group(1)], safe="/"), pattern)
    # A regular-expression group: (?P<name>…) with balanced parentheses inside.
    while (start := path.find("(?P<")) != -1:
        name = path[start + 4 : path.index(">", start)]
        depth, end = 0, start
        for end in range(start, len(path)):
            depth += {"(": 1, ")": -1}.get(path[end], 0)
            if depth == 0:
                break
        path = path[:start] + quote(kwargs[name], safe="/") + path[end + 1 :]
    return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


def url_for(route: Route, kwargs: dict[str, str]) -> str | None:
    """The path of ``route`` with ``kwargs``, or None when a value does not fit its converter."""
    if route.name is None:
        return _fill_unnamed(route.pattern, kwargs)
    try:
        return reverse(route.name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


# --- Which parameters a view reads -------------------------------------------------------------


class RecordingQueryDict(QueryDict):
    """A QueryDict that notes each key a view asks it for (``get``, ``getlist``, ``[]``, ``in``,
    ``pop``), so the every-URL tests send hostile values exactly where views look."""

    asked: set[str] | None = None  # set per request by RecordingMiddleware

    def _note(self, key: object) -> None:
        if RecordingQueryDict.asked is not None and isinstance(key, str):
            RecordingQueryDict.asked.add(key)

    def __getitem__(self, key: str) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return super().__contains__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._note(key)
        return super().get(key, default)

    def getlist(self, key: str, default: Any = None) -> list[Any]:
        self._note(key)
        return super().getlist(key, default)

    def pop(self, key: str, *args: Any) -> Any:
        self._note(key)
        return super().pop(key, *args)


def _recording(original: QueryDict) -> RecordingQueryDict:
    copy = RecordingQueryDict(mutable=True, encoding=original.encoding)
    for key, values in original.lists():
        copy.setlist(key, values)
    copy._mutable = False
    return copy


class RecordingMiddleware:
    """Swaps the request's GET and POST for recording copies (test settings only)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.GET = _recording(request.GET)
        if request.method == "POST":
            request.POST = _recording(request.POST)
        return self.get_response(request)


@contextmanager
def recording() -> Iterator[set[str]]:
    """Collect the parameter names the views read while the block runs."""
    asked: set[str] = set()
    RecordingQueryDict.asked = asked
    try:
        yield asked
    finally:
        RecordingQueryDict.asked = None


def recording_middleware(middleware: list[str]) -> list[str]:
    """``middleware`` with the recorder first, before anything reads a parameter."""
    return ["tests.urlwalk.RecordingMiddleware", *middleware]


class _FormFields(HTMLParser):
    """Names of the form fields on a page and of the query keys in its same-page links."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("input", "select", "textarea", "button") and values.get("name"):
            self.names.add(str(values["name"]))
        href = values.get("href") or ""
        if tag == "a" and href.startswith("?"):
            self.names.update(key for key, _ in parse_qsl(href[1:], keep_blank_values=True))


def field_names(html: str) -> set[str]:
    parser = _FormFields()
    parser.feed(html)
    return parser.names - {"csrfmiddlewaretoken"}


def same_site_path(location: str) -> str:
    return urlsplit(location).path


def response_body(response: HttpResponseBase) -> bytes:
    """The whole body of a response, streamed or not."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    return response.content  # type: ignore[attr-defined]


@dataclass
class Discovery:
    """What a view reads: query parameters (GET) and form fields (POST)."""

    query: set[str] = field(default_factory=set)
    form: set[str] = field(default_factory=set)


# --- The API's bodies ---------------------------------------------------------------------------


def is_api(route: Route) -> bool:
    return route.pattern.startswith("api/")


_SCHEMA: dict[str, Any] = {}


def _schema() -> dict[str, Any]:
    if not _SCHEMA:
        from drf_spectacular.generators import SchemaGenerator

        _SCHEMA.update(SchemaGenerator().get_schema(request=None, public=True))
    return _SCHEMA


def api_body_fields(route: Route) -> dict[str, set[str]]:
    """The JSON body fields of an API route's operations, by HTTP method, from the OpenAPI
    schema (a view's serializer reads the parsed body, where recording cannot see it)."""
    schema = _schema()
    path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.pattern)
    found: dict[str, set[str]] = {}
    for method, operation in schema["paths"].get(path, {}).items():
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if not body:
            continue
        reference = body["schema"].get("$ref", "")
        component = schema["components"]["schemas"].get(reference.rsplit("/", 1)[-1], {})
        found[method] = set(component.get("properties", {}))
    return found
