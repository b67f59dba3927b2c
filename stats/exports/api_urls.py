from django.urls import path

from stats.exports import apis

urlpatterns = [
    path("exports/", apis.ExportListApi.as_view(), name="exports"),
    path("exports/archive/", apis.ArchiveApi.as_view(), name="archive"),
    path("exports/<int:export_id>/", apis.ExportDetailApi.as_view(), name="export"),
    path(
        "exports/<int:export_id>/download/",
        apis.ExportDownloadApi.as_view(),
        name="export_download",
    ),
    path("calendar/", apis.CalendarApi.as_view(), name="calendar"),
]
