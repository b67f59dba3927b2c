from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from stats.selectors import user_statistics


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "stats/overview.html", {"stats": user_statistics(user=request.user)})
