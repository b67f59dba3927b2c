"""The API of exports and the calendar feed: an export asked for with the export form's options
and made as the export page makes it (at once up to DIRECT_LIMIT journeys, else by the Celery
task, with its progress to poll and its file to download), the traveller's recent exports, and
the calendar feed's secret URL. Someone else's export is as unknown as one that never was."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from django.http.response import HttpResponseBase
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkins.models import Mode, Purpose
from stats.exports.columns import COLUMNS, DEFAULT_COLUMNS
from stats.exports.forms import ExportForm, with_defaults
from stats.exports.options import ARCHIVE, FORMATS, SEPARATORS
from stats.exports.responses import file_response, stored_file_response
from stats.exports.selectors import export_content, export_get, export_recent, export_source
from stats.forms import PERIODS
from stats.models import Export
from stats.services import (
    DIRECT_LIMIT,
    KEEP_EXPORTS,
    archive_create,
    calendar_token_renew,
    calendar_token_revoke,
    export_create,
)
from trainy.accounts.models import Scope, User
from trainy.api.forms import valid_form
from trainy.api.negotiation import FileContentNegotiation
from trainy.api.schema import api_operation

# One media type per kind of file (CSV's without its charset parameter).
FILE_TYPES = sorted({kind.content_type.split(";")[0] for kind in FORMATS.values()})


def _file_responses(description: str) -> dict[Any, Any]:
    """The 200 of an operation that answers with an export's file: binary in every format's
    media type, and the JSON export's object (typed, so that a client can read it)."""
    binary = OpenApiResponse(OpenApiTypes.BINARY, description=description)
    # A JSON dialect (GeoJSON's application/geo+json) is parsed as JSON by clients: an object.
    document = OpenApiResponse(OpenApiTypes.OBJECT, description=description)
    found: dict[Any, Any] = {
        (200, media): document if media.endswith("+json") else binary
        for media in FILE_TYPES
        if media != "application/json"
    }
    found[(200, "application/json")] = OpenApiResponse(
        JourneysFileSerializer, description=description
    )
    return found


# --- The JSON export's file (stats/exports/json.py), for the schema ----------------------------


class _FileTravellerSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()


class _FileFilterSerializer(serializers.Serializer):
    period = serializers.CharField()
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)
    purposes = serializers.ListField(child=serializers.CharField())
    modes = serializers.ListField(child=serializers.CharField())
    time_zone = serializers.CharField()


class _FileTotalsSerializer(serializers.Serializer):
    journeys = serializers.IntegerField()
    distance_km = serializers.FloatField()
    hours = serializers.FloatField()
    distance_m = serializers.IntegerField()
    duration_s = serializers.IntegerField()
    ticket_price = serializers.CharField(help_text="A decimal, as a string.")


@extend_schema_serializer(component_name="JourneysFile")
class JourneysFileSerializer(serializers.Serializer):
    """The JSON export's file (format ``json``): README "Exports" describes each journey's
    fields; ``schema_version`` changes only when a field goes or changes meaning."""

    schema_version = serializers.IntegerField()
    generator = serializers.CharField()
    exported_at = serializers.DateTimeField()
    traveller = _FileTravellerSerializer()
    filter = _FileFilterSerializer()
    currency = serializers.CharField()
    totals = _FileTotalsSerializer()
    journeys = serializers.ListField(
        child=serializers.DictField(), help_text="Every field of each journey, oldest first."
    )


JSON_FILE = {
    "schema_version": 1,
    "generator": "Trainy",
    "exported_at": "2026-12-06T10:00:00+01:00",
    "traveller": {"username": "alice", "name": "Alice"},
    "filter": {"period": "this-year", "start": "2026-01-01", "end": "2026-12-06",
               "purposes": ["business"], "modes": [], "time_zone": "Europe/Berlin"},
    "currency": "EUR",
    "totals": {"journeys": 1, "distance_km": 284.0, "hours": 1.9, "distance_m": 284000,
               "duration_s": 6660, "ticket_price": "59.90"},
    "journeys": [{"id": 42, "purpose": "business", "mode": "long_distance", "line": "ICE 1601"}],
}  # fmt: skip
JSON_FILE_EXAMPLE = OpenApiExample(
    "the JSON export's file",
    value=JSON_FILE,
    media_type="application/json",
    status_codes=["200"],
    response_only=True,
)


# --- Exports --------------------------------------------------------------------------------------


class ExportOptionsSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=list(PERIODS), help_text="The form's choice.")
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)
    purposes = serializers.ListField(child=serializers.ChoiceField(choices=Purpose.choices))
    modes = serializers.ListField(child=serializers.ChoiceField(choices=Mode.choices))
    columns = serializers.ListField(child=serializers.CharField())
    separator = serializers.ChoiceField(choices=list(SEPARATORS))


@extend_schema_serializer(component_name="Export")
class ExportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    format = serializers.ChoiceField(
        choices=[*FORMATS, ARCHIVE], help_text="`archive`: the Trainy archive, all your data."
    )
    status = serializers.ChoiceField(
        choices=Export.Status.choices,
        help_text="`queued`, `running`, then `done` (the file can be downloaded) or `failed`.",
    )
    rows_done = serializers.IntegerField(help_text="Journeys written so far.")
    rows_total = serializers.IntegerField(help_text="Journeys the export holds.")
    percent = serializers.IntegerField(help_text="rows_done of rows_total, 0 to 100.")
    filename = serializers.CharField()
    content_type = serializers.CharField()
    error = serializers.CharField(help_text="Why it failed; empty otherwise.")
    options = ExportOptionsSerializer(help_text="What was asked for.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="When the file is deleted (archives); null: kept."
    )
    download = serializers.URLField(
        allow_null=True, help_text="The file's URL once `status` is `done`; null before."
    )


EXPORT_EXAMPLE = {
    "id": 17,
    "format": "csv",
    "status": "running",
    "rows_done": 1250,
    "rows_total": 2150,
    "percent": 58,
    "filename": "trainy-alice-2025-01-01-to-2025-12-31.csv",
    "content_type": "text/csv; charset=utf-8",
    "error": "",
    "options": {
        "period": "last-year",
        "start": "2025-01-01",
        "end": "2025-12-31",
        "purposes": ["business"],
        "modes": [],
        "columns": list(DEFAULT_COLUMNS),
        "separator": ",",
    },
    "created_at": "2026-12-06T10:00:00.123456+01:00",
    "finished_at": None,
    "expires_at": None,
    "download": None,
}
DONE_EXAMPLE = {
    **EXPORT_EXAMPLE,
    "status": "done",
    "rows_done": 2150,
    "percent": 100,
    "finished_at": "2026-12-06T10:00:09.654321+01:00",
    "download": "https://trainy.example.org/api/v1/exports/17/download/",
}


def _export_data(export: Export, request: Request) -> dict[str, Any]:
    """The export in ExportSerializer's shape. Its options are those stored by
    ExportOptions.to_json; the form's defaults stand in for any an older row lacks."""
    options = export.options or {}
    download = None
    if export.status == Export.Status.DONE:
        download = request.build_absolute_uri(reverse("api:export_download", args=[export.id]))
    return {
        "id": export.id,
        "format": export.format,
        "status": export.status,
        "rows_done": export.rows_done,
        "rows_total": export.rows_total,
        "percent": export.percent,
        "filename": export.filename,
        "content_type": export.content_type,
        "error": export.error,
        "options": {
            "period": options.get("period") or "custom",
            "start": options.get("start"),
            "end": options.get("end"),
            "purposes": options.get("purposes") or [],
            "modes": options.get("modes") or [],
            "columns": options.get("columns") or list(DEFAULT_COLUMNS),
            "separator": options.get("separator") or ",",
        },
        "created_at": export.created_at,
        "finished_at": export.finished_at,
        "expires_at": export.expires_at,
        "download": download,
    }


def _form_data(data: dict[str, Any]) -> QueryDict:
    """The export form's input from the API's body (lists named as the form names them), with
    the form's defaults for what is left out, as the page's links get them."""
    query = QueryDict(mutable=True)
    for name in ("format", "period", "separator"):
        if data.get(name):
            query[name] = data[name]
    for name in ("start", "end"):
        if data.get(name) is not None:
            query[name] = data[name].isoformat()
    for name, field in (("purposes", "purpose"), ("modes", "mode"), ("columns", "columns")):
        if name in data:
            query.setlist(field, data[name])
    return with_defaults(query)


class ExportListApi(APIView):
    required_scopes = {"GET": Scope.EXPORTS, "POST": Scope.EXPORTS}
    content_negotiation_class = FileContentNegotiation

    @extend_schema_serializer(component_name="ExportRequest")
    class InputSerializer(serializers.Serializer):
        """The export form's options; each left out is the form's default."""

        format = serializers.ChoiceField(choices=list(FORMATS), required=False)
        period = serializers.ChoiceField(
            choices=list(PERIODS),
            required=False,
            help_text="`custom` with start/end; `this-year` without any of the three.",
        )
        start = serializers.DateField(required=False, allow_null=True)
        end = serializers.DateField(required=False, allow_null=True, help_text="Included.")
        purposes = serializers.ListField(
            child=serializers.ChoiceField(choices=Purpose.choices),
            required=False,
            max_length=len(Purpose.choices),
            help_text="Empty or left out: all.",
        )
        modes = serializers.ListField(
            child=serializers.ChoiceField(choices=Mode.choices),
            required=False,
            max_length=len(Mode.choices),
            help_text="Empty or left out: all.",
        )
        columns = serializers.ListField(
            child=serializers.ChoiceField(choices=[column.key for column in COLUMNS]),
            required=False,
            max_length=len(COLUMNS),
            help_text="For csv, xlsx and pdf, in this order; the page's default set if left out.",
        )
        separator = serializers.ChoiceField(
            choices=list(SEPARATORS),
            required=False,
            help_text="CSV: `,` (decimal point) or `;` (decimal comma, for German Excel).",
        )

    @api_operation(
        operation_id="exports_create",
        summary="Export your journeys",
        description=f"As the export page does: an export of up to {DIRECT_LIMIT} journeys is "
        "answered at once with its file (200, with the format's content type and an "
        "attachment name); a larger one is made in the background (202, with the export and "
        "its URL in `Location`: poll it until its `status` is `done`, then get its "
        "`download`). Formats: csv, xlsx, pdf, json, gpx, geojson, and the business-trip "
        "reports report-pdf and report-xlsx (business journeys only).",
        request=InputSerializer,
        responses={
            **_file_responses("The file, at once (a small export)."),
            202: OpenApiResponse(ExportSerializer, description="Made in the background."),
        },
        errors=(400,),
        examples=[
            OpenApiExample(
                "last year's business journeys as CSV",
                value={
                    "format": "csv",
                    "period": "last-year",
                    "purposes": ["business"],
                    "columns": ["departure", "origin", "destination", "distance_km"],
                    "separator": ",",
                },
                request_only=True,
            ),
            JSON_FILE_EXAMPLE,
            OpenApiExample(
                "queued",
                value={**EXPORT_EXAMPLE, "status": "queued", "rows_done": 0, "percent": 0},
                status_codes=["202"],
                response_only=True,
            ),
        ],
        tags=["exports"],
    )
    def post(self, request: Request) -> HttpResponseBase:
        user: User = request.user
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        form = ExportForm(_form_data(body.validated_data))
        valid_form(form)
        source = export_source(owner=user, options=form.options())
        total = source.count()
        if total <= DIRECT_LIMIT:
            return file_response(source, user.username)
        export = export_create(owner=user, options=source.options, rows_total=total)
        location = request.build_absolute_uri(reverse("api:export", args=[export.id]))
        return Response(_export_data(export, request), status=202, headers={"Location": location})

    @api_operation(
        operation_id="exports_list",
        summary="Your recent exports",
        description=f"The background exports you made, newest first: the last {KEEP_EXPORTS} "
        "are kept (an older one goes when a new one is made). Exports answered at once are "
        "not kept.",
        responses={200: ExportSerializer(many=True)},
        examples=[OpenApiExample("one ready", value=DONE_EXAMPLE, response_only=True)],
        tags=["exports"],
    )
    def get(self, request: Request) -> Response:
        exports = export_recent(owner=request.user, limit=KEEP_EXPORTS)
        rows = [_export_data(export, request) for export in exports]
        return Response(ExportSerializer(rows, many=True).data)


class ExportDetailApi(APIView):
    required_scopes = {"GET": Scope.EXPORTS}

    @api_operation(
        operation_id="export_get",
        summary="An export's progress",
        description="Poll it (every second or two) until `status` is `done` or `failed`.",
        responses={200: ExportSerializer},
        errors=(404,),
        examples=[
            OpenApiExample("running", value=EXPORT_EXAMPLE, response_only=True),
            OpenApiExample("ready", value=DONE_EXAMPLE, response_only=True),
        ],
        tags=["exports"],
    )
    def get(self, request: Request, export_id: int) -> Response:
        export = export_get(owner=request.user, export_id=export_id)
        if export is None:
            raise NotFound("No such export.")
        return Response(ExportSerializer(_export_data(export, request)).data)


class ExportDownloadApi(APIView):
    required_scopes = {"GET": Scope.EXPORTS}
    content_negotiation_class = FileContentNegotiation

    @api_operation(
        operation_id="export_download",
        summary="An export's file",
        description="With the format's content type and the file's name "
        "(`Content-Disposition: attachment`); 404 until the export is done.",
        responses=_file_responses("The file."),
        errors=(404,),
        examples=[JSON_FILE_EXAMPLE],
        tags=["exports"],
    )
    def get(self, request: Request, export_id: int) -> HttpResponseBase:
        export = export_content(owner=request.user, export_id=export_id)
        if export is None:
            raise NotFound("No such export, or it is not ready yet.")
        return stored_file_response(export)


# --- The calendar feed ---------------------------------------------------------------------------


@extend_schema_serializer(component_name="CalendarFeed")
class CalendarSerializer(serializers.Serializer):
    url = serializers.URLField(
        allow_null=True,
        help_text="The feed's secret address (iCalendar, for calendar apps; the export "
        "filters may be added, e.g. `?purpose=business`); null: the feed is off.",
    )


CALENDAR_EXAMPLE = {
    "url": "https://trainy.example.org/calendar/3q2-7IbN0mWZB7cj0s1vBq_rVxkT9gYdYH0Kxk7Vb4M.ics"
}


def _calendar_data(user: User, request: Request) -> dict[str, str | None]:
    token = user.calendar_token
    if not token:
        return {"url": None}
    return {"url": request.build_absolute_uri(reverse("exports:calendar_feed", args=[token]))}


class CalendarApi(APIView):
    required_scopes = {"GET": Scope.EXPORTS, "POST": Scope.EXPORTS, "DELETE": Scope.EXPORTS}

    @api_operation(
        operation_id="calendar_get",
        summary="Your calendar feed",
        description="Its address, if it is on.",
        responses={200: CalendarSerializer},
        examples=[OpenApiExample("on", value=CALENDAR_EXAMPLE, response_only=True)],
        tags=["calendar"],
    )
    def get(self, request: Request) -> Response:
        return Response(CalendarSerializer(_calendar_data(request.user, request)).data)

    @api_operation(
        operation_id="calendar_renew",
        summary="Turn the calendar feed on, or give it a new address",
        description="The old address stops working at once.",
        request=None,
        responses={200: CalendarSerializer},
        examples=[OpenApiExample("the new address", value=CALENDAR_EXAMPLE, response_only=True)],
        tags=["calendar"],
    )
    def post(self, request: Request) -> Response:
        calendar_token_renew(user=request.user)
        return Response(CalendarSerializer(_calendar_data(request.user, request)).data)

    @api_operation(
        operation_id="calendar_revoke",
        summary="Turn the calendar feed off",
        description="Its address answers 404 from now on.",
        responses={204: None},
        tags=["calendar"],
    )
    def delete(self, request: Request) -> Response:
        calendar_token_revoke(user=request.user)
        return Response(status=204)


class ArchiveApi(APIView):
    required_scopes = {"POST": Scope.EXPORTS}

    @api_operation(
        operation_id="archive_create",
        summary="Download all your data",
        description='The Trainy archive, as the settings page\'s "Download all my data" makes '
        "it: one ZIP with a JSON document of everything Trainy holds about you (profile, "
        "settings, every journey with every field and its stops and route, likes, follows, "
        "blocks, mutes, notifications, your tokens' and webhooks' names without their secrets, "
        "exports and imports), the journeys as CSV and a README of its schema. Made in the "
        "background: 202 with the export (format `archive`) and its URL in `Location`; poll "
        "it until `status` is `done`, then get its `download` before `expires_at`. Asked "
        "again while one is being made, the same one is answered.",
        request=None,
        responses={202: OpenApiResponse(ExportSerializer, description="Being made.")},
        examples=[
            OpenApiExample(
                "queued",
                value={
                    **EXPORT_EXAMPLE,
                    "format": "archive",
                    "status": "queued",
                    "rows_done": 0,
                    "percent": 0,
                    "content_type": "application/zip",
                    "filename": "trainy-archive-alice-2026-12-06.zip",
                },
                status_codes=["202"],
                response_only=True,
            ),
        ],
        tags=["exports"],
    )
    def post(self, request: Request) -> Response:
        export = archive_create(owner=request.user)
        location = request.build_absolute_uri(reverse("api:export", args=[export.id]))
        return Response(_export_data(export, request), status=202, headers={"Location": location})
