"""The Content-Security-Policy, built from the settings it depends on.

Scripts and styles come from Trainy's own static files only: no inline script, style element or
style attribute, no eval (templates pass colours and levels as classes and data attributes that
static/js applies; htmx is told not to inject its indicator style, see base.html). Images may
also be map tiles and avatars. The GitLab button posts to Trainy, which redirects the browser to
GitLab: browsers hold that redirect of a form submission to ``form-action`` too, so GitLab's
origin is allowed there once sign-in with GitLab is configured.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def csp_source(url: str) -> str:
    """The source that allows ``url`` (a URL or a URL template such as a map tile server's
    ``https://{s}.tile.example.org/{z}/{x}/{y}.png``): its scheme, host and port. A first
    label with a placeholder in it becomes CSP's wildcard (``*.tile.example.org``); a
    placeholder further right leaves only the scheme, which CSP cannot narrow further."""
    parts = urlsplit(url.strip())
    labels = parts.netloc.rpartition("@")[2].split(".")
    if "{" in labels[0]:
        labels[0] = "*"
    host = ".".join(labels)
    if not parts.scheme or not host or "{" in host or "}" in host:
        return f"{parts.scheme or 'https'}:"
    return f"{parts.scheme}://{host}"


def content_security_policy(
    *, map_tiles: str, gitlab_url: str | None, image_sources: list[str]
) -> dict[str, Any]:
    """django-csp's CONTENT_SECURITY_POLICY. ``gitlab_url``: GitLab's address when sign-in
    with GitLab is configured; ``image_sources``: more origins avatars may come from."""
    gitlab = [csp_source(gitlab_url)] if gitlab_url else []
    images = [csp_source(map_tiles), *gitlab, *image_sources]
    return {
        "DIRECTIVES": {
            "default-src": ["'self'"],
            "script-src": ["'self'"],
            "style-src": ["'self'"],
            "img-src": ["'self'", "data:", *dict.fromkeys(images)],
            "connect-src": ["'self'"],
            "object-src": ["'none'"],
            "base-uri": ["'none'"],
            "frame-ancestors": ["'none'"],
            "form-action": ["'self'", *gitlab],
        }
    }
