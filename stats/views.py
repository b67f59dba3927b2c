from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from stats.selectors import user_statistics
from trainy.http import AuthenticatedRequest


@login_required
def overview(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "stats/overview.html", {"stats": user_statistics(user=request.user)})
