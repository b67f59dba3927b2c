from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from trainy import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("feed.urls")),
    path("journeys/", include("checkins.urls")),
    path("", include("checkins.timetable.urls")),
    path("stats/", include("stats.urls")),
    path("accounts/", include("allauth.urls")),
    path(settings.TRAINY_ADMIN_PATH, admin.site.urls),
]
