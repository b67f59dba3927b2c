"""Cursor pages: ``?cursor=`` (opaque, from the previous page's ``next_cursor``) and
``?limit=`` (1 to MAX_LIMIT). A page is read after the cursor by keyset (the selectors'
``page_after``), never with OFFSET, so the last page of a long list costs what the first does."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 100


class PageQuerySerializer(serializers.Serializer):
    cursor = serializers.CharField(required=False, max_length=MAX_CURSOR_LENGTH)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)


PAGE_PARAMETERS = [
    OpenApiParameter(
        "cursor", str, description="`next_cursor` of the previous page; none for the first."
    ),
    OpenApiParameter("limit", int, description=f"Items per page, 1 to {MAX_LIMIT}.", default=20),
]


def page_serializer(name: str, item: type[serializers.Serializer], **extra: Any) -> type:
    """The serializer of a page of ``item``s (for the schema and the answer): ``results``,
    ``next_cursor`` and ``next`` (the URL of the next page), plus ``extra`` fields."""
    fields = {
        "results": item(many=True),
        "next_cursor": serializers.CharField(allow_null=True, help_text="None on the last page."),
        "next": serializers.URLField(allow_null=True, help_text="The next page's URL, or None."),
        **extra,
    }
    return type(name, (serializers.Serializer,), fields)


def next_url(request: Request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    query = request.query_params.copy()
    query["cursor"] = cursor
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
