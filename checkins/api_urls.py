from django.urls import path

from checkins import apis

urlpatterns = [
    path("journeys/", apis.JourneyListApi.as_view(), name="journeys"),
    path("journeys/<int:checkin_id>/", apis.JourneyDetailApi.as_view(), name="journey"),
]
