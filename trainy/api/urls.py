"""/api/v1/: each app's API URLs, the OpenAPI schema; /api/docs/: Swagger UI over it."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

# The schema's security scheme for personal access tokens registers on import.
import trainy.api.schema  # noqa: F401


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 schema, for anyone: it describes the API, it holds nobody's data."""

    permission_classes = [AllowAny]
    throttle_classes: list = []


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI from the sidecar package's files; its start-up script is served as a file of
    its own (the split view) and the page has no inline style, so it runs under the site's
    Content-Security-Policy (script-src and style-src 'self')."""

    permission_classes = [AllowAny]
    throttle_classes: list = []
    template_name = "api/swagger_ui.html"
    # A page: DRF's answer to OPTIONS (a description of the view) has no template to render in.
    http_method_names = ["get", "head"]


v1 = [
    path("", include("trainy.accounts.api_urls")),
    path("", include("checkins.timetable.api_urls")),
    path("", include("checkins.api_urls")),
    # Statistics, exports, the calendar feed; webhooks.
    path("", include("stats.api_urls")),
    path("", include("feed.webhook_api_urls")),
    path("", include("feed.api_urls")),
    path("schema/", SchemaView.as_view(), name="schema"),
]

urlpatterns = [
    path("v1/", include(v1)),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
]
