"""The API's JSON parser: DRF's, with a body nested too deeply for Python's JSON decoder (a few
kilobytes of "[[[[…") refused as malformed input (400) instead of failing the request (500)."""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("The JSON is nested too deeply.") from None
