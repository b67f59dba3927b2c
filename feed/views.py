from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from feed.models import User
from feed.selectors import global_feed


def home(request: HttpRequest) -> HttpResponse:
    journeys = list(global_feed(viewer=request.user))
    demo_loaded = User.objects.filter(username="demo").exists()
    return render(request, "feed/home.html", {"journeys": journeys, "demo_loaded": demo_loaded})
