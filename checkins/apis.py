"""The API of journeys: checking in (from a timetable trip or by hand), the traveller's own
journeys filtered as on "My journeys", one journey as its page shows it to the viewer
(checkins_visible_to decides, through checkin_get), and changing or deleting one's own.

Writes go through the services the pages use (checkins.services.checkins), so the rules, the
overlap check, the idempotency of a double submit and the webhooks are the pages' own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_serializer,
)
from rest_framework import parsers, serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkins.forms import ZONE_NAME_MAX_LENGTH, HistoryFilterForm, zone_named
from checkins.models import MESSAGE_MAX_LENGTH, CheckIn, JourneyImport, Mode, Purpose, Visibility
from checkins.selectors import (
    checkin_get,
    checkin_owned,
    checkin_submitted,
    journey_history,
    journey_import_get,
    journey_imports_recent,
    journeys_of,
    parse_cursor,
)
from checkins.services.checkins import (
    CheckInOverlap,
    Place,
    checkin_create,
    checkin_delete,
    checkin_from_trip,
    checkin_update,
)
from checkins.services.imports import (
    DIRECT_LIMIT,
    KEEP_IMPORTS,
    MAX_IMPORT_BYTES,
    TOO_LARGE,
    UPLOAD_OVERHEAD,
    ImportRefused,
    journey_import_check,
    journey_import_start,
    journeys_import,
    result_summary,
)
from stats.forms import PERIODS
from trainy.accounts.models import Scope, User
from trainy.api.errors import error_body
from trainy.api.forms import valid_form
from trainy.api.pagination import PAGE_PARAMETERS, PageQuerySerializer, next_url, page_serializer
from trainy.api.schema import ErrorDetailSerializer, api_operation
from trainy.forms import out_of_range, validate_in_range

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


# --- Checking in ---------------------------------------------------------------------------------

NO_SUCH_JOURNEY = "No such journey."
# The largest stop sequence number a journey holds (a 32-bit column; GTFS's are never negative).
SEQ_MAX = 2**31 - 1
# The edit page's bound (checkins.forms.CheckInEditForm.cost_centre).
COST_CENTRE_MAX_LENGTH = 100
NAIVE_TIMES = "ISO 8601; one without an offset is read in {whose} time zone."


class BoundedDateTimeField(serializers.DateTimeField):
    """A moment within the range the pages' date-time fields take (trainy.forms)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validators=[validate_in_range], **kwargs)

    def to_internal_value(self, value: Any) -> datetime:
        try:
            return super().to_internal_value(value)
        except OverflowError:
            # DRF checks a moment without an offset by moving it to UTC, which overflows near
            # the ends of the calendar: the range is the real problem.
            raise serializers.ValidationError(out_of_range().messages) from None


class CheckInFieldsSerializer(serializers.Serializer):
    """What every check-in says besides the journey itself (the check-in forms' fields)."""

    message = serializers.CharField(
        max_length=MESSAGE_MAX_LENGTH, allow_blank=True, default="", help_text="A status message."
    )
    visibility = serializers.ChoiceField(
        choices=Visibility.choices,
        required=False,
        help_text="Who sees it; your default visibility (see /me/) if left out.",
    )
    purpose = serializers.ChoiceField(choices=Purpose.choices, default=Purpose.PRIVATE)
    idempotency_key = serializers.UUIDField(
        required=False,
        help_text="A UUID you make for this check-in: a retry with the same key (after a "
        "timeout, say) records nothing new and answers 200 with the journey the first "
        "request recorded.",
    )
    force = serializers.BooleanField(
        default=False,
        help_text="Check in even though the journey overlaps others of yours (after a 409), "
        "as the page's “check in anyway” does.",
    )


class TripCheckInSerializer(CheckInFieldsSerializer):
    feed = serializers.SlugField(
        max_length=64, help_text="The timetable feed (as a departure names it)."
    )
    trip_id = serializers.CharField(max_length=255, help_text="The feed's trip id.")
    service_date = serializers.DateField(
        validators=[validate_in_range],
        help_text="The trip's service day (as a departure names it).",
    )
    origin_seq = serializers.IntegerField(
        min_value=0, max_value=SEQ_MAX, help_text="The `seq` of the stop you board at."
    )
    destination_seq = serializers.IntegerField(
        min_value=0, max_value=SEQ_MAX, help_text="The `seq` of a later stop, where you get off."
    )


class ManualCheckInSerializer(CheckInFieldsSerializer):
    """The manual check-in form's fields (checkins.forms.ManualCheckInForm), with its bounds."""

    line_name = serializers.CharField(max_length=100, help_text="e.g. ICE 1601 or S7")
    mode = serializers.ChoiceField(choices=Mode.choices, default=Mode.OTHER)
    operator_name = serializers.CharField(max_length=200, allow_blank=True, default="")
    origin_name = serializers.CharField(max_length=200)
    origin_lat = serializers.FloatField(
        min_value=-90, max_value=90, required=False, allow_null=True
    )
    origin_lon = serializers.FloatField(
        min_value=-180, max_value=180, required=False, allow_null=True
    )
    destination_name = serializers.CharField(max_length=200)
    destination_lat = serializers.FloatField(
        min_value=-90, max_value=90, required=False, allow_null=True
    )
    destination_lon = serializers.FloatField(
        min_value=-180, max_value=180, required=False, allow_null=True
    )
    departure_planned = BoundedDateTimeField(help_text=NAIVE_TIMES.format(whose="`time_zone`'s"))
    arrival_planned = BoundedDateTimeField(help_text=NAIVE_TIMES.format(whose="`time_zone`'s"))
    time_zone = serializers.CharField(
        max_length=ZONE_NAME_MAX_LENGTH,
        allow_blank=True,
        default="",
        help_text="The IANA time zone the journey is in (e.g. Europe/Berlin); Trainy's if "
        "left out.",
    )

    def validate_time_zone(self, value: str) -> str:
        if value and zone_named(value) is None:
            raise serializers.ValidationError("Not a time zone (an IANA name like Europe/Berlin).")
        return value

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        # Both coordinates of a place or neither: one alone places it nowhere.
        for place in ("origin", "destination"):
            if (data.get(f"{place}_lat") is None) != (data.get(f"{place}_lon") is None):
                raise serializers.ValidationError(
                    {f"{place}_lon": ["Give the latitude and the longitude, or neither."]}
                )
        return data


class ConflictErrorDetailSerializer(ErrorDetailSerializer):
    conflicts = JourneySerializer(
        many=True, help_text="Your journeys this one overlaps, earliest first."
    )


@extend_schema_serializer(component_name="ConflictError")
class ConflictErrorSerializer(serializers.Serializer):
    error = ConflictErrorDetailSerializer()


CONFLICT_MESSAGE = (
    "You are travelling then already (see the conflicts): send the check-in again with "
    "force: true to check in anyway."
)
CONFLICT_EXAMPLE = {
    "error": {
        "code": "overlap",
        "message": CONFLICT_MESSAGE,
        "fields": {},
        "conflicts": [JOURNEY_EXAMPLE],
    }
}
CHECKIN_RESPONSES = {
    201: OpenApiResponse(
        JourneySerializer,
        description="Checked in: the journey; `Location` is its URL.",
        examples=[OpenApiExample("checked in", value=JOURNEY_EXAMPLE, status_codes=["201"])],
    ),
    200: OpenApiResponse(
        JourneySerializer,
        description="An earlier request with this `idempotency_key` recorded it already: that "
        "journey, and nothing new.",
        examples=[OpenApiExample("recorded before", value=JOURNEY_EXAMPLE, status_codes=["200"])],
    ),
    409: OpenApiResponse(
        ConflictErrorSerializer,
        description="The journey overlaps others of yours (`code`: `overlap`), listed in "
        "`conflicts`; send it again with `force: true` to check in anyway.",
        examples=[OpenApiExample("overlap", value=CONFLICT_EXAMPLE, status_codes=["409"])],
    ),
}
CHECKIN_DESCRIPTION = (
    "{what} Fires `checkin.created` to your webhooks. Retrying after a timeout is safe with an "
    "`idempotency_key`: the first request's journey comes back with 200. Without one, a retry "
    "of a check-in that was recorded is refused with 409, its journey among the conflicts."
)


def _journey(user: User, checkin_id: int) -> CheckIn:
    """One of ``user``'s journeys, as the answers show it (its likes counted); 404 if it is
    gone (deleted by another request since this one wrote it)."""
    found = journeys_of(owner=user, checkin_ids=[checkin_id])
    if not found:
        raise NotFound(NO_SUCH_JOURNEY)
    return found[0]


def _checked_in(request: Request, data: dict[str, Any], record: Callable[..., CheckIn]) -> Response:
    """Check in through ``record`` (a service) with the request's ``data``: 201 and the new
    journey, 200 and the earlier one for a repeated idempotency key, 409 for an overlap."""
    user: User = request.user
    key = data.pop("idempotency_key", None)
    earlier = checkin_submitted(owner=user, idempotency_key=key) if key else None
    if earlier is not None:
        return Response(JourneySerializer(earlier).data, status=status.HTTP_200_OK)
    allow_overlap = data.pop("force")
    try:
        checkin = record(user=user, idempotency_key=key, allow_overlap=allow_overlap, **data)
    except CheckInOverlap as overlap:
        conflicts = journeys_of(owner=user, checkin_ids=[c.id for c in overlap.overlapping])
        body = error_body("overlap", CONFLICT_MESSAGE)
        body["error"]["conflicts"] = JourneySerializer(conflicts, many=True).data
        return Response(body, status=status.HTTP_409_CONFLICT)
    location = request.build_absolute_uri(reverse("api:journey", args=[checkin.id]))
    return Response(
        JourneySerializer(_journey(user, checkin.id)).data,
        status=status.HTTP_201_CREATED,
        headers={"Location": location},
    )


class TripCheckInApi(APIView):
    required_scopes = {"POST": Scope.CHECKINS_WRITE}

    InputSerializer = extend_schema_serializer(component_name="TripCheckIn")(TripCheckInSerializer)

    @api_operation(
        operation_id="checkins_create",
        summary="Check in to a trip",
        description=CHECKIN_DESCRIPTION.format(
            what="From one of a timetable trip's stops to a later one, as the trip page does: "
            "the trip and its stops as a departure and the trip (`/trips/…`) name them."
        ),
        request=InputSerializer,
        responses=CHECKIN_RESPONSES,
        errors=(400,),
        examples=[
            OpenApiExample(
                "ICE 1601 from Berlin to Hamburg",
                value={
                    "feed": "db-fv",
                    "trip_id": "1601-20261206",
                    "service_date": "2026-12-06",
                    "origin_seq": 1,
                    "destination_seq": 5,
                    "message": "On my way",
                    "visibility": "public",
                    "purpose": "business",
                    "idempotency_key": "0b7e5c1e-4f5e-4a8e-9a51-3f0c2d6b9e11",
                },
                request_only=True,
            )
        ],
        tags=["checkins"],
    )
    def post(self, request: Request) -> Response:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        return _checked_in(request, dict(given.validated_data), checkin_from_trip)


class ManualCheckInApi(APIView):
    required_scopes = {"POST": Scope.CHECKINS_WRITE}

    InputSerializer = extend_schema_serializer(component_name="ManualCheckIn")(
        ManualCheckInSerializer
    )

    @api_operation(
        operation_id="checkins_create_manual",
        summary="Check in by hand",
        description=CHECKIN_DESCRIPTION.format(
            what="A journey the timetable does not know, typed in as on the manual check-in "
            "page. With both places' coordinates, an implausible speed is refused."
        ),
        request=InputSerializer,
        responses=CHECKIN_RESPONSES,
        errors=(400,),
        examples=[
            OpenApiExample(
                "RE 1 to Frankfurt (Oder)",
                value={
                    "line_name": "RE 1",
                    "mode": "regional",
                    "operator_name": "ODEG",
                    "origin_name": "Berlin Ostbahnhof",
                    "origin_lat": 52.5104,
                    "origin_lon": 13.435,
                    "destination_name": "Frankfurt (Oder)",
                    "destination_lat": 52.3367,
                    "destination_lon": 14.5466,
                    "departure_planned": "2026-12-06T08:00:00+01:00",
                    "arrival_planned": "2026-12-06T09:15:00+01:00",
                    "time_zone": "Europe/Berlin",
                    "message": "",
                    "purpose": "private",
                    "idempotency_key": "6a1f9d2e-8c7b-4e3a-b5d4-1c2e3f4a5b6c",
                },
                request_only=True,
            )
        ],
        tags=["checkins"],
    )
    def post(self, request: Request) -> Response:
        given = self.InputSerializer(data=request.data)
        # Times without an offset are read in the journey's own time zone, as on the page.
        named = request.data.get("time_zone") if isinstance(request.data, dict) else None
        zone = zone_named(named) if isinstance(named, str) else None
        with timezone.override(zone or timezone.get_current_timezone()):
            given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        data["origin"] = Place(data.pop("origin_name"), data.pop("origin_lat", None),
                               data.pop("origin_lon", None))  # fmt: skip
        data["destination"] = Place(data.pop("destination_name"),
                                    data.pop("destination_lat", None),
                                    data.pop("destination_lon", None))  # fmt: skip
        return _checked_in(request, data, checkin_create)


# --- One journey: read, change, delete ----------------------------------------------------------


class JourneyChangeSerializer(serializers.Serializer):
    """What the journey's edit page lets its traveller change; those left out stay."""

    message = serializers.CharField(max_length=MESSAGE_MAX_LENGTH, allow_blank=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices)
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    destination_seq = serializers.IntegerField(
        min_value=0,
        max_value=SEQ_MAX,
        help_text="Get off at another stop of the trip (its `seq`, after the entry stop); "
        "timetable journeys only.",
    )
    departure_planned = BoundedDateTimeField(help_text=NAIVE_TIMES.format(whose="the journey's"))
    arrival_planned = BoundedDateTimeField(help_text=NAIVE_TIMES.format(whose="the journey's"))
    ticket_price = serializers.DecimalField(
        max_digits=9,
        decimal_places=2,
        min_value=Decimal(0),
        allow_null=True,
        coerce_to_string=False,
        help_text="For business-trip reports; null clears it.",
    )
    cost_centre = serializers.CharField(
        max_length=COST_CENTRE_MAX_LENGTH, allow_blank=True, help_text="Cost centre or project."
    )


class JourneyDetailApi(APIView):
    required_scopes = {
        "GET": Scope.READ,
        "PATCH": Scope.CHECKINS_WRITE,
        "DELETE": Scope.CHECKINS_WRITE,
    }

    InputSerializer = extend_schema_serializer(component_name="JourneyChange")(
        JourneyChangeSerializer
    )

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
            raise NotFound(NO_SUCH_JOURNEY)
        return Response(JourneySerializer(checkin).data)

    @api_operation(
        operation_id="journey_update",
        summary="Change one of your journeys",
        description="What its edit page changes: the message, visibility, purpose, exit stop, "
        "times, ticket price and cost centre; those left out stay as they are. A new exit "
        "stop or new times are checked as at check-in and the journey's figures are computed "
        "again. Only your own journeys: someone else's is 404, even one you may see. Fires "
        "`checkin.updated` to your webhooks when something changed.",
        request=InputSerializer,
        responses={200: JourneySerializer},
        errors=(400, 404),
        examples=[
            OpenApiExample(
                "a new message, business purpose",
                value={"message": "Late again", "purpose": "business", "ticket_price": "39.90"},
                request_only=True,
            ),
            OpenApiExample("the journey", value=JOURNEY_EXAMPLE, response_only=True),
        ],
        tags=["journeys"],
    )
    def patch(self, request: Request, checkin_id: int) -> Response:
        user: User = request.user
        checkin = checkin_owned(owner=user, checkin_id=checkin_id)
        if checkin is None:
            raise NotFound(NO_SUCH_JOURNEY)
        change = self.InputSerializer(data=request.data, partial=True)
        # Times without an offset are read in the journey's time zone, as its edit page shows them.
        with timezone.override(zone_named(checkin.time_zone) or timezone.get_current_timezone()):
            change.is_valid(raise_exception=True)
        data = change.validated_data
        checkin_update(
            checkin=checkin,
            message=data.get("message", checkin.message),
            visibility=data.get("visibility", checkin.visibility),
            purpose=data.get("purpose", checkin.purpose),
            destination_seq=data.get("destination_seq"),
            departure_planned=data.get("departure_planned"),
            arrival_planned=data.get("arrival_planned"),
            ticket_price=data.get("ticket_price", ...),
            cost_centre=data.get("cost_centre"),
        )
        return Response(JourneySerializer(_journey(user, checkin.id)).data)

    @api_operation(
        operation_id="journey_delete",
        summary="Delete one of your journeys",
        description="For good, as its page's delete button does. Only your own journeys: "
        "someone else's is 404, even one you may see. Fires `checkin.deleted` to your webhooks.",
        responses={204: OpenApiResponse(description="Deleted; no body.")},
        errors=(404,),
        tags=["journeys"],
    )
    def delete(self, request: Request, checkin_id: int) -> Response:
        checkin = checkin_owned(owner=request.user, checkin_id=checkin_id)
        if checkin is None:
            raise NotFound(NO_SUCH_JOURNEY)
        checkin_delete(checkin=checkin)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Importing another service's export ---------------------------------------------------------

IMPORT_SUMMARY_EXAMPLE = {
    "format": "travelynx-json",
    "format_name": "Travelynx history (JSON)",
    "dry_run": True,
    "where": "entry",
    "new": 412,
    "created": 0,
    "duplicates": 3,
    "matched": 380,
    "manual": 32,
    "overlap_count": 1,
    "overlaps": [{"number": 17, "other": "RE 1 Potsdam Hbf → Berlin Hbf, 3 Dec 2026 10:00"}],
    "refused_count": 1,
    "refused": [{"number": 88, "reason": "The arrival must be after the departure."}],
    "warnings": [],
}
IMPORT_EXAMPLE = {
    "id": 7,
    "filename": "history.json",
    "format": "travelynx-json",
    "visibility": "private",
    "status": "done",
    "phase": "",
    "rows_done": 412,
    "rows_total": 412,
    "percent": 100,
    "error": "",
    "summary": {**IMPORT_SUMMARY_EXAMPLE, "dry_run": False, "created": 412},
    "created_at": "2026-12-06T08:00:00+01:00",
    "finished_at": "2026-12-06T08:00:02+01:00",
    "url": "https://trainy.example.org/api/v1/imports/7/",
}


class _ImportRowSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="The line (CSV) or entry (JSON) in the file.")


class _ImportOverlapSerializer(_ImportRowSerializer):
    other = serializers.CharField(help_text="The journey it overlaps.")


class _ImportProblemSerializer(_ImportRowSerializer):
    reason = serializers.CharField()


@extend_schema_serializer(component_name="ImportSummary")
class ImportSummarySerializer(serializers.Serializer):
    """What an import found (its dry run) or did. At most 500 overlaps and refused rows are
    listed; the counts say how many there are in all."""

    format = serializers.CharField(help_text="e.g. `traewelling-json`, `travelynx-csv`.")
    format_name = serializers.CharField()
    dry_run = serializers.BooleanField()
    where = serializers.ChoiceField(choices=["line", "entry"], help_text="What `number` counts.")
    new = serializers.IntegerField(help_text="Journeys not imported before, and plausible.")
    created = serializers.IntegerField(help_text="Journeys imported (0 in a dry run).")
    duplicates = serializers.IntegerField(help_text="Journeys imported before: skipped.")
    matched = serializers.IntegerField(
        required=False,
        help_text="New journeys found on a trip of the local timetable (by station, line and "
        "time): they get its stops and route. Absent from imports older than matching.",
    )
    manual = serializers.IntegerField(
        required=False,
        help_text="New journeys not found there: manual journeys, with the file's times and "
        "distance.",
    )
    overlap_count = serializers.IntegerField()
    overlaps = _ImportOverlapSerializer(many=True)
    refused_count = serializers.IntegerField()
    refused = _ImportProblemSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())


@extend_schema_serializer(component_name="JourneyImport")
class JourneyImportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()
    format = serializers.CharField()
    visibility = serializers.ChoiceField(choices=Visibility.choices)
    status = serializers.ChoiceField(choices=JourneyImport.Status.choices)
    phase = serializers.CharField(help_text="The step under way while `running`.")
    rows_done = serializers.IntegerField()
    rows_total = serializers.IntegerField()
    percent = serializers.IntegerField()
    error = serializers.CharField(help_text="Why it failed; empty otherwise.")
    summary = ImportSummarySerializer(
        help_text="The dry run's until it is `done`, then the import's."
    )
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    url = serializers.URLField()


def _import_data(job: JourneyImport, request: Request) -> dict[str, Any]:
    return {
        **{name: getattr(job, name) for name in (
            "id", "filename", "format", "visibility", "status", "phase", "rows_done",
            "rows_total", "percent", "error", "summary", "created_at", "finished_at")},
        "url": request.build_absolute_uri(reverse("api:journey_import", args=[job.id])),
    }  # fmt: skip


class JourneyImportListApi(APIView):
    required_scopes = {"GET": Scope.READ, "POST": Scope.CHECKINS_WRITE}
    parser_classes = [parsers.MultiPartParser]
    # A longer body is refused before it is read (trainy.errors.RefuseOversizedBodies).
    max_body_bytes = MAX_IMPORT_BYTES + UPLOAD_OVERHEAD
    max_body_message = TOO_LARGE

    @extend_schema_serializer(component_name="JourneyImportUpload")
    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(
            help_text="Träwelling's JSON or CSV export, Travelynx's history.json, history.csv "
            "or account export, or a Trainy archive (ZIP); at most "
            f"{MAX_IMPORT_BYTES // 2**20} MB. The format is recognised from the content."
        )
        visibility = serializers.ChoiceField(
            choices=Visibility.choices,
            default=Visibility.PRIVATE,
            help_text="For journeys whose file has none (the CSV exports).",
        )
        dry_run = serializers.BooleanField(
            default=False, help_text="Say what would be imported; write nothing."
        )

    @api_operation(
        operation_id="imports_create",
        summary="Import journeys from Träwelling, Travelynx or another Trainy",
        description="Upload an export (multipart, field `file`), as the import page does. "
        "With `dry_run`, the answer says what would be imported (200) and nothing is kept. "
        "Without, the journeys are imported: a file of up to "
        f"{DIRECT_LIMIT} new journeys at once (201, the import `done`); a larger one in the "
        "background (202, `queued`: poll its `url`, also in `Location`, until its `status` "
        "is `done` or `failed`). Importing the same journeys again adds nothing; each refused "
        "row is listed with its line or entry and the reason. A file that cannot be imported "
        "at all (not an export, cut off, too many journeys) is a 400 saying why.",
        request={"multipart/form-data": InputSerializer},
        responses={
            200: OpenApiResponse(ImportSummarySerializer, description="The dry run."),
            201: OpenApiResponse(JourneyImportSerializer, description="Imported."),
            202: OpenApiResponse(
                JourneyImportSerializer, description="Importing, in the background."
            ),
        },
        errors=(400, 413),
        examples=[
            OpenApiExample(
                "a Travelynx history, dry run first",
                value={"file": "history.json", "visibility": "private", "dry_run": True},
                request_only=True,
                media_type="multipart/form-data",
            ),
            OpenApiExample(
                "dry run", value=IMPORT_SUMMARY_EXAMPLE, status_codes=["200"], response_only=True
            ),
            OpenApiExample(
                "imported", value=IMPORT_EXAMPLE, status_codes=["201"], response_only=True
            ),
            OpenApiExample(
                "queued",
                value={
                    **IMPORT_EXAMPLE,
                    "status": "queued",
                    "rows_done": 0,
                    "percent": 0,
                    "summary": IMPORT_SUMMARY_EXAMPLE,
                    "finished_at": None,
                },
                status_codes=["202"],
                response_only=True,
            ),
        ],
        tags=["imports"],
    )
    def post(self, request: Request) -> Response:
        user: User = request.user
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        upload = given.validated_data["file"]
        data, visibility = upload.read(), given.validated_data["visibility"]
        try:
            if given.validated_data["dry_run"]:
                result = journeys_import(user=user, data=data, visibility=visibility, dry_run=True)
                return Response(result_summary(result))
            job = journey_import_check(
                user=user, filename=upload.name or "", data=data, visibility=visibility
            )
        except ImportRefused as error:
            raise ValidationError({"file": [str(error)]}) from None
        job = journey_import_start(job=job)
        done = job.status == JourneyImport.Status.DONE
        location = request.build_absolute_uri(reverse("api:journey_import", args=[job.id]))
        return Response(
            _import_data(job, request), status=201 if done else 202, headers={"Location": location}
        )

    @api_operation(
        operation_id="imports_list",
        summary="Your recent imports",
        description=f"Newest first; the last {KEEP_IMPORTS} are kept (their summaries; the "
        "files are let go once imported).",
        responses={200: JourneyImportSerializer(many=True)},
        examples=[OpenApiExample("one done", value=IMPORT_EXAMPLE, response_only=True)],
        tags=["imports"],
    )
    def get(self, request: Request) -> Response:
        jobs = journey_imports_recent(owner=request.user, limit=KEEP_IMPORTS, summaries=True)
        return Response([_import_data(job, request) for job in jobs])


class JourneyImportDetailApi(APIView):
    required_scopes = {"GET": Scope.READ}

    @api_operation(
        operation_id="imports_get",
        summary="One of your imports",
        description="Its status and progress while it runs, then what it did. Someone else's "
        "is 404, as one that never was.",
        responses={200: JourneyImportSerializer},
        errors=(404,),
        examples=[OpenApiExample("done", value=IMPORT_EXAMPLE, response_only=True)],
        tags=["imports"],
    )
    def get(self, request: Request, import_id: int) -> Response:
        job = journey_import_get(owner=request.user, import_id=import_id)
        if job is None:
            raise NotFound("No such import.")
        return Response(_import_data(job, request))
