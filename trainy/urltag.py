"""Django's ``{% url %}`` tag, with the paths it writes kept once reversed (a builtin of the
Django templates, settings.TEMPLATES, so every template's ``{% url %}`` is this one).

A signed-in page writes about fifteen paths in its header, tabs and forms, the same on every
page of every viewer but for a username or an id; reverse() walks the URLconf's patterns for
each, about a fifth of a millisecond a page. The URLconf never changes while the process runs,
so a path is a function of what reverse() is given: the script prefix it puts in front, the
name, the arguments and the current application (tests/trainy/test_urltag.py holds the tag to
Django's own)."""

from __future__ import annotations

from collections.abc import Hashable
from functools import lru_cache
from typing import Any

from django import template
from django.template.base import Parser, Token
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import get_script_prefix, reverse
from django.utils.html import conditional_escape

register = template.Library()


@lru_cache(maxsize=8192)
def _reversed(prefix: str, name: str, args: tuple[Hashable, ...], current_app: str | None) -> str:
    # The prefix is part of the key: reverse() reads it itself.
    return reverse(name, args=args or None, current_app=current_app)


class KeptURLNode(URLNode):
    def render(self, context: template.Context) -> str:
        if self.kwargs or self.asvar:
            return str(super().render(context))  # rare in Trainy's templates: as Django does
        args = tuple(arg.resolve(context) for arg in self.args)
        request: Any = getattr(context, "request", None)
        current_app = getattr(request, "current_app", None)
        if current_app is None:
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        name = self.view_name.resolve(context)
        try:
            url = _reversed(get_script_prefix(), name, args, current_app)
        except TypeError:  # an argument that cannot be a key (unhashable): reversed each time
            return str(super().render(context))
        return str(conditional_escape(url)) if context.autoescape else url


@register.tag
def url(parser: Parser, token: Token) -> KeptURLNode:
    node = django_url(parser, token)
    return KeptURLNode(node.view_name, node.args, node.kwargs, node.asvar)
