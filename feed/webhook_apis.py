"""The API of webhooks: a traveller's endpoints (add, read, change, pause and resume, delete),
their secrets (shown once, when made or replaced) and their last deliveries, over the services
and selectors of the webhooks page. Private addresses are refused by the service, as on the
page; someone else's webhook is as unknown as one that never was."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkins.selectors import parse_cursor
from feed.models import WEBHOOK_URL_MAX_LENGTH, DeliveryStatus, WebhookEndpoint, WebhookEvent
from feed.selectors import (
    webhook_deliveries,
    webhook_endpoint_get,
    webhook_endpoints,
)
from feed.services import webhooks
from trainy.accounts.models import Scope, User
from trainy.api.pagination import PAGE_PARAMETERS, PageQuerySerializer, next_url, page_serializer
from trainy.api.schema import api_operation

EVENTS_HELP = "Which events to send: " + ", ".join(f"`{event}`" for event in WebhookEvent.values)


@extend_schema_serializer(component_name="Webhook")
class WebhookSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))
    active = serializers.BooleanField(
        help_text="False: paused by you, or switched off after failed deliveries "
        "(`disabled_at`); nothing is sent to it."
    )
    consecutive_failures = serializers.IntegerField(help_text="Failed deliveries in a row.")
    disabled_at = serializers.DateTimeField(
        allow_null=True, help_text="When it was switched off after failed deliveries."
    )
    disabled_reason = serializers.CharField()
    created_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="WebhookWithSecret")
class WebhookWithSecretSerializer(WebhookSerializer):
    secret = serializers.CharField(
        help_text="The key of the `Trainy-Signature` HMAC. Shown this once: keep it."
    )


WEBHOOK_EXAMPLE = {
    "id": 3,
    "url": "https://example.org/trainy-hook",
    "events": ["checkin.created", "checkin.updated"],
    "active": True,
    "consecutive_failures": 0,
    "disabled_at": None,
    "disabled_reason": "",
    "created_at": "2026-12-06T10:00:00.123456+01:00",
}
WITH_SECRET_EXAMPLE = {
    **WEBHOOK_EXAMPLE,
    "secret": "whsec_0f4c2b5e8a1d9c7b3e6f2a4d8c1b5e9f7a3d2c6b8e4f1a0d",
}


def _webhook_data(endpoint: WebhookEndpoint, secret: str | None = None) -> dict[str, Any]:
    data = {
        "id": endpoint.pk,
        "url": endpoint.url,
        # Prefetched by webhook_endpoints; one query for a single endpoint.
        "events": sorted(subscription.event for subscription in endpoint.subscriptions.all()),
        "active": endpoint.active,
        "consecutive_failures": endpoint.consecutive_failures,
        "disabled_at": endpoint.disabled_at,
        "disabled_reason": endpoint.disabled_reason,
        "created_at": endpoint.created_at,
    }
    if secret is not None:
        data["secret"] = secret
    return data


def _owned(request: Request, endpoint_id: int) -> WebhookEndpoint:
    endpoint = webhook_endpoint_get(owner=request.user, endpoint_id=endpoint_id)
    if endpoint is None:
        # The same answer for "no such webhook" and "someone else's": no existence leak.
        raise NotFound("No such webhook.")
    return endpoint


def _events_field(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        max_length=len(WebhookEvent.choices),
        help_text=EVENTS_HELP,
        **kwargs,
    )


def _url_field(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        max_length=WEBHOOK_URL_MAX_LENGTH,
        help_text="A public https:// address (private ones are refused unless the admins allow "
        "them).",
        **kwargs,
    )


class WebhookListApi(APIView):
    required_scopes = {"GET": Scope.WEBHOOKS, "POST": Scope.WEBHOOKS}

    @extend_schema_serializer(component_name="WebhookCreate")
    class InputSerializer(serializers.Serializer):
        url = _url_field()
        events = _events_field()

    @api_operation(
        operation_id="webhooks_list",
        summary="Your webhooks",
        description="Newest first (there are at most TRAINY_WEBHOOKS_MAX_ENDPOINTS); their "
        "secrets are not shown again.",
        responses={200: WebhookSerializer(many=True)},
        examples=[OpenApiExample("one", value=WEBHOOK_EXAMPLE, response_only=True)],
        tags=["webhooks"],
    )
    def get(self, request: Request) -> Response:
        endpoints = webhook_endpoints(owner=request.user)
        rows = [_webhook_data(endpoint) for endpoint in endpoints]
        return Response(WebhookSerializer(rows, many=True).data)

    @api_operation(
        operation_id="webhooks_create",
        summary="Add a webhook",
        description="Its secret is in the answer, this once. Refused (400): a URL that is not "
        "https or not on a public address, no or unknown events, one webhook too many.",
        request=InputSerializer,
        responses={201: OpenApiResponse(WebhookWithSecretSerializer, description="Added.")},
        errors=(400,),
        examples=[
            OpenApiExample(
                "check-ins",
                value={
                    "url": "https://example.org/trainy-hook",
                    "events": ["checkin.created", "checkin.updated"],
                },
                request_only=True,
            ),
            OpenApiExample("added", value=WITH_SECRET_EXAMPLE, response_only=True),
        ],
        tags=["webhooks"],
    )
    def post(self, request: Request) -> Response:
        user: User = request.user
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        endpoint = webhooks.webhook_endpoint_create(owner=user, **body.validated_data)
        location = request.build_absolute_uri(reverse("api:webhook", args=[endpoint.pk]))
        data = _webhook_data(endpoint, secret=endpoint.secret)
        return Response(
            WebhookWithSecretSerializer(data).data, status=201, headers={"Location": location}
        )


class WebhookDetailApi(APIView):
    required_scopes = {"GET": Scope.WEBHOOKS, "PATCH": Scope.WEBHOOKS, "DELETE": Scope.WEBHOOKS}

    @extend_schema_serializer(component_name="WebhookChange")
    class InputSerializer(serializers.Serializer):
        """What to change; what is left out stays as it is."""

        url = _url_field(required=False)
        events = _events_field(required=False)
        active = serializers.BooleanField(
            required=False,
            help_text="False pauses it; true resumes it, with its failures forgotten.",
        )

    @api_operation(
        operation_id="webhook_get",
        summary="A webhook",
        responses={200: WebhookSerializer},
        errors=(404,),
        examples=[OpenApiExample("active", value=WEBHOOK_EXAMPLE, response_only=True)],
        tags=["webhooks"],
    )
    def get(self, request: Request, endpoint_id: int) -> Response:
        return Response(WebhookSerializer(_webhook_data(_owned(request, endpoint_id))).data)

    @api_operation(
        operation_id="webhook_update",
        summary="Change, pause or resume a webhook",
        description="Deliveries waiting for a paused webhook are not sent.",
        request=InputSerializer,
        responses={200: WebhookSerializer},
        errors=(400, 404),
        examples=[
            OpenApiExample("pause", value={"active": False}, request_only=True),
            OpenApiExample(
                "paused", value={**WEBHOOK_EXAMPLE, "active": False}, response_only=True
            ),
        ],
        tags=["webhooks"],
    )
    def patch(self, request: Request, endpoint_id: int) -> Response:
        endpoint = _owned(request, endpoint_id)
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        endpoint = webhooks.webhook_endpoint_update(endpoint=endpoint, **body.validated_data)
        return Response(WebhookSerializer(_webhook_data(endpoint)).data)

    @api_operation(
        operation_id="webhook_delete",
        summary="Delete a webhook",
        description="With its deliveries; one being sent right now is dropped.",
        responses={204: None},
        errors=(404,),
        tags=["webhooks"],
    )
    def delete(self, request: Request, endpoint_id: int) -> Response:
        webhooks.webhook_endpoint_delete(endpoint=_owned(request, endpoint_id))
        return Response(status=204)


class WebhookRotateSecretApi(APIView):
    required_scopes = {"POST": Scope.WEBHOOKS}

    @api_operation(
        operation_id="webhook_rotate_secret",
        summary="Give a webhook a new secret",
        description="The new secret is in the answer, this once. Every try from now on is "
        "signed with it, retries of earlier deliveries included.",
        request=None,
        responses={200: WebhookWithSecretSerializer},
        errors=(404,),
        examples=[OpenApiExample("new secret", value=WITH_SECRET_EXAMPLE, response_only=True)],
        tags=["webhooks"],
    )
    def post(self, request: Request, endpoint_id: int) -> Response:
        endpoint = _owned(request, endpoint_id)
        secret = webhooks.webhook_endpoint_rotate_secret(endpoint=endpoint)
        return Response(WebhookWithSecretSerializer(_webhook_data(endpoint, secret=secret)).data)


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Also the body's `id` and `Trainy-Delivery`.")
    event = serializers.ChoiceField(choices=WebhookEvent.choices)
    status = serializers.ChoiceField(
        choices=DeliveryStatus.choices,
        help_text="`pending` (being tried), `delivered` (answered 2xx) or `failed` (for good).",
    )
    attempts = serializers.IntegerField(help_text="Tries so far.")
    response_status = serializers.IntegerField(
        allow_null=True, help_text="The last try's HTTP status; null: no answer."
    )
    duration_ms = serializers.IntegerField(allow_null=True, help_text="The last try's time.")
    error = serializers.CharField(help_text="Why the last try failed; empty otherwise.")
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)


DELIVERY_EXAMPLE = {
    "id": 4711,
    "event": "checkin.created",
    "status": "delivered",
    "attempts": 1,
    "response_status": 204,
    "duration_ms": 83,
    "error": "",
    "created_at": "2026-12-06T10:02:11.482913+01:00",
    "delivered_at": "2026-12-06T10:02:11.601200+01:00",
}


class WebhookDeliveriesApi(APIView):
    required_scopes = {"GET": Scope.WEBHOOKS}

    OutputSerializer = extend_schema_serializer(component_name="WebhookDeliveryPage")(
        page_serializer("WebhookDeliveryPageSerializer", DeliverySerializer)
    )

    @api_operation(
        operation_id="webhook_deliveries",
        summary="A webhook's deliveries",
        description="Newest first, with the last try's status code and duration; deliveries "
        "are kept for TRAINY_WEBHOOKS_KEEP_DAYS days.",
        parameters=PAGE_PARAMETERS,
        responses={200: OutputSerializer},
        errors=(400, 404),
        examples=[
            OpenApiExample(
                "one page",
                value={
                    "results": [DELIVERY_EXAMPLE],
                    "next_cursor": "1765011731482913-4711",
                    "next": "https://trainy.example.org/api/v1/webhooks/3/deliveries/"
                    "?cursor=1765011731482913-4711",
                },
                response_only=True,
            )
        ],
        tags=["webhooks"],
    )
    def get(self, request: Request, endpoint_id: int) -> Response:
        endpoint = _owned(request, endpoint_id)
        page_query = PageQuerySerializer(data=request.query_params)
        page_query.is_valid(raise_exception=True)
        cursor = page_query.validated_data.get("cursor")
        after = parse_cursor(cursor) if cursor else None
        if cursor and after is None:
            raise ValidationError({"cursor": ["Not a cursor of this list; start without one."]})
        rows, next_cursor = webhook_deliveries(
            endpoint=endpoint, after=after, limit=page_query.validated_data["limit"]
        )
        data = {"results": rows, "next_cursor": next_cursor, "next": next_url(request, next_cursor)}
        return Response(self.OutputSerializer(data).data)
