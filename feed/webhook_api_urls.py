from django.urls import path

from feed import webhook_apis as apis

urlpatterns = [
    path("webhooks/", apis.WebhookListApi.as_view(), name="webhooks"),
    path("webhooks/<int:endpoint_id>/", apis.WebhookDetailApi.as_view(), name="webhook"),
    path(
        "webhooks/<int:endpoint_id>/rotate-secret/",
        apis.WebhookRotateSecretApi.as_view(),
        name="webhook_rotate_secret",
    ),
    path(
        "webhooks/<int:endpoint_id>/deliveries/",
        apis.WebhookDeliveriesApi.as_view(),
        name="webhook_deliveries",
    ),
]
