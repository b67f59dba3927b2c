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


def date(value: datetime | None, format_string: str) -> str:
    """Django's ``date`` filter in the active time zone, as Django's engine applies it."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return defaultfilters.date(value, format_string)


@pass_context
def url(context: Context, name: str, *args: Any) -> str:
    # The page's script prefix, where the page read it once (cards.render_cards).
    prefix = context.get("script_prefix") or get_script_prefix()
    return _reverse(prefix, name, args)


@lru_cache(maxsize=8192)
def _reverse(prefix: str, name: str, args: tuple[Any, ...]) -> str:
    """A card links its journey, its traveller and its likes: a page of cards asks for about a
    hundred paths, most of them asked by the pages before it. (The URLconf never changes while
    the process runs; the script prefix, which reverse() puts in front, is part of the key.)"""
    return reverse(name, args=args or None)


def environment(**options: Any) -> Environment:
    env = Environment(**options)  # noqa: S701 -- autoescape is on: Django's backend sets it
    env.globals.update(avatar=avatar, static=static, url=url)
    env.filters.update(
        date=date,
        delay=journeys.delay,
        delay_class=journeys.delay_class,
        km=journeys.km,
        pluralize=defaultfilters.pluralize,
    )
    return env
