"""Answers for the cluster: probes and scrapes, before the rest of the middleware chain."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from trainy import health
from trainy.metrics.views import metrics

ENDPOINTS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": health.healthz,
    "/readyz": health.readyz,
    "/metrics": metrics,
}


class ClusterEndpointsMiddleware:
    """Serve /healthz, /readyz and /metrics ahead of everything else.

    The kubelet and the metrics scraper address a pod by its IP, which is not among
    ALLOWED_HOSTS: through the normal chain (CommonMiddleware reads the host) they would get a
    400. These three answers build no URL from the Host header, so the check protects nothing
    here. They also stay out of the request metrics and the HTTPS redirect, and cost no session
    or user lookup.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        endpoint = ENDPOINTS.get(request.path_info)
        if endpoint is not None:
            return endpoint(request)
        return self.get_response(request)
