from django.urls import include, path

from stats import apis

urlpatterns = [
    path("stats/", apis.StatsApi.as_view(), name="stats"),
    path("", include("stats.exports.api_urls")),
]
