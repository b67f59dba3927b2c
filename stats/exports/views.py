"""Pages of exports: the export form, an export's progress and download, and the calendar feed
with its settings page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
)
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import (
    condition,
    require_GET,
    require_http_methods,
    require_POST,
)

from checkins.models import CheckIn
from stats.exports.forms import ExportForm, with_defaults
from stats.exports.ics import calendar_ics
from stats.exports.options import format_named
from stats.exports.responses import file_response, stored_file_response
from stats.exports.selectors import (
    ExportSource,
    calendar_journeys,
    calendar_owner,
    export_content,
    export_get,
    export_recent,
    export_source,
)
from stats.forms import StatsFilterForm
from stats.models import Export
from stats.services import (
    DIRECT_LIMIT,
    archive_create,
    calendar_token_renew,
    calendar_token_revoke,
    export_create,
)
from trainy.http import AuthenticatedRequest


@login_required
@require_http_methods(["GET", "POST"])
def export_new(request: AuthenticatedRequest) -> HttpResponseBase:
    """GET: the form, with the totals of its filter. POST: the file at once, or, for more than
    DIRECT_LIMIT journeys, an export made in the background and its progress page."""
    posted = request.method == "POST"
    form = ExportForm(request.POST if posted else with_defaults(request.GET))
    source: ExportSource | None = None
    if form.is_valid():
        source = export_source(owner=request.user, options=form.options())
        if posted:
            total = source.count()
            if total > DIRECT_LIMIT:
                export = export_create(owner=request.user, options=source.options, rows_total=total)
                return redirect("exports:status", export_id=export.id)
            return file_response(source, request.user.username)
    context = {
        "form": form,
        "totals": source.totals() if source else None,
        "report": bool(source and source.options.kind.report),
        "direct_limit": DIRECT_LIMIT,
        "currency": settings.TRAINY_CURRENCY,
        "recent": export_recent(owner=request.user),
    }
    return render(request, "stats/export.html", context, status=400 if form.errors else 200)


def _owned(request: AuthenticatedRequest, export_id: int) -> Export:
    export = export_get(owner=request.user, export_id=export_id)
    if export is None:
        # The same answer for "no such export" and "someone else's": no existence leak.
        raise Http404("No such export.")
    return export


@login_required
@require_POST
def archive_new(request: AuthenticatedRequest) -> HttpResponse:
    """ "Download all my data" (the settings page's button): the Trainy archive is made in the
    background; its page shows how far it got, then its download."""
    export = archive_create(owner=request.user)
    return redirect("exports:status", export_id=export.id)


@login_required
def export_status(request: AuthenticatedRequest, export_id: int) -> HttpResponse:
    export = _owned(request, export_id)
    return render(
        request,
        "stats/export_status.html",
        {"export": export, "format": format_named(export.format)},
    )


@login_required
def export_progress(request: AuthenticatedRequest, export_id: int) -> HttpResponse:
    """The progress bar alone, for htmx to swap in every second until the export is done."""
    export = _owned(request, export_id)
    return render(request, "stats/_export_progress.html", {"export": export})


@login_required
def export_download(request: AuthenticatedRequest, export_id: int) -> HttpResponseBase:
    export = export_content(owner=request.user, export_id=export_id)
    if export is None or export.content is None:
        raise Http404("No such export, or it is not ready yet.")
    return stored_file_response(export)


# --- Calendar feed -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def calendar_settings(request: AuthenticatedRequest) -> HttpResponse:
    """The traveller's private calendar-feed URL: create it, replace it, or turn it off."""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "renew":
            had_one = bool(request.user.calendar_token)
            calendar_token_renew(user=request.user)
            messages.success(
                request,
                "Your calendar feed has a new address; the old one no longer works."
                if had_one
                else "Your calendar feed is ready.",
            )
        elif action == "revoke":
            calendar_token_revoke(user=request.user)
            messages.success(request, "Your calendar feed is turned off; its address is dead.")
        else:
            return HttpResponseBadRequest("Unknown action.")
        return redirect("exports:calendar")
    token = request.user.calendar_token
    feed_url = (
        request.build_absolute_uri(reverse("exports:calendar_feed", args=[token])) if token else ""
    )
    return render(request, "stats/calendar.html", {"feed_url": feed_url})


def _feed_form(request: HttpRequest) -> StatsFilterForm:
    data = request.GET.copy()
    if not data.get("period") and not data.get("start") and not data.get("end"):
        data["period"] = "all"
    return StatsFilterForm(data)


def _calendar_etag(request: HttpRequest, token: str) -> str | None:
    """Changes when a journey of the feed is added, edited or deleted: calendar apps poll
    often, and most polls find nothing new."""
    owner = calendar_owner(token=token)
    form = _feed_form(request)
    if owner is None or not form.is_valid():
        return None
    journeys = calendar_journeys(owner=owner, criteria=form.criteria())
    latest = journeys.order_by("-updated_at").values_list("updated_at", flat=True).first()
    return f"{owner.pk}-{token[:8]}-{journeys.count()}-{latest.timestamp() if latest else 0}"


@require_GET
@condition(etag_func=_calendar_etag)
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The calendar feed (no sign-in: the token in the URL is the key). Takes the export
    form's filters in the query string (``?purpose=business``); all journeys by default."""
    owner = calendar_owner(token=token)
    if owner is None:
        raise Http404("No such calendar.")
    form = _feed_form(request)
    if not form.is_valid():
        return HttpResponseBadRequest(
            " ".join(str(error) for errors in form.errors.values() for error in errors),
            content_type="text/plain; charset=utf-8",
        )
    journeys = calendar_journeys(owner=owner, criteria=form.criteria())

    def journey_url(journey: CheckIn) -> str:
        return request.build_absolute_uri(reverse("checkins:detail", args=[journey.id]))

    body = calendar_ics(
        journeys.iterator(chunk_size=1000),
        name=f"Journeys of {owner.name}",
        domain=request.get_host().split(":")[0],
        journey_url=journey_url,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(False, "trainy.ics") or ""
    response["Cache-Control"] = "private, max-age=300"
    # The URL is a secret: keep it out of search engines and referrers.
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response
