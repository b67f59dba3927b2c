"""URLs of exports and the calendar feed, included at the site's root by trainy/urls.py (the
feed lives outside /stats/: calendar apps get a short, fixed address)."""

from django.urls import path, re_path

from stats.exports import views
from trainy.redaction import CALENDAR_FEED

app_name = "exports"

urlpatterns = [
    path("stats/export/", views.export_new, name="new"),
    path("stats/archive/", views.archive_new, name="archive"),
    path("stats/exports/<int:export_id>/", views.export_status, name="status"),
    path("stats/exports/<int:export_id>/progress/", views.export_progress, name="progress"),
    path("stats/exports/<int:export_id>/download/", views.export_download, name="download"),
    path("stats/calendar/", views.calendar_settings, name="calendar"),
    # The token is the key to the feed: declared in trainy/redaction.py, which keeps it out of
    # every log line.
    re_path(CALENDAR_FEED.route, views.calendar_feed, name="calendar_feed"),
]
