"""Distances on the Earth's surface."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import polyline

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


def great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in metres between two WGS84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def path_length_m(points: Sequence[tuple[float, float]]) -> float:
    """Length of a polyline of (lat, lon) points, as the sum of its great-circle segments."""
    return sum(great_circle_m(a[0], a[1], b[0], b[1]) for a, b in itertools.pairwise(points))


POLYLINE_PRECISION = 6


def encode_path(points: Sequence[tuple[float, float]]) -> str:
    """(lat, lon) points as an encoded polyline (precision 6): compact, and no nested lists."""
    return polyline.encode(list(points), POLYLINE_PRECISION)


def decode_path(encoded: str) -> list[tuple[float, float]]:
    return polyline.decode(encoded, POLYLINE_PRECISION)
