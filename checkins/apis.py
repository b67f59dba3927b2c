"""The API of journeys: the traveller's own, filtered as on "My journeys", and one journey as
its page shows it to the viewer (checkins_visible_to decides, through checkin_get)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkins.forms import HistoryFilterForm
from checkins.models import CheckIn, Mode, Purpose, Visibility
from checkins.selectors import checkin_get, journey_history, parse_cursor
from stats.forms import PERIODS
from trainy.accounts.models import Scope, User
from trainy.api.forms import valid_form
from trainy.api.pagination import PAGE_PARAMETERS, PageQuerySerializer, next_url, page_serializer
from trainy.api.schema import api_operation

JOURNEY_EXAMPLE = {
    "id": 42,
    "traveller": {"username": "alice", "display_name": "Alice"},
    "mode": "long_distance",
    "line_name": "ICE 1601",
    "operator_name": "DB Fernverkehr",
    "origin_name": "Berlin Hbf",
    "destination_name": "Hamburg Hbf",
    "departure_planned": "2026-12-06T08:00:00+01:00",
    "arrival_planned": "2026-12-06T09:51:00+01:00",
    "departure_real": "2026-12-06T08:03:00+01:00",
    "arrival_real": None,
    "message": "On my way",
    "visibility": "public",
    "purpose": "business",
    "distance_m": 284000,
    "feed": "db-fv",
    "trip_id": "1601-20261206",
    "service_date": "2026-12-06",
    "like_count": 2,
    "liked": False,
    "created_at": "2026-12-06T07:58:12.123456+01:00",
}


class TravellerSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField(source="name")


class JourneySerializer(serializers.Serializer):
    """A journey as its page shows it (times with their offset, ISO 8601)."""

    id = serializers.IntegerField()
    traveller = TravellerSerializer(source="user")
    mode = serializers.ChoiceField(choices=Mode.choices)
    line_name = serializers.CharField()
    operator_name = serializers.CharField()
    origin_name = serializers.CharField()
    destination_name = serializers.CharField()
    departure_planned = serializers.DateTimeField()
    arrival_planned = serializers.DateTimeField()
    departure_real = serializers.DateTimeField(allow_null=True)
    arrival_real = serializers.DateTimeField(allow_null=True)
    message = serializers.CharField()
    visibility = serializers.ChoiceField(choices=Visibility.choices)
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    distance_m = serializers.IntegerField(allow_null=True, help_text="Null until computed.")
    feed = serializers.CharField(source="feed_name", help_text="Timetable feed; empty: manual.")
    trip_id = serializers.CharField(help_text="The feed's trip id; empty for a manual check-in.")
    service_date = serializers.DateField(allow_null=True)
    like_count = serializers.IntegerField()
    liked = serializers.BooleanField(help_text="Whether you liked it.")
    created_at = serializers.DateTimeField()


class TotalsSerializer(serializers.Serializer):
    journeys = serializers.IntegerField()
    distance_km = serializers.FloatField()
    hours = serializers.FloatField()


FILTER_PARAMETERS = [
    OpenApiParameter(
        "period", str, enum=list(PERIODS), description="A period; `custom` with start/end."
    ),
    OpenApiParameter("start", str, description="First day (YYYY-MM-DD), in Trainy's time zone."),
    OpenApiParameter("end", str, description="Last day (YYYY-MM-DD), included."),
    OpenApiParameter(
        "purpose", str, many=True, enum=Purpose.values, description="Repeat for several."
    ),
    OpenApiParameter("mode", str, many=True, enum=Mode.values, description="Repeat for several."),
]


class JourneyListApi(APIView):
    required_scopes = {"GET": Scope.READ}

    OutputSerializer = extend_schema_serializer(component_name="JourneyPage")(
        page_serializer(
            "JourneyPageSerializer",
            JourneySerializer,
            totals=TotalsSerializer(help_text="Over every journey the filter selects."),
        )
    )

    @api_operation(
        operation_id="journeys_list",
        summary="Your journeys",
        description="Newest first, with the filters of “My journeys” (the same parameters and "
        "messages); all time by default. Private journeys included: they are yours.",
        parameters=[*FILTER_PARAMETERS, *PAGE_PARAMETERS],
        responses={200: OutputSerializer},
        errors=(400,),
        examples=[
            OpenApiExample(
                "one page",
                value={
                    "results": [JOURNEY_EXAMPLE],
                    "next_cursor": "1765004400000000-41",
                    "next": "https://trainy.example.org/api/v1/journeys/?cursor=1765004400000000-41",
                    "totals": {"journeys": 57, "distance_km": 10432.5, "hours": 98.2},
                },
                response_only=True,
            )
        ],
        tags=["journeys"],
    )
    def get(self, request: Request) -> Response:
        user: User = request.user
        page_query = PageQuerySerializer(data=request.query_params)
        page_query.is_valid(raise_exception=True)
        criteria = HistoryFilterForm(request.query_params)
        valid_form(criteria)
        cursor = page_query.validated_data.get("cursor")
        after = parse_cursor(cursor) if cursor else None
        if cursor and after is None:
            raise ValidationError({"cursor": ["Not a cursor of this list; start without one."]})
        page = journey_history(
            owner=user,
            criteria=criteria.criteria(),
            after=after,
            limit=page_query.validated_data["limit"],
        )
        data = {
            "results": page.journeys,
            "next_cursor": page.next_cursor,
            "next": next_url(request, page.next_cursor),
            "totals": page.totals,
        }
        return Response(self.OutputSerializer(data).data)


class JourneyDetailApi(APIView):
    required_scopes = {"GET": Scope.READ}

    @api_operation(
        operation_id="journey_get",
        summary="One journey",
        description="Anyone's journey that its page would show you; 404 for one that does not "
        "exist and for one you may not see, alike.",
        responses={200: JourneySerializer},
        errors=(404,),
        examples=[OpenApiExample("a journey", value=JOURNEY_EXAMPLE, response_only=True)],
        tags=["journeys"],
    )
    def get(self, request: Request, checkin_id: int) -> Response:
        checkin: CheckIn | None = checkin_get(viewer=request.user, checkin_id=checkin_id)
        if checkin is None:
            raise NotFound("No such journey.")
        return Response(JourneySerializer(checkin).data)
