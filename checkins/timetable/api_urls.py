from django.urls import path

from checkins.timetable import apis

urlpatterns = [
    path("stations/", apis.StationSearchApi.as_view(), name="stations"),
    path("stations/nearby/", apis.StationNearbyApi.as_view(), name="stations_nearby"),
]
