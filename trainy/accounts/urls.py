from django.urls import path

from trainy.accounts import views

app_name = "accounts"

urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
    path("settings/sessions/", views.sessions_page, name="sessions"),
    path("settings/tokens/", views.tokens_page, name="tokens"),
]
