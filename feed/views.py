from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from checkins.timetable.forms import StationSearchForm
from feed.models import User
from feed.selectors import global_feed


def home(request: HttpRequest) -> HttpResponse:
    journeys = list(global_feed(viewer=request.user))
    demo_loaded = User.objects.filter(username="demo").exists()
    context = {
        "journeys": journeys,
        "demo_loaded": demo_loaded,
        "search_form": StationSearchForm(),
    }
    return render(request, "feed/home.html", context)
