from django.urls import path

from checkins.timetable import views

app_name = "timetable"

urlpatterns = [
    path("stations/", views.station_search_page, name="search"),
    path("stations/suggest/", views.station_suggest, name="suggest"),
    path(
        "stations/<slug:feed>/<str:stop_id>/departures/",
        views.departure_board,
        name="board",
    ),
    path(
        "trips/<slug:feed>/<str:trip_id>/<str:service_date>/",
        views.trip_detail,
        name="trip",
    ),
]
