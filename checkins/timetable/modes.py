"""GTFS route_type (basic and extended) to Trainy's small set of modes."""

from __future__ import annotations

import re

from checkins.models import Mode

BASIC = {
    0: Mode.TRAM,
    1: Mode.SUBWAY,
    2: Mode.REGIONAL,  # "rail": refined by the line name below
    3: Mode.BUS,
    4: Mode.FERRY,
    5: Mode.TRAM,  # cable tram
    6: Mode.OTHER,  # aerial lift
    7: Mode.OTHER,  # funicular
    11: Mode.BUS,  # trolleybus
    12: Mode.SUBWAY,  # monorail
}
# Extended route types (Google's "hierarchical vehicle types"), by code or by hundreds.
EXTENDED = {
    101: Mode.LONG_DISTANCE,  # high speed rail
    102: Mode.LONG_DISTANCE,  # long distance trains
    103: Mode.REGIONAL,  # inter regional rail
    104: Mode.LONG_DISTANCE,  # car transport rail
    105: Mode.LONG_DISTANCE,  # sleeper rail
    106: Mode.REGIONAL,
    107: Mode.OTHER,  # tourist railway
    108: Mode.REGIONAL,  # rail shuttle
    109: Mode.SUBURBAN,
    400: Mode.SUBWAY,
    401: Mode.SUBWAY,
    402: Mode.SUBWAY,
    403: Mode.SUBURBAN,
    405: Mode.SUBWAY,  # monorail
}
HUNDREDS = {
    1: Mode.REGIONAL,  # railway service
    2: Mode.BUS,  # coach
    4: Mode.SUBWAY,  # urban railway
    7: Mode.BUS,
    8: Mode.BUS,  # trolleybus
    9: Mode.TRAM,
    10: Mode.FERRY,  # water transport
    12: Mode.FERRY,
}
# Feeds that mark every train as plain "rail" (type 2) still name them by product, as
# Deutsche Bahn's do: the product prefix tells long-distance from regional and suburban.
LONG_DISTANCE_PRODUCTS = re.compile(
    r"^(ICE|ICD|IC|EC|ECE|EN|NJ|TGV|THA|RJ|RJX|D|FLX|EST|ES|FR|IR|AVE|ALS|SJ|X2)\b", re.I
)
SUBURBAN_PRODUCTS = re.compile(r"^S\s?\d", re.I)
BUS_PRODUCTS = re.compile(r"^(Bus|IC Bus|ICB|SEV)\b", re.I)


def mode_for(route_type: int, line_name: str = "") -> str:
    name = line_name.strip()
    if route_type == 2 and name:
        if BUS_PRODUCTS.match(name):
            return Mode.BUS
        if LONG_DISTANCE_PRODUCTS.match(name):
            return Mode.LONG_DISTANCE
        if SUBURBAN_PRODUCTS.match(name):
            return Mode.SUBURBAN
    if route_type in BASIC:
        return BASIC[route_type]
    if route_type in EXTENDED:
        return EXTENDED[route_type]
    return HUNDREDS.get(route_type // 100, Mode.OTHER)
