"""Distances on the Earth's surface, and routes as encoded polylines."""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Sequence

import polyline

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
METRES_PER_DEGREE = EARTH_RADIUS_M * math.pi / 180


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
# About a metre: what a map of many journeys draws (the statistics map). Decoded at this
# precision, a point is its coordinates rounded to five places, ready to send.
MAP_PRECISION = 5


def encode_path(points: Sequence[tuple[float, float]], precision: int = POLYLINE_PRECISION) -> str:
    """(lat, lon) points as an encoded polyline (precision 6 unless told): compact, and no
    nested lists."""
    return polyline.encode(list(points), precision)


def decode_path(encoded: str, precision: int = POLYLINE_PRECISION) -> list[tuple[float, float]]:
    return polyline.decode(encoded, precision)


def simplify_path(
    points: Sequence[tuple[float, float]], *, tolerance_m: float, max_points: int
) -> list[tuple[float, float]]:
    """The points of ``points`` (lat, lon) that Douglas–Peucker keeps for ``tolerance_m``, at
    most ``max_points`` of them (at least two): the first and last always, then, one at a
    time, the point farthest from the line kept so far, until every dropped point is within
    the tolerance of it or the budget is spent. Where the budget binds, the points kept are
    those that stood farthest off the line, not an even sample.

    Distances are measured on a flat projection around the path's middle latitude, exact
    enough over the length of a journey for drawing it.
    """
    count = len(points)
    if count <= 2 or max_points <= 2:
        return [points[0], points[-1]] if count >= 2 else list(points)
    x_scale = math.cos(math.radians(points[count // 2][0])) * METRES_PER_DEGREE
    xs = [lon * x_scale for _, lon in points]
    ys = [lat * METRES_PER_DEGREE for lat, _ in points]

    def farthest(first: int, last: int) -> tuple[float, int]:
        """The squared distance in m² of the point between ``first`` and ``last`` farthest
        from the segment joining them, and its index."""
        ax, ay = xs[first], ys[first]
        dx, dy = xs[last] - ax, ys[last] - ay
        length2 = dx * dx + dy * dy
        best, at = -1.0, first + 1
        for index in range(first + 1, last):
            px, py = xs[index] - ax, ys[index] - ay
            share = (px * dx + py * dy) / length2 if length2 else 0.0
            share = 0.0 if share < 0.0 else 1.0 if share > 1.0 else share
            ex, ey = px - share * dx, py - share * dy
            distance2 = ex * ex + ey * ey
            if distance2 > best:
                best, at = distance2, index
        return best, at

    tolerance2 = tolerance_m * tolerance_m
    distance2, at = farthest(0, count - 1)
    # The segments still to refine, farthest point first (heapq pops the smallest).
    segments = [(-distance2, 0, count - 1, at)]
    kept = [0, count - 1]
    while segments and len(kept) < max_points:
        negative, first, last, at = heapq.heappop(segments)
        if -negative <= tolerance2:
            break
        kept.append(at)
        for start, end in ((first, at), (at, last)):
            if end - start > 1:
                distance2, index = farthest(start, end)
                heapq.heappush(segments, (-distance2, start, end, index))
    return [points[index] for index in sorted(kept)]
