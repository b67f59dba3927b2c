"""OpenAPI helpers: the error body's schema with an example per status, the security schemes
of personal access tokens and OAuth2 apps, and ``api_operation``, the one decorator an API
method takes, so that every operation documents its summary, scope, bodies and errors the same
way."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.urls import reverse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers

from trainy.api.permissions import required_scope


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable word for programs, e.g. `invalid`.")
    message = serializers.CharField(help_text="A sentence for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per input field (nested fields as `parent.child`); empty if none.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def _example(status: int, code: str, message: str, fields: dict | None = None) -> OpenApiExample:
    return OpenApiExample(
        code,
        value={"error": {"code": code, "message": message, "fields": fields or {}}},
        status_codes=[str(status)],
        response_only=True,
    )


ERRORS: dict[int, tuple[str, OpenApiExample]] = {
    400: (
        "The input is not valid.",
        _example(
            400,
            "invalid",
            "Some of the input is not valid; see the messages per field.",
            {"limit": ["Ensure this value is less than or equal to 100."]},
        ),
    ),
    401: (
        "No token, or one that is unknown, expired or revoked.",
        _example(401, "authentication_failed", "The token is unknown, expired or revoked."),
    ),
    403: (
        "The token lacks the operation's scope.",
        _example(
            403,
            "permission_denied",
            "This token does not have the scope “read” this operation needs.",
        ),
    ),
    404: ("No such object, or not yours to see.", _example(404, "not_found", "No such journey.")),
    413: (
        "The body is larger than the operation takes.",
        _example(
            413,
            "too_large",
            "The file is too large: an import takes at most 50 MB. Export a shorter period and "
            "import the parts.",
        ),
    ),
    429: (
        "Too many requests; `Retry-After` says how many seconds to wait.",
        _example(429, "throttled", "Request was throttled. Expected available in 42 seconds."),
    ),
}
# The header a 429 carries (trainy.api.throttling sets it), declared on the 429 of every operation.
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    location=OpenApiParameter.HEADER,
    response=[429],
    description="Seconds to wait before the limit lets a request through again.",
)
# Every operation can answer these: without credentials, with a token short of the scope, and
# past the rate limits.
COMMON_ERRORS = (401, 403, 429)


def api_operation(
    *,
    operation_id: str,
    summary: str,
    responses: dict[int, Any],
    errors: Sequence[int] = (),
    description: str = "",
    request: Any = None,
    parameters: list[Any] | None = None,
    examples: list[OpenApiExample] | None = None,
    tags: list[str] | None = None,
) -> Callable[[Any], Any]:
    """extend_schema for one API method (``operation_id``: the name a generated client gives
    it, e.g. ``journeys_list``): its responses plus the error bodies of ``errors`` and
    COMMON_ERRORS, each with an example. The scope it needs is the view's ``required_scopes``:
    TrainyAutoSchema writes it into the description, so it is stated once."""
    documented: dict[int, Any] = dict(responses)
    for status in sorted({*errors, *COMMON_ERRORS}):
        text, example = ERRORS[status]
        documented[status] = OpenApiResponse(ErrorSerializer, description=text, examples=[example])
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description,
        request=request,
        responses=documented,
        parameters=[*(parameters or []), RETRY_AFTER],
        examples=examples,
        tags=tags,
    )


class AccessTokenScheme(OpenApiAuthenticationExtension):
    """The personal access token as an HTTP bearer scheme in the schema."""

    target_class = "trainy.accounts.authentication.AccessTokenAuthentication"
    name = "accessToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "trainy_pat_…",
            "description": "A personal access token, made on /settings/tokens/.",
        }


class OAuth2AppScheme(OpenApiAuthenticationExtension):
    """An OAuth2 app's access token (trainy.accounts.authentication.OAuth2AppAuthentication):
    the authorization code flow with PKCE and the scopes of OAUTH2_PROVIDER. Each operation
    lists the scope it needs, read from its view's ``required_scopes`` (as HasRequiredScopes
    enforces it); one a token cannot use at all lists no oauth2 requirement."""

    target_class = "trainy.accounts.authentication.OAuth2AppAuthentication"
    name = "oauth2"

    def get_security_requirement(
        self, auto_schema: Any
    ) -> dict[str, list[Any]] | list[dict[str, list[Any]]]:
        scope = required_scope(auto_schema.view, auto_schema.method)
        # No alternative at all (an empty list) where a token may not call the operation.
        return {self.name: [scope.value]} if scope is not None else []

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "oauth2",
            "description": (
                "An app registered on /settings/apps/, acting for a traveller who allowed it: "
                "authorization code with PKCE (S256), refresh tokens."
            ),
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": reverse("oauth2_provider:authorize"),
                    "tokenUrl": reverse("oauth2_provider:token"),
                    "refreshUrl": reverse("oauth2_provider:token"),
                    "scopes": dict(settings.OAUTH2_PROVIDER["SCOPES"]),
                }
            },
        }


class TrainyAutoSchema(AutoSchema):
    """drf-spectacular's schema, with the scope each operation needs read from the view's
    ``required_scopes`` (what HasRequiredScopes enforces), so the documentation cannot drift."""

    # extend_schema subclasses the schema per view and overrides get_description, so the scope
    # is added to the finished operation instead.
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        scope = required_scope(self.view, self.method)
        if operation is None or scope is None:
            return operation
        needs = f"Needs the scope `{scope.value}` (a session of the site has every scope)."
        operation["description"] = f"{operation.get('description', '')}\n\n{needs}".strip()
        return operation
