"""trainy.jinja2: the journey cards' links and times read as Django's own reverse() and date
filter write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.template import defaultfilters
from django.urls import clear_script_prefix, reverse, set_script_prefix
from django.utils import timezone

from trainy.jinja2 import _reverse, date, iso


@pytest.fixture(params=["/", "/trainy/"])
def script_prefix(request):
    # Trainy served under a path, as behind a proxy that passes SCRIPT_NAME.
    set_script_prefix(request.param)
    yield request.param
    clear_script_prefix()


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("checkins:detail", (7,)),
        ("checkins:detail", (123456789,)),
        ("feed:like", (42,)),
        ("feed:unlike", (42,)),
        ("feed:likers", (1,)),
        ("feed:profile", ("ann.b+c",)),
        ("feed:home", ()),
    ],
)
def test_a_cards_paths_are_reverses_own(script_prefix, name, args):
    expected = reverse(name, args=args or None)
    assert expected.startswith(script_prefix)
    assert _reverse(script_prefix, name, args) == expected
    # Asked again (kept by name, the id written in): the same, and for another id too.
    assert _reverse(script_prefix, name, args) == expected
    if args and isinstance(args[0], int):
        assert _reverse(script_prefix, name, (args[0] + 1,)) == reverse(name, args=[args[0] + 1])


def test_a_cards_machine_readable_time_is_the_date_filters_c():
    moment = datetime(2026, 7, 1, 6, 5, 4, 321000, tzinfo=UTC)
    with timezone.override("Europe/Berlin"):
        expected = defaultfilters.date(timezone.localtime(moment), "c")
        assert iso(moment) == expected == "2026-07-01T08:05:04.321000+02:00"
    assert iso(None) == ""


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("format_string", ["H:i", "D j M Y, H:i"])
def test_a_cards_times_are_the_date_filters(zone, format_string):
    """Every hour and minute of a day across a change of summer time, as the filter writes
    them (the hours and minutes written without it)."""
    start = datetime(2026, 3, 28, 0, 0, tzinfo=UTC)
    with timezone.override(zone):
        for minutes in range(0, 2 * 24 * 60, 7):
            moment = start + timedelta(minutes=minutes, seconds=59)
            expected = defaultfilters.date(timezone.localtime(moment), format_string)
            assert date(moment, format_string) == expected, moment
    assert date(None, format_string) == ""
