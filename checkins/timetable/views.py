"""Station search, departure boards and trip pages."""

from __future__ import annotations

import uuid
from datetime import date

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from checkins.forms import TripCheckInForm
from checkins.models import CheckIn
from checkins.services.checkins import CheckInOverlap, checkin_from_trip
from checkins.timetable.forms import MIN_QUERY, BoardForm, StationSearchForm, StationSuggestForm
from checkins.timetable.selectors import (
    BOARD_SIZE,
    active_versions,
    board_get,
    station_search,
    stations_nearby,
    trip_get,
)
from trainy.forms import add_service_errors


@require_GET
def station_search_page(request: HttpRequest) -> HttpResponse:
    form = StationSearchForm(request.GET or None)
    stations: list = []
    nearby: list = []
    if form.is_valid():
        query = form.cleaned_data["q"]
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
def station_suggest(request: HttpRequest) -> HttpResponse:
    """Stations for a place field of the manual check-in form (htmx), with coordinates."""
    form = StationSuggestForm(request.GET)
    if "field" in form.errors:
        raise Http404("Unknown field.")
    stations = []
    if form.is_valid() and len(form.query()) >= MIN_QUERY:
        stations = station_search(form.query(), limit=6)
    context = {"stations": stations, "field": form.data.get("field"), "form": form}
    return render(request, "timetable/_suggestions.html", context)


@require_GET
def departure_board(request: HttpRequest, feed: str, stop_id: str) -> HttpResponse:
    form = BoardForm(request.GET)
    valid = form.is_valid()
    board = board_get(
        feed=feed,
        stop_id=stop_id,
        at=form.cleaned_data["at"] if valid else None,
        modes=(form.cleaned_data["mode"] or None) if valid else None,
        earlier=valid and form.cleaned_data["earlier"],
        # A filter that does not validate shows its message over an empty board.
        limit=BOARD_SIZE if valid else 0,
    )
    if board is None:
        raise Http404("No such station in the active timetables.")
    context = {
        "station": board.station,
        "version": board.version,
        "form": form,
        "at": board.at,
        "board": board.departures,
        "outside_service": board.outside_service,
        "earlier_at": board.earlier_at,
        "later_at": board.later_at,
        "modes": form.cleaned_data.get("mode", []) if valid else [],
    }
    return render(request, "timetable/board.html", context)


@require_http_methods(["GET", "POST"])
def trip_detail(request: HttpRequest, feed: str, trip_id: str, service_date: str) -> HttpResponse:
    """A trip's stops; a signed-in traveller picks where they get off and checks in here."""
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
    overlap: list[CheckIn] = []
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        form = TripCheckInForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                checkin = checkin_from_trip(
                    user=request.user,
                    feed=feed,
                    trip_id=trip_id,
                    service_date=day,
                    origin_seq=data["origin_seq"],
                    destination_seq=data["destination_seq"],
                    message=data["message"],
                    visibility=data["visibility"],
                    purpose=data["purpose"],
                    idempotency_key=data["idempotency_key"],
                    allow_overlap=data["check_in_anyway"],
                    trip=trip,
                )
            except CheckInOverlap as conflict:
                overlap = conflict.overlapping
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Checked in. Have a good trip!")
                return redirect("checkins:detail", checkin_id=checkin.id)
        start = next(
            (
                i
                for i, stop in enumerate(trip.stops)
                if str(stop.seq) == form.data.get("origin_seq")
            ),
            start,
        )
    else:
        user = request.user
        form = TripCheckInForm(
            initial={
                "origin_seq": trip.stops[start].seq,
                "visibility": getattr(user, "default_visibility", "public"),
                "idempotency_key": uuid.uuid4(),
            }
        )
    boarding_stop = trip.stops[start]
    context = {
        "trip": trip,
        "boarding": boarding_stop,
        "earlier_stops": trip.stops[:start],
        "later_stops": trip.stops[start + 1 :],
        "form": form,
        "overlap": overlap,
    }
    return render(request, "timetable/trip.html", context)
