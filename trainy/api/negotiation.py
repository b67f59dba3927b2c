"""Content negotiation for operations that answer with a file (an export): the file's type is
the file's, whatever ``Accept`` asks for, and errors are JSON. DRF's default would answer 406
to ``Accept: text/csv`` before the view runs, since the API's only renderer is JSON's."""

from __future__ import annotations

from collections.abc import Sequence

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class FileContentNegotiation(DefaultContentNegotiation):
    """Bodies are parsed as everywhere; the answer's renderer is the first (JSON, for error
    bodies and JSON answers), whatever the client accepts: the view returns the file itself as
    a plain Django response."""

    def select_renderer(
        self, request: Request, renderers: Sequence[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], str(renderers[0].media_type)
