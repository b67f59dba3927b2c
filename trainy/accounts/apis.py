"""The API of the accounts: the traveller's own profile and settings (/api/v1/me/)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from checkins.models import Visibility
from trainy.accounts.models import Scope, User
from trainy.accounts.services import settings_update
from trainy.api.schema import api_operation

# The settings page's bounds (trainy.accounts.forms.SettingsForm).
PRIVATE_AFTER_DAYS_MAX = 3650

ME_EXAMPLE = {
    "id": 7,
    "username": "alice",
    "display_name": "Alice",
    "avatar_url": "",
    "settings": {
        "default_visibility": "public",
        "private_profile": False,
        "likes_enabled": True,
        "private_after_days": None,
        "leaderboard_opt_out": False,
    },
}


@extend_schema_serializer(component_name="Settings")
class SettingsFields(serializers.Serializer):
    default_visibility = serializers.ChoiceField(
        choices=Visibility.choices, help_text="What a new check-in's visibility starts as."
    )
    private_profile = serializers.BooleanField(
        help_text="Only accepted followers see the journeys; follows become requests."
    )
    likes_enabled = serializers.BooleanField(help_text="Others may like the journeys.")
    private_after_days = serializers.IntegerField(
        min_value=1,
        max_value=PRIVATE_AFTER_DAYS_MAX,
        allow_null=True,
        help_text="Journeys older than this many days are made private; null: never.",
    )
    leaderboard_opt_out = serializers.BooleanField(help_text="Left out of the leaderboards.")


class MeApi(APIView):
    required_scopes = {"GET": Scope.READ, "PATCH": Scope.SETTINGS}

    @extend_schema_serializer(component_name="Me")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        display_name = serializers.CharField(source="name")
        avatar_url = serializers.CharField(help_text="Empty: none (initials are shown).")
        settings = SettingsFields(source="*")

    @extend_schema_serializer(component_name="SettingsChange")
    class InputSerializer(SettingsFields):
        """Any of the settings; those left out stay as they are."""

    @api_operation(
        operation_id="me_get",
        summary="Your profile and settings",
        responses={200: OutputSerializer},
        examples=[OpenApiExample("alice", value=ME_EXAMPLE, response_only=True)],
        tags=["me"],
    )
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(request.user).data)

    @api_operation(
        operation_id="me_update",
        summary="Change your settings",
        description="As the settings page does: making a private profile public accepts the "
        "follow requests that were waiting.",
        request=InputSerializer,
        responses={200: OutputSerializer},
        errors=(400,),
        examples=[
            OpenApiExample(
                "make the profile private",
                value={"private_profile": True, "default_visibility": "followers"},
                request_only=True,
            ),
            OpenApiExample("alice", value=ME_EXAMPLE, response_only=True),
        ],
        tags=["me"],
    )
    def patch(self, request: Request) -> Response:
        user: User = request.user
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        current = SettingsFields(user).data
        settings_update(user=user, **{**current, **serializer.validated_data})
        return Response(self.OutputSerializer(user).data)
