from django.urls import path

from checkins import views

app_name = "checkins"

urlpatterns = [
    path("new/", views.checkin_new, name="new"),
    path("", views.journey_list, name="list"),
    path("<int:checkin_id>/", views.journey_detail, name="detail"),
    path("<int:checkin_id>/edit/", views.journey_edit, name="edit"),
    path("<int:checkin_id>/delete/", views.journey_delete, name="delete"),
    path("import/", views.journey_import_new, name="import_new"),
    path("imports/<int:import_id>/", views.journey_import_status, name="import"),
    path(
        "imports/<int:import_id>/progress/", views.journey_import_progress, name="import_progress"
    ),
]
