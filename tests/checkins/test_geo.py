"""Routes as points: simplifying one for an overview keeps its shape within the tolerance and
its length within the budget."""

from __future__ import annotations

import itertools
import math
import random

from checkins.geo import great_circle_m, simplify_path


def straight(count: int) -> list[tuple[float, float]]:
    """Berlin Hbf to Hamburg Hbf in ``count`` evenly spaced points."""
    return [
        (52.5251 + (53.5530 - 52.5251) * n / (count - 1),
         13.3694 + (10.0069 - 13.3694) * n / (count - 1))
        for n in range(count)
    ]  # fmt: skip


def test_a_straight_route_keeps_its_two_ends():
    route = straight(1000)
    assert simplify_path(route, tolerance_m=10, max_points=100) == [route[0], route[-1]]


def test_a_route_with_corners_keeps_its_corners_and_drops_the_points_between():
    # A staircase: 200 points east, 200 north, 200 east, 200 north (about 1.1 m apart).
    route = [(52.5, 13.4 + n * 1e-5) for n in range(200)]
    route += [(52.5 + n * 1e-5, route[-1][1]) for n in range(1, 200)]
    route += [(route[-1][0], route[-1][1] + n * 1e-5) for n in range(1, 200)]
    route += [(route[-1][0] + n * 1e-5, route[-1][1]) for n in range(1, 200)]
    corners = [route[0], route[199], route[398], route[597], route[-1]]
    assert simplify_path(route, tolerance_m=1, max_points=100) == corners


def test_a_winding_route_is_cut_to_the_budget_in_order_with_its_ends():
    rng = random.Random(7)
    route = [(lat + rng.gauss(0, 2e-4), lon + rng.gauss(0, 2e-4)) for lat, lon in straight(3000)]
    overview = simplify_path(route, tolerance_m=10, max_points=100)
    assert len(overview) == 100
    assert overview[0] == route[0] and overview[-1] == route[-1]
    positions = [route.index(point) for point in overview]
    assert positions == sorted(positions)


def distance_to_segment_m(point, start, end) -> float:
    """Metres from ``point`` to the nearest point of the segment, by great circle (apart from
    the flat projection under test): a ternary search along it, the distance having one
    minimum."""
    low, high = 0.0, 1.0

    def at(share: float) -> float:
        return great_circle_m(*point, start[0] + (end[0] - start[0]) * share,
                              start[1] + (end[1] - start[1]) * share)  # fmt: skip

    for _ in range(60):
        left, right = low + (high - low) / 3, high - (high - low) / 3
        if at(left) < at(right):
            high = right
        else:
            low = left
    return at((low + high) / 2)


def test_every_dropped_point_is_within_the_tolerance_of_the_overview():
    # A smooth arc of 2,000 points about a metre apart: the tolerance is reached before the
    # budget.
    route = [
        (52.5 + 0.01 * math.sin(n / 2000 * math.pi), 13.4 + 0.02 * n / 2000) for n in range(2000)
    ]
    overview = simplify_path(route, tolerance_m=2, max_points=1000)
    assert 2 < len(overview) < 100
    kept = [route.index(point) for point in overview]
    for first, last in itertools.pairwise(kept):
        for index in range(first + 1, last):
            distance = distance_to_segment_m(route[index], route[first], route[last])
            assert distance < 2.01, (index, distance)


def test_short_routes_are_kept_as_they_are():
    assert simplify_path([], tolerance_m=10, max_points=100) == []
    assert simplify_path([(52.5, 13.4)], tolerance_m=10, max_points=100) == [(52.5, 13.4)]
    two = [(52.5, 13.4), (53.5, 10.0)]
    assert simplify_path(two, tolerance_m=10, max_points=100) == two
