from django.urls import path

from trainy.accounts import apis

urlpatterns = [
    path("me/", apis.MeApi.as_view(), name="me"),
]
