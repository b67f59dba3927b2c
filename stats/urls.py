from django.urls import path

from stats import views

app_name = "stats"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("map.json", views.journey_map, name="map"),
    path("leaderboard/", views.leaderboards, name="leaderboard"),
]
