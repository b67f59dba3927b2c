"""The HTTP answers that carry an export's file, for the export pages and the API alike: the
same content type, attachment name and caching rule whichever door the traveller came in by."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

from stats.exports import export_chunks
from stats.exports.selectors import ExportSource
from stats.models import Export


def file_response(source: ExportSource, username: str) -> HttpResponse | StreamingHttpResponse:
    """The export made now, as it is read: streamed for the formats written row by row."""
    kind = source.options.kind
    response: HttpResponse | StreamingHttpResponse
    if kind.streams:
        response = StreamingHttpResponse(export_chunks(source), content_type=kind.content_type)
    else:
        response = HttpResponse(b"".join(export_chunks(source)), content_type=kind.content_type)
    attachment(response, source.options.filename(username))
    return response


def stored_file_response(export: Export) -> HttpResponse:
    """A finished background export's file (``export.content`` loaded)."""
    response = HttpResponse(bytes(export.content or b""), content_type=export.content_type)
    attachment(response, export.filename)
    return response


def attachment(response: HttpResponseBase, filename: str) -> None:
    """Make ``response`` a download named ``filename``."""
    response["Content-Disposition"] = content_disposition_header(True, filename) or ""
    # A traveller's journeys: never in a shared cache.
    response["Cache-Control"] = "private, no-store"
