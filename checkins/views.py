from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from checkins.forms import ManualCheckInForm, zone_named
from checkins.selectors import checkin_get, checkin_list_for_owner, checkin_totals
from checkins.services import checkin_create
from trainy.documents import DocumentStoreError, journey_store
from trainy.http import AuthenticatedRequest


@login_required
def checkin_new(request: AuthenticatedRequest) -> HttpResponse:
    form = ManualCheckInForm(request.POST or None, initial=request.GET.dict())
    # Times typed or prefilled in a trip's own time zone are read in that zone.
    zone = zone_named(request.POST.get("time_zone") or request.GET.get("time_zone"))
    with timezone.override(zone or timezone.get_current_timezone()):
        valid = request.method == "POST" and form.is_valid()
    if valid:
        try:
            checkin = checkin_create(user=request.user, **form.checkin_fields())
        except ValidationError as error:
            for field, field_errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, field_errors)
        else:
            messages.success(request, "Checked in.")
            return redirect("checkins:detail", checkin_id=checkin.id)
    return render(request, "checkins/new.html", {"form": form})


@login_required
def journey_list(request: AuthenticatedRequest) -> HttpResponse:
    journeys = checkin_list_for_owner(owner=request.user)
    totals = checkin_totals(request.user.checkins.all())
    return render(request, "checkins/list.html", {"journeys": journeys, "totals": totals})


def journey_detail(request: HttpRequest, checkin_id: int) -> HttpResponse:
    checkin = checkin_get(viewer=request.user, checkin_id=checkin_id)
    if checkin is None:
        # The same answer for "does not exist" and "not yours to see": no existence leak.
        raise Http404("No such journey.")
    try:
        document = journey_store().get(checkin.id)
    except DocumentStoreError:
        # The page still shows what PostgreSQL knows while the document store is away.
        document = None
    return render(request, "checkins/detail.html", {"checkin": checkin, "document": document})
