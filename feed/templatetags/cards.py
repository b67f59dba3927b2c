from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django import template
from django.core.cache import cache
from django.http import HttpRequest
from django.template import engines
from django.template.backends.utils import csrf_input
from django.urls import get_script_prefix
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from markupsafe import Markup

register = template.Library()


@register.simple_tag
def avatar(person: Any, small: bool = False) -> SafeString:
    """A traveller's picture, or their initials where they have none. One function for Django's
    templates and the Jinja2 journey cards (trainy/jinja2.py)."""
    size = " small" if small else ""
    if person.avatar_url:
        return format_html(
            '<img class="avatar{}" src="{}" alt="" width="32" height="32" loading="lazy">',
            size,
            person.avatar_url,
        )
    return format_html('<span class="avatar{}" aria-hidden="true">{}</span>', size, person.initials)


# Rendered card bodies, by everything they show, kept in this process and shared through the
# cache: a feed's first page is much the same for every viewer, the journeys of much-followed
# travellers are on many pages, and a card's date formatting and links cost more than the rest
# of the page's cards together. The process's copies are cleared when full.
BODIES_KEPT = 5000
BODY_SECONDS = 3600
_bodies: dict[tuple[Any, ...], Markup] = {}


def _shown(journey: Any, request_shown: tuple[str, ...]) -> tuple[Any, ...]:
    """Everything a card's body shows, the journey's id first: the body's key in this process
    (as it is: a digest of it is made only for the cache, for the bodies not found here)."""
    user = journey.user
    return (
        journey.id, journey.updated_at, journey.enriched_at, journey.visibility, journey.mode,
        journey.line_name, journey.origin_name, journey.destination_name,
        journey.departure_planned, journey.arrival_planned, journey.arrival_real,
        journey.distance_m, journey.message, user.username, user.display_name, user.avatar_url,
        request_shown,
    )  # fmt: skip


def _cache_key(shown: tuple[Any, ...]) -> str:
    return f"card:{shown[0]}:{hashlib.sha256(repr(shown[1:]).encode()).hexdigest()[:32]}"


def card_bodies(journeys: list[Any]) -> dict[int, Markup]:
    """The bodies of the cards of ``journeys`` by journey id (feed/_card.html): from this
    process, else from the cache (one round trip for all), else rendered and shared."""
    # What the request changes in every body (times, words, links), read once for the page.
    request_shown = (timezone.get_current_timezone_name(), get_language(), get_script_prefix())
    shown = {journey.id: _shown(journey, request_shown) for journey in journeys}
    missing = [each for each in shown.values() if each not in _bodies]
    if missing:
        if len(_bodies) + len(missing) > BODIES_KEPT:
            _bodies.clear()
        keys = {_cache_key(each): each for each in missing}
        for key, html in cache.get_many(list(keys)).items():
            _bodies[keys[key]] = Markup(html)  # noqa: S704 -- Jinja2's escaped output, stored below
    bodies, rendered = {}, {}
    template = engines["jinja2"].get_template("feed/_card.html")
    for journey in journeys:
        body = _bodies.get(shown[journey.id])
        if body is None:
            html = template.render({"journey": journey})
            body = _bodies[shown[journey.id]] = Markup(html)  # noqa: S704 -- escaped by Jinja2
            rendered[_cache_key(shown[journey.id])] = html
        bodies[journey.id] = body
    if rendered:
        cache.set_many(rendered, BODY_SECONDS)
    return bodies


def _csrf_input(request: HttpRequest) -> SafeString:
    kept: SafeString | None = getattr(request, "_cards_csrf_input", None)
    if kept is None:
        kept = csrf_input(request)
        request._cards_csrf_input = kept  # type: ignore[attr-defined]
    return kept


def render_cards(request: HttpRequest | None, name: str, values: dict[str, Any]) -> SafeString:
    """The Jinja2 template ``name`` (a card or a like button) for the viewer of ``request``."""
    values["request"] = request
    user = getattr(request, "user", None)
    values["user"] = user
    # Who is looking, read once for the page: each read through request.user's lazy wrapper
    # is a few calls, and the like button of every card asks.
    values["viewer_id"] = user.pk if user is not None and user.is_authenticated else None
    # One token for every form of the page, whichever list of cards it is in (each masked
    # token is valid for the cookie): the backend would mask a new one per form, 32 random
    # characters each time.
    values["csrf_input"] = _csrf_input(request) if request is not None else ""
    # Read once for the page, not once per card: where a like form returns to, and the paths.
    values["next_path"] = request.get_full_path() if request is not None else ""
    values["script_prefix"] = get_script_prefix()
    html = engines["jinja2"].get_template(name).render(values)
    return mark_safe(html)  # noqa: S308 -- escaped by Jinja2 as it rendered


@register.simple_tag(takes_context=True)
def journey_cards(context: template.Context, journeys: Iterable[Any]) -> SafeString:
    """The cards of ``journeys`` (feed/_journeys.html), each with the viewer's like button."""
    journeys = list(journeys)
    values = {"journeys": journeys, "bodies": card_bodies(journeys)}
    return render_cards(context.get("request"), "feed/_journeys.html", values)


@register.simple_tag(takes_context=True)
def like_button(context: template.Context, journey: Any) -> SafeString:
    """A journey's like button and count (feed/_like.html), as the like view answers htmx."""
    return render_cards(context.get("request"), "feed/_like.html", {"journey": journey})


@register.simple_tag(takes_context=True)
def on_the_move(context: template.Context, journeys: Iterable[Any]) -> SafeString:
    """The "on the move now" list above a feed (feed/_travelling.html)."""
    return render_cards(context.get("request"), "feed/_travelling.html", {"travelling": journeys})
