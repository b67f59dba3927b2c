from django.urls import path

from checkins import views

app_name = "checkins"

urlpatterns = [
    path("new/", views.checkin_new, name="new"),
    path("", views.journey_list, name="list"),
    path("<int:checkin_id>/", views.journey_detail, name="detail"),
    path("<int:checkin_id>/edit/", views.journey_edit, name="edit"),
    path("<int:checkin_id>/delete/", views.journey_delete, name="delete"),
]
