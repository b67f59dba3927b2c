"""``/metrics`` on the web pods."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from trainy.metrics.registry import exposition
from trainy.proxies import cluster_only


@cluster_only("TRAINY_METRICS_PUBLIC")
@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """The Prometheus exposition, for scrapers inside the cluster only.

    A request that came through the gateway gets a 404 (trainy.proxies.cluster_only), so the
    route that publishes the site never publishes its metrics; a bearer token
    (TRAINY_METRICS_TOKEN) can be required on top of that.
    """
    token = settings.TRAINY_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            response = HttpResponse("metrics need a bearer token\n", status=401)
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return HttpResponse(exposition(include_state=True), content_type=CONTENT_TYPE_LATEST)
