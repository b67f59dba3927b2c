from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from checkins.selectors import journey_paths
from stats import emissions
from stats.forms import StatsFilterForm
from stats.points import BASE_POINTS
from stats.selectors import (
    LEADERBOARD_WINDOWS,
    journey_ids_for_map,
    leaderboard,
    user_statistics,
)
from trainy.http import AuthenticatedRequest


@login_required
@require_GET
def overview(request: AuthenticatedRequest) -> HttpResponse:
    form = StatsFilterForm(request.GET or {"period": "this-year"})
    statistics = None
    if form.is_valid():
        statistics = user_statistics(owner=request.user, criteria=form.criteria())
    context = {
        "form": form,
        "stats": statistics,
        "query": request.GET.urlencode(),
        "emission_source": emissions.SOURCE,
        "emission_source_url": emissions.SOURCE_URL,
        "hours": range(24),
        "map_tiles": settings.TRAINY_MAP_TILES,
    }
    return render(request, "stats/overview.html", context, status=200 if form.is_valid() else 400)


@login_required
@require_GET
def journey_map(request: AuthenticatedRequest) -> JsonResponse:
    """The routes of the range's journeys for the statistics map (the page asks after it has
    loaded; the figures never wait for the document store)."""
    form = StatsFilterForm(request.GET or {"period": "this-year"})
    if not form.is_valid():
        return JsonResponse({"error": form.errors.get_json_data()}, status=400)
    ids = journey_ids_for_map(owner=request.user, criteria=form.criteria())
    # Each route's overview; of an older document without one, every fourth point of the
    # whole route, plenty at the zoom of a map of many journeys.
    paths = journey_paths(checkin_ids=ids, every=4)
    if paths is None:
        return JsonResponse({"paths": [], "note": "Routes are unavailable at the moment."})
    return JsonResponse({"paths": paths})


@require_GET
def leaderboards(request: HttpRequest) -> HttpResponse:
    week, month = LEADERBOARD_WINDOWS
    context = {
        "boards": [
            ("This week", leaderboard(viewer=request.user, days=week), "weekly"),
            ("This month", leaderboard(viewer=request.user, days=month), "monthly"),
        ],
        "base_points": sorted(BASE_POINTS.items(), key=lambda item: -item[1]),
    }
    return render(request, "stats/leaderboard.html", context)
