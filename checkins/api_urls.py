from django.urls import path

from checkins import apis

urlpatterns = [
    path("checkins/", apis.TripCheckInApi.as_view(), name="checkins"),
    path("checkins/manual/", apis.ManualCheckInApi.as_view(), name="checkins_manual"),
    path("journeys/", apis.JourneyListApi.as_view(), name="journeys"),
    path("journeys/<int:checkin_id>/", apis.JourneyDetailApi.as_view(), name="journey"),
    path("imports/", apis.JourneyImportListApi.as_view(), name="journey_imports"),
    path("imports/<int:import_id>/", apis.JourneyImportDetailApi.as_view(), name="journey_import"),
]
