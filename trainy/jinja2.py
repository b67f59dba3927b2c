"""The Jinja2 environment for the few templates rendered on every signed-in page many times over
(the journey cards of feeds, profiles and "My journeys", the like button): Django's own engine
takes about half a millisecond per card, Jinja2 a small fraction of that, and the pages around
them stay Django templates. The filters are the Django templates' own functions, so a card reads
the same in either engine."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from checkins.templatetags import journeys
from feed.templatetags.cards import avatar


def _local(value: datetime) -> datetime:
    """The moment in the active time zone, as Django's engine shows an aware one."""
    return timezone.localtime(value) if timezone.is_aware(value) else value


def date(value: datetime | None, format_string: str) -> str:
    """Django's ``date`` filter in the active time zone, as Django's engine applies it."""
    if value is None:
        return ""
    if format_string == "H:i":
        # Two of a card's three times: hours and minutes need no words of any language, and
        # Django's formatter reads its format letter by letter for every card not kept.
        local = _local(value)
        return f"{local.hour:02d}:{local.minute:02d}"
    return defaultfilters.date(_local(value), format_string)


@pass_context
def url(context: Context, name: str, *args: Any) -> str:
    # The page's script prefix, where the page read it once (cards.render_cards).
    prefix = context.get("script_prefix") or get_script_prefix()
    return _reverse(prefix, name, args)


def _reverse(prefix: str, name: str, args: tuple[Any, ...]) -> str:
    if len(args) == 1 and type(args[0]) is int:
        before, after = _id_path(prefix, name)
        return f"{before}{args[0]}{after}"
    return _reverse_kept(prefix, name, args)


@lru_cache(maxsize=8192)
def _reverse_kept(prefix: str, name: str, args: tuple[Any, ...]) -> str:
    """A card links its traveller: a page of cards asks for the paths of a few travellers,
    most of them asked by the pages before it. (The URLconf never changes while the process
    runs; the script prefix, which reverse() puts in front, is part of the key.)"""
    return reverse(name, args=args or None)


# An id no journey has, as reverse() writes it into a path: the paths of a name for every id
# are that path with the id in its place.
ID_MARKER = 918_273_645_546_372_819


@lru_cache(maxsize=256)
def _id_path(prefix: str, name: str) -> tuple[str, str]:
    """The path of ``name`` for one id, as the text before the id and after it. A card links
    its journey and its likes by the journey's id, and a page of cards (the following feed,
    a profile) shows journeys this process has mostly not seen yet: reverse() for each of
    them took longer than the rest of the card."""
    before, marker, after = reverse(name, args=[ID_MARKER]).partition(str(ID_MARKER))
    if not marker:
        raise ValueError(f"{name}: its path does not hold its id as written")
    return before, after


def iso(value: datetime | None) -> str:
    """ISO 8601 in the active time zone, as Django's ``date`` filter writes it for ``c``."""
    return "" if value is None else _local(value).isoformat()


def environment(**options: Any) -> Environment:
    env = Environment(**options)  # noqa: S701 -- autoescape is on: Django's backend sets it
    env.globals.update(avatar=avatar, static=static, url=url)
    env.filters.update(
        date=date,
        iso=iso,
        delay=journeys.delay,
        delay_class=journeys.delay_class,
        km=journeys.km,
        pluralize=defaultfilters.pluralize,
    )
    return env
