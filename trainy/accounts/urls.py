from django.urls import path

from trainy.accounts import views

app_name = "accounts"

urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
    path("settings/delete/", views.account_delete_page, name="delete"),
    path("settings/sessions/", views.sessions_page, name="sessions"),
    path("settings/tokens/", views.tokens_page, name="tokens"),
    path("settings/apps/", views.apps_page, name="apps"),
    path("settings/apps/<int:app_id>/delete/", views.app_delete, name="app_delete"),
    path("settings/apps/<int:app_id>/revoke/", views.app_revoke, name="app_revoke"),
]
