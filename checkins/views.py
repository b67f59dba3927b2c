from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from checkins.forms import (
    CheckInEditForm,
    HistoryFilterForm,
    JourneyImportForm,
    ManualCheckInForm,
    zone_named,
)
from checkins.models import CheckIn, JourneyImport
from checkins.selectors import (
    JourneyFilter,
    checkin_get,
    checkin_owned,
    journey_document_get,
    journey_history,
    journey_import_get,
    journey_imports_recent,
    parse_cursor,
)
from checkins.services.checkins import (
    CheckInOverlap,
    checkin_create,
    checkin_delete,
    checkin_update,
)
from checkins.services.imports import (
    DIRECT_LIMIT,
    MAX_IMPORT_BYTES,
    TOO_LARGE,
    UPLOAD_OVERHEAD,
    ImportRefused,
    journey_import_cancel,
    journey_import_check,
    journey_import_start,
)
from checkins.timetable.selectors import trip_get
from trainy.errors import body_limit
from trainy.forms import add_service_errors
from trainy.http import AuthenticatedRequest


@login_required
@require_http_methods(["GET", "POST"])
def checkin_new(request: AuthenticatedRequest) -> HttpResponse:
    initial = {"idempotency_key": uuid.uuid4(), "visibility": request.user.default_visibility}
    form = ManualCheckInForm(request.POST or None, initial=initial | request.GET.dict())
    # Times typed or prefilled in a trip's own time zone are read in that zone.
    zone = zone_named(request.POST.get("time_zone") or request.GET.get("time_zone"))
    overlap: list[CheckIn] = []
    with timezone.override(zone or timezone.get_current_timezone()):
        valid = request.method == "POST" and form.is_valid()
    if valid:
        try:
            checkin = checkin_create(user=request.user, **form.checkin_fields())
        except CheckInOverlap as conflict:
            overlap = conflict.overlapping
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Checked in.")
            return redirect("checkins:detail", checkin_id=checkin.id)
    return render(request, "checkins/new.html", {"form": form, "overlap": overlap})


@login_required
def journey_list(request: AuthenticatedRequest) -> HttpResponse:
    form = HistoryFilterForm(request.GET or None)
    # A filter that does not validate shows its message above all journeys.
    criteria: JourneyFilter | None = None
    after: tuple[datetime, int] | None = None
    if form.is_valid():
        criteria, after = form.criteria(), parse_cursor(form.cleaned_data["after"] or "")
    page = journey_history(owner=request.user, criteria=criteria, after=after)
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "checkins/list.html",
        {"form": form, "page": page, "journeys": page.journeys, "totals": page.totals,
         "filter_query": query.urlencode()},
    )  # fmt: skip


def journey_detail(request: HttpRequest, checkin_id: int) -> HttpResponse:
    checkin = checkin_get(viewer=request.user, checkin_id=checkin_id)
    if checkin is None:
        # The same answer for "does not exist" and "not yours to see": no existence leak.
        raise Http404("No such journey.")
    document = journey_document_get(checkin=checkin)
    context = {
        "checkin": checkin,
        "document": document,
        "stopovers": document.stopovers if document else [],
        "realtime_observed": document.realtime_observed if document else None,
        "is_owner": checkin.user_id == request.user.id,
        "map_tiles": settings.TRAINY_MAP_TILES,
    }
    return render(request, "checkins/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def journey_edit(request: AuthenticatedRequest, checkin_id: int) -> HttpResponse:
    checkin = checkin_owned(owner=request.user, checkin_id=checkin_id)
    if checkin is None:
        raise Http404("No such journey.")
    exits: list[tuple[int, str]] = []
    if checkin.trip_id and checkin.service_date and checkin.origin_seq is not None:
        trip = trip_get(
            feed=checkin.feed_name, trip_id=checkin.trip_id, service_date=checkin.service_date
        )
        if trip:
            exits = [(s.seq, s.name) for s in trip.stops if s.seq > checkin.origin_seq]
    zone = zone_named(checkin.time_zone) or timezone.get_current_timezone()
    with timezone.override(zone):
        form = CheckInEditForm(
            request.POST or None,
            exits=exits,
            initial={
                "message": checkin.message,
                "visibility": checkin.visibility,
                "purpose": checkin.purpose,
                "destination_seq": checkin.destination_seq,
                "departure_planned": timezone.localtime(checkin.departure_planned),
                "arrival_planned": timezone.localtime(checkin.arrival_planned),
                "ticket_price": checkin.ticket_price,
                "cost_centre": checkin.cost_centre,
            },
        )
        valid = request.method == "POST" and form.is_valid()
    if valid:
        # Only what the traveller changed: an unchanged arrival must not undo a new exit stop.
        always = ("message", "visibility", "purpose", "ticket_price", "cost_centre")
        data = {
            name: value
            for name, value in form.cleaned_data.items()
            if name in always or name in form.changed_data
        }
        try:
            checkin_update(checkin=checkin, **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Journey updated.")
            return redirect("checkins:detail", checkin_id=checkin.id)
    return render(request, "checkins/edit.html", {"form": form, "checkin": checkin})


@login_required
@require_http_methods(["GET", "POST"])
def journey_delete(request: AuthenticatedRequest, checkin_id: int) -> HttpResponse:
    checkin = checkin_owned(owner=request.user, checkin_id=checkin_id)
    if checkin is None:
        raise Http404("No such journey.")
    if request.method == "POST":
        checkin_delete(checkin=checkin)
        messages.success(request, "Journey deleted.")
        return redirect("checkins:list")
    return render(request, "checkins/delete.html", {"checkin": checkin})


# --- Importing another service's export ------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@body_limit(MAX_IMPORT_BYTES + UPLOAD_OVERHEAD, TOO_LARGE)
def journey_import_new(request: AuthenticatedRequest) -> HttpResponse:
    """GET: the upload form and the traveller's recent imports. POST: the file read and
    checked (a dry run), then its summary page, where the traveller says yes or no."""
    if request.method != "POST":
        return _import_page(request, JourneyImportForm())
    form = JourneyImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = journey_import_check(
                user=request.user,
                filename=upload.name or "",
                data=upload.read(),
                visibility=form.cleaned_data["visibility"],
            )
        except ImportRefused as error:
            form.add_error("file", str(error))
        else:
            return redirect("checkins:import", import_id=job.id)
    return _import_page(request, form, status=400)


def _import_page(
    request: AuthenticatedRequest, form: JourneyImportForm, status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "recent": journey_imports_recent(owner=request.user),
        "direct_limit": DIRECT_LIMIT,
    }
    return render(request, "checkins/import.html", context, status=status)


def _import_owned(request: AuthenticatedRequest, import_id: int) -> JourneyImport:
    job = journey_import_get(owner=request.user, import_id=import_id)
    if job is None:
        # The same answer for "no such import" and "someone else's": no existence leak.
        raise Http404("No such import.")
    return job


@login_required
@require_http_methods(["GET", "POST"])
def journey_import_status(request: AuthenticatedRequest, import_id: int) -> HttpResponse:
    """An import: its dry run's summary with the yes and no buttons, then its progress, then
    what it did. POST ``action=start`` imports, ``action=cancel`` lets the file go."""
    job = _import_owned(request, import_id)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "start":
            job = journey_import_start(job=job)
            return redirect("checkins:import", import_id=job.id)
        if action == "cancel":
            if journey_import_cancel(job=job):
                messages.success(request, "Import cancelled; the file was let go.")
            return redirect("checkins:import_new")
        return HttpResponseBadRequest("Unknown action: use start or cancel.")
    return render(request, "checkins/import_status.html", _import_context(job))


@login_required
@require_GET
def journey_import_progress(request: AuthenticatedRequest, import_id: int) -> HttpResponse:
    """The progress alone, for htmx to swap in every second until the import is done."""
    job = _import_owned(request, import_id)
    return render(request, "checkins/_import_progress.html", _import_context(job))


def _import_context(job: JourneyImport) -> dict[str, object]:
    return {"job": job, "summary": job.summary, "direct_limit": DIRECT_LIMIT}
