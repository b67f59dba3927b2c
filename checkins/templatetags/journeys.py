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
