"""The OpenAPI schema (/api/v1/schema/) validates, and documents every operation fully; the
docs page (/api/docs/) serves Swagger UI from Trainy's own static files, under its CSP."""

from __future__ import annotations

import re

import pytest
import yaml
from django.urls import resolve
from openapi_spec_validator import validate

from trainy.accounts.models import Scope
from trainy.api.permissions import required_scope

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_the_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_every_operation_has_a_summary_typed_bodies_errors_and_examples(schema):
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    assert len(operations) >= 6
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        assert operation.get("summary"), where
        assert operation.get("operationId"), where
        scope = _required_scope(path, method)
        assert f"Needs the scope `{scope.value}`" in operation.get("description", ""), where
        assert {"accessToken": []} in operation["security"], where
        responses = operation["responses"]
        success = [code for code in responses if code.startswith("2")]
        assert success, where
        for code in success:
            if code == "204":
                assert "content" not in responses[code], where
                continue
            content = responses[code]["content"]
            body = content["application/json"]
            assert "$ref" in body["schema"] or "items" in body["schema"], (where, code)
            assert body.get("examples"), (where, code)
            if "items" in body["schema"]:
                # A list's example is a list of items (not a list of lists).
                for example in body["examples"].values():
                    value = example["value"]
                    assert isinstance(value, list), (where, code)
                    assert all(not isinstance(item, list) for item in value), (where, code)
            # A file (an export) in the other media types: bytes, or a JSON object in a JSON
            # dialect (GeoJSON), which clients and schemathesis parse as JSON.
            for media, other in content.items():
                if media.endswith("+json"):
                    assert other["schema"] == {"type": "object", "additionalProperties": {}}, (
                        where,
                        media,
                    )
                elif media != "application/json":
                    assert other["schema"] == {"type": "string", "format": "binary"}, where
        for code in ("401", "403", "429"):
            body = responses[code]["content"]["application/json"]
            assert body["schema"] == {"$ref": "#/components/schemas/Error"}, (where, code)
            assert body["examples"], (where, code)
        assert responses["429"]["headers"]["Retry-After"]["schema"]["type"] == "integer", where
        # A write that takes no body (PUT a follow, POST "accept") documents none; one that
        # takes a body has it typed, with an example: JSON, or a form with a file (an import).
        if method in ("post", "put", "patch") and "requestBody" in operation:
            content = operation["requestBody"]["content"]
            assert set(content) in ({"application/json"}, {"multipart/form-data"}), where
            request = next(iter(content.values()))
            assert "$ref" in request["schema"] and request.get("examples"), where


def _required_scope(path: str, method: str) -> Scope:
    """The scope the view behind ``path`` enforces for ``method`` (what the schema must say)."""
    match = resolve(re.sub(r"\{[^}]+\}", "1", path))
    view = match.func.view_class
    scope = required_scope(view, method.upper())
    assert scope is not None, f"{method.upper()} {path} names no scope"
    return scope


def test_the_token_is_a_bearer_scheme(schema):
    scheme = schema["components"]["securitySchemes"]["accessToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


def test_the_docs_page_loads_only_trainys_own_files_and_no_inline_code(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and all(source.startswith("/") for source in sources), sources
    assert any("swagger-ui-bundle" in source for source in sources)
    assert "<style" not in page and not re.search(r"<script>\s*\S", page)
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    for source in sources:
        assert client.get(source).status_code == 200, source
