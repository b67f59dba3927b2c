from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def km(meters: int | float | None) -> str:
    """Metres as kilometres for people: '286.4 km'; '–' when unknown."""
    if meters is None:
        return "–"
    return f"{meters / 1000:,.1f} km"


@register.filter
def duration(seconds: int | None) -> str:
    """Seconds as '2 h 05 min' or '45 min'; '–' when unknown."""
    if seconds is None:
        return "–"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


DISTANCE_METHODS = {
    "shape": "along the route's shape",
    "stop_to_stop": "straight lines between stops",
    "unknown": "unknown",
}


@register.filter
def distance_method(method: str) -> str:
    """How a distance was computed, in words."""
    return DISTANCE_METHODS.get(method, method)


@register.filter
def delay(seconds: int | None) -> str:
    """A delay for people: '+4 min', '-1 min' (early), 'on time' within half a minute; '' when
    no real time is known."""
    if seconds is None:
        return ""
    minutes = round(seconds / 60)
    if minutes == 0:
        return "on time"
    return f"+{minutes} min" if minutes > 0 else f"-{-minutes} min"


@register.filter
def delay_class(seconds: int | None) -> str:
    """CSS class of a delay: late from 3 minutes on, as passengers count it."""
    if seconds is None:
        return ""
    return "late" if seconds >= 180 else "on-time"
