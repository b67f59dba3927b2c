"""The API of the timetable: station search by name and near a position, with the bounds of the
search page (its form: at most MAX_QUERY_LENGTH characters and MAX_QUERY_WORDS words)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkins.timetable.forms import MIN_QUERY, StationSearchForm
from checkins.timetable.selectors import (
    MAX_QUERY_LENGTH,
    MAX_QUERY_WORDS,
    station_search,
    stations_nearby,
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
        scope=Scope.READ,
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
        examples=[OpenApiExample("Berlin", value=[STATION_EXAMPLE], response_only=True)],
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
        scope=Scope.READ,
        parameters=[
            OpenApiParameter("lat", float, required=True, description="Latitude, -90 to 90."),
            OpenApiParameter("lon", float, required=True, description="Longitude, -180 to 180."),
        ],
        responses={200: NearbyStationSerializer(many=True)},
        errors=(400,),
        examples=[
            OpenApiExample(
                "near Berlin Hbf",
                value=[{**STATION_EXAMPLE, "distance_m": 120}],
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
