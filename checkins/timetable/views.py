"""Station search, departure boards and trip pages."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from checkins.timetable.forms import MIN_QUERY, BoardForm, StationSearchForm
from checkins.timetable.selectors import (
    Trip,
    TripStop,
    active_versions,
    departures,
    station_get,
    station_search,
    stations_nearby,
    trip_get,
)

BOARD_SIZE = 20


@require_GET
def station_search_page(request: HttpRequest) -> HttpResponse:
    form = StationSearchForm(request.GET or None)
    stations: list = []
    nearby: list = []
    if form.is_valid():
        query = form.cleaned_data["q"].strip()
        if len(query) >= MIN_QUERY:
            stations = station_search(query, limit=15)
        if form.cleaned_data["lat"] is not None:
            nearby = stations_nearby(form.cleaned_data["lat"], form.cleaned_data["lon"])
    context = {"form": form, "stations": stations, "nearby": nearby, "feeds": active_versions()}
    # htmx asks for the results only, as the traveller types.
    partial = request.headers.get("HX-Request") == "true"
    template = "timetable/_station_results.html" if partial else "timetable/search.html"
    return render(request, template, context)


@require_GET
def departure_board(request: HttpRequest, feed: str, stop_id: str) -> HttpResponse:
    station = station_get(feed=feed, stop_id=stop_id)
    if station is None:
        raise Http404("No such station in the active timetables.")
    version = active_versions(feed)[0]
    form = BoardForm(request.GET)
    board = []
    at = timezone.now().astimezone(version.timezone).replace(second=0, microsecond=0)
    if form.is_valid():
        if form.cleaned_data["at"]:
            # The form's time is the feed's wall-clock time, whatever the site's time zone.
            at = timezone.make_naive(form.cleaned_data["at"]).replace(tzinfo=version.timezone)
        board = departures(
            stop_id=stop_id,
            at=at,
            limit=BOARD_SIZE,
            feed=feed,
            modes=form.cleaned_data["mode"] or None,
            before=form.cleaned_data["earlier"],
        )
    covered = version.start_date, version.end_date
    outside = bool(covered[0] and covered[1] and not covered[0] <= at.date() <= covered[1])
    context = {
        "station": station,
        "version": version,
        "form": form,
        "at": at,
        "board": board,
        "outside_service": outside,
        "earlier_at": board[0].departure if board else at,
        "later_at": (board[-1].departure if board else at) + timedelta(minutes=1),
        "modes": form.cleaned_data.get("mode", []) if form.is_valid() else [],
    }
    return render(request, "timetable/board.html", context)


@require_GET
def trip_detail(request: HttpRequest, feed: str, trip_id: str, service_date: str) -> HttpResponse:
    try:
        day = date.fromisoformat(service_date)
    except ValueError:
        raise Http404("Not a service date.") from None
    trip = trip_get(feed=feed, trip_id=trip_id, service_date=day)
    if trip is None:
        raise Http404("This trip does not run on that day in the active timetable.")
    boarding = request.GET.get("from", "")
    # The traveller boards where the board was: the first stop of the trip at that station.
    start = next(
        (i for i, stop in enumerate(trip.stops) if boarding in (stop.stop_id, stop.station_id)),
        0,
    )
    boarding_stop = trip.stops[start]
    context = {
        "trip": trip,
        "boarding": boarding_stop,
        "earlier_stops": trip.stops[:start],
        "exits": [
            (stop, _checkin_url(trip, boarding_stop, stop)) for stop in trip.stops[start + 1 :]
        ],
    }
    return render(request, "timetable/trip.html", context)


def _local(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M") if moment else ""


def _checkin_url(trip: Trip, boarding: TripStop, exit_stop: TripStop) -> str:
    """The check-in form, filled in for this trip from ``boarding`` to ``exit_stop``."""
    zone = (boarding.departure or exit_stop.arrival or timezone.now()).tzinfo
    params = {
        "line_name": trip.line,
        "mode": trip.mode,
        "operator_name": trip.agency,
        "origin_name": boarding.name,
        "origin_lat": boarding.lat,
        "origin_lon": boarding.lon,
        "destination_name": exit_stop.name,
        "destination_lat": exit_stop.lat,
        "destination_lon": exit_stop.lon,
        "departure_planned": _local(boarding.departure),
        "arrival_planned": _local(exit_stop.arrival),
        "time_zone": getattr(zone, "key", ""),
    }
    query = urlencode({key: value for key, value in params.items() if value not in (None, "")})
    return f"{reverse('checkins:new')}?{query}"
