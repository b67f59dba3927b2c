"""The API of the timetable: station search by name and near a position, with the bounds of the
search page (its form: at most MAX_QUERY_LENGTH characters and MAX_QUERY_WORDS words), a
station's departures with the board's parameters (its form), and a trip with its stops. Times
are in the feed's own time zone, with its offset, as the pages show them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkins.models import Mode
from checkins.timetable.forms import MIN_QUERY, BoardForm, StationSearchForm
from checkins.timetable.selectors import (
    BOARD_SIZE,
    MAX_QUERY_LENGTH,
    MAX_QUERY_WORDS,
    board_get,
    station_search,
    stations_nearby,
    trip_get,
)
from trainy.accounts.models import Scope
from trainy.api.forms import valid_form
from trainy.api.schema import api_operation

# How many stations an answer lists (the search page shows 15).
SEARCH_LIMIT = 15

STATION_EXAMPLE = {
    "feed": "db-fv",
    "stop_id": "8011160",
    "name": "Berlin Hbf",
    "lat": 52.525592,
    "lon": 13.369545,
}


class StationSerializer(serializers.Serializer):
    feed = serializers.CharField(help_text="The timetable feed the station is in.")
    stop_id = serializers.CharField(help_text="The feed's stop id (a string, as in GTFS).")
    name = serializers.CharField()
    lat = serializers.FloatField(allow_null=True)
    lon = serializers.FloatField(allow_null=True)


class NearbyStationSerializer(StationSerializer):
    distance_m = serializers.IntegerField(help_text="From the position asked about, in metres.")


class StationSearchApi(APIView):
    required_scopes = {"GET": Scope.READ}

    @api_operation(
        operation_id="stations_search",
        summary="Find stations by name",
        description="Every word must be in the name (case, accents and punctuation ignored); "
        "names starting with the query first, then the busiest.",
        parameters=[
            OpenApiParameter(
                "q",
                str,
                required=True,
                description=f"{MIN_QUERY} to {MAX_QUERY_LENGTH} characters, at most "
                f"{MAX_QUERY_WORDS} words.",
            )
        ],
        responses={200: StationSerializer(many=True)},
        errors=(400,),
        examples=[OpenApiExample("Berlin", value=STATION_EXAMPLE, response_only=True)],
        tags=["stations"],
    )
    def get(self, request: Request) -> Response:
        query = valid_form(StationSearchForm(request.query_params))["q"]
        if len(query) < MIN_QUERY:
            raise ValidationError(
                {"q": [f"Type at least {MIN_QUERY} characters of the station's name."]}
            )
        stations = station_search(query, limit=SEARCH_LIMIT)
        return Response(StationSerializer(stations, many=True).data)


class StationNearbyApi(APIView):
    required_scopes = {"GET": Scope.READ}

    @api_operation(
        operation_id="stations_nearby",
        summary="Stations near a position",
        description="Within 1.5 km, nearest first.",
        parameters=[
            OpenApiParameter("lat", float, required=True, description="Latitude, -90 to 90."),
            OpenApiParameter("lon", float, required=True, description="Longitude, -180 to 180."),
        ],
        responses={200: NearbyStationSerializer(many=True)},
        errors=(400,),
        examples=[
            OpenApiExample(
                "near Berlin Hbf",
                value={**STATION_EXAMPLE, "distance_m": 120},
                response_only=True,
            )
        ],
        tags=["stations"],
    )
    def get(self, request: Request) -> Response:
        data = valid_form(StationSearchForm(request.query_params))
        if data["lat"] is None:
            raise ValidationError(
                {"lat": ["Give a latitude and a longitude."], "lon": ["Give both."]}
            )
        found = stations_nearby(data["lat"], data["lon"])
        rows = [
            {**StationSerializer(station).data, "distance_m": round(distance)}
            for station, distance in found
        ]
        return Response(NearbyStationSerializer(rows, many=True).data)


class FeedTimeField(serializers.DateTimeField):
    """A moment in the feed's own time zone, with its offset (DRF would move it to the site's)."""

    def enforce_timezone(self, value: datetime) -> datetime:
        return value


class DepartureSerializer(serializers.Serializer):
    feed = serializers.CharField()
    trip_id = serializers.CharField(help_text="The feed's trip id (a string, as in GTFS).")
    service_date = serializers.DateField(help_text="The trip's service day (for /trips/).")
    route_id = serializers.CharField()
    line = serializers.CharField()
    mode = serializers.ChoiceField(choices=Mode.choices)
    headsign = serializers.CharField()
    stop_id = serializers.CharField(help_text="The platform or stop it leaves from.")
    stop_name = serializers.CharField()
    platform = serializers.CharField(allow_null=True)
    departure = FeedTimeField()


DEPARTURE_EXAMPLE = {
    "feed": "db-fv",
    "trip_id": "1601-20261206",
    "service_date": "2026-12-06",
    "route_id": "ICE-28",
    "line": "ICE 1601",
    "mode": "long_distance",
    "headsign": "Hamburg-Altona",
    "stop_id": "8011160_7",
    "stop_name": "Berlin Hbf",
    "platform": "7",
    "departure": "2026-12-06T08:00:00+01:00",
}


def _board_url(request: Request, at: datetime, earlier: bool) -> str:
    query = request.query_params.copy()
    query["at"] = at.strftime("%Y-%m-%dT%H:%M")
    if earlier:
        query["earlier"] = "on"
    else:
        query.pop("earlier", None)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


class DeparturesApi(APIView):
    required_scopes = {"GET": Scope.READ}

    @extend_schema_serializer(component_name="Board")
    class OutputSerializer(serializers.Serializer):
        station = StationSerializer()
        at = FeedTimeField(help_text="From when (or, with `earlier`, until when).")
        departures = DepartureSerializer(many=True)
        earlier = serializers.URLField(help_text="The departures before these.")
        later = serializers.URLField(help_text="The departures after these.")
        outside_service = serializers.BooleanField(
            help_text="`at` is outside the days the timetable covers."
        )

    @api_operation(
        operation_id="departures_list",
        summary="A station's departures",
        description=f"The next {BOARD_SIZE} departures, as the departure board lists them.",
        parameters=[
            OpenApiParameter(
                "at",
                str,
                description="From when, in the feed's local time (YYYY-MM-DDTHH:MM); now if "
                "left out.",
            ),
            OpenApiParameter(
                "mode",
                str,
                many=True,
                enum=Mode.values,
                description="Repeat for several; all if left out.",
            ),
            OpenApiParameter(
                "earlier", bool, description="The departures before `at` instead of after."
            ),
        ],
        responses={200: OutputSerializer},
        errors=(400, 404),
        examples=[
            OpenApiExample(
                "Berlin Hbf",
                value={
                    "station": STATION_EXAMPLE,
                    "at": "2026-12-06T08:00:00+01:00",
                    "departures": [DEPARTURE_EXAMPLE],
                    "earlier": "https://trainy.example.org/api/v1/stations/db-fv/8011160/"
                    "departures/?at=2026-12-06T08:00&earlier=on",
                    "later": "https://trainy.example.org/api/v1/stations/db-fv/8011160/"
                    "departures/?at=2026-12-06T08:01",
                    "outside_service": False,
                },
                response_only=True,
            )
        ],
        tags=["stations"],
    )
    def get(self, request: Request, feed: str, stop_id: str) -> Response:
        data = valid_form(BoardForm(request.query_params))
        board = board_get(
            feed=feed,
            stop_id=stop_id,
            at=data["at"],
            modes=data["mode"] or None,
            earlier=data["earlier"],
            limit=BOARD_SIZE,
        )
        if board is None:
            raise NotFound("No such station in the active timetables.")
        answer: dict[str, Any] = {
            "station": board.station,
            "at": board.at,
            "departures": board.departures,
            "earlier": _board_url(request, board.earlier_at, earlier=True),
            "later": _board_url(request, board.later_at, earlier=False),
            "outside_service": board.outside_service,
        }
        return Response(self.OutputSerializer(answer).data)


class TripStopSerializer(serializers.Serializer):
    seq = serializers.IntegerField(help_text="The stop's sequence number in the trip.")
    stop_id = serializers.CharField()
    name = serializers.CharField()
    station_id = serializers.CharField(help_text="Its station (the stop itself if it is one).")
    station_name = serializers.CharField()
    platform = serializers.CharField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    lon = serializers.FloatField(allow_null=True)
    arrival = FeedTimeField(allow_null=True)
    departure = FeedTimeField(allow_null=True)


class TripApi(APIView):
    required_scopes = {"GET": Scope.READ}

    @extend_schema_serializer(component_name="Trip")
    class OutputSerializer(serializers.Serializer):
        feed = serializers.CharField()
        trip_id = serializers.CharField()
        service_date = serializers.DateField()
        route_id = serializers.CharField()
        line = serializers.CharField()
        mode = serializers.ChoiceField(choices=Mode.choices)
        headsign = serializers.CharField()
        agency = serializers.CharField()
        stops = TripStopSerializer(many=True)

    @api_operation(
        operation_id="trip_get",
        summary="A trip with its stops",
        description="A trip on one service day (as a departure names it), every stop with its "
        "times.",
        responses={200: OutputSerializer},
        errors=(404,),
        examples=[
            OpenApiExample(
                "ICE 1601",
                value={
                    **{
                        k: DEPARTURE_EXAMPLE[k]
                        for k in ("feed", "trip_id", "service_date", "route_id", "line", "mode")
                    },
                    "headsign": "Hamburg-Altona",
                    "agency": "DB Fernverkehr AG",
                    "stops": [
                        {
                            "seq": 1,
                            "stop_id": "8011160_7",
                            "name": "Berlin Hbf",
                            "station_id": "8011160",
                            "station_name": "Berlin Hbf",
                            "platform": "7",
                            "lat": 52.525592,
                            "lon": 13.369545,
                            "arrival": None,
                            "departure": "2026-12-06T08:00:00+01:00",
                        },
                    ],
                },
                response_only=True,
            )
        ],
        tags=["trips"],
    )
    def get(self, request: Request, feed: str, trip_id: str, service_date: str) -> Response:
        try:
            day = date.fromisoformat(service_date)
        except ValueError:
            raise NotFound("Not a service date (YYYY-MM-DD).") from None
        trip = trip_get(feed=feed, trip_id=trip_id, service_date=day)
        if trip is None:
            raise NotFound("This trip does not run on that day in the active timetable.")
        return Response(self.OutputSerializer(trip).data)
