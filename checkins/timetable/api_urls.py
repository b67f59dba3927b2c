from django.urls import path

from checkins.timetable import apis

urlpatterns = [
    path("stations/", apis.StationSearchApi.as_view(), name="stations"),
    path("stations/nearby/", apis.StationNearbyApi.as_view(), name="stations_nearby"),
    # The same paths as the pages' (checkins/timetable/urls.py), under /api/v1/.
    path(
        "stations/<slug:feed>/<str:stop_id>/departures/",
        apis.DeparturesApi.as_view(),
        name="departures",
    ),
    path(
        "trips/<slug:feed>/<str:trip_id>/<str:service_date>/",
        apis.TripApi.as_view(),
        name="trip",
    ),
]
