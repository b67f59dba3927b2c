"""Station search, departure boards and trip pages."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from checkins.forms import TripCheckInForm
from checkins.models import CheckIn
from checkins.services.checkins import CheckInOverlap, checkin_from_trip
from checkins.timetable.forms import MIN_QUERY, BoardForm, StationSearchForm, StationSuggestForm
from checkins.timetable.selectors import (
    active_versions,
    departures,
    station_get,
    station_search,
    stations_nearby,
    trip_get,
)
from trainy.forms import add_service_errors

BOARD_SIZE = 20


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
