from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path

from trainy import health


def favicon(request: HttpRequest) -> HttpResponse:
    # Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says.
    return redirect(static("favicon.svg"), permanent=True)


urlpatterns = [
    path("favicon.ico", favicon),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("feed.urls")),
    path("", include("trainy.accounts.urls")),
    path("journeys/", include("checkins.urls")),
    path("", include("checkins.timetable.urls")),
    path("stats/", include("stats.urls")),
    path("", include("stats.exports.urls")),
    path("accounts/", include("allauth.urls")),
    path("api/", include(("trainy.api.urls", "api"))),
    path("oauth/", include("trainy.accounts.oauth_urls")),
    path(settings.TRAINY_ADMIN_PATH, admin.site.urls),
]

# Error pages in the site's layout, with the message a view gave (trainy/errors.py).
handler400 = "trainy.errors.bad_request"
handler403 = "trainy.errors.permission_denied"
handler404 = "trainy.errors.page_not_found"
handler500 = "trainy.errors.server_error"
