"""Content-Security-Policy, Permissions-Policy and Referrer-Policy on Trainy's answers."""

from __future__ import annotations

import json

import pytest

from tests.trainy.test_config import PRODUCTION, run_python
from trainy.security import csp_source


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in header.split(";"):
        name, *values = directive.split()
        parsed[name] = values
    return parsed


EXPECTED = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "https://tile.openstreetmap.org"],
    "connect-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/stations/", "/accounts/login/", "/no-such-page/"])
def test_every_page_carries_the_security_headers(client, path):
    response = client.get(path)
    assert directives(response["Content-Security-Policy"]) == EXPECTED
    policy = dict(item.split("=") for item in response["Permissions-Policy"].split(", "))
    # Station search asks for the position; nothing asks for a camera, microphone, payment…
    assert policy["geolocation"] == "(self)"
    for feature in ("camera", "microphone", "payment", "usb", "display-capture"):
        assert policy[feature] == "()"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_the_admin_carries_them_too(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert directives(response["Content-Security-Policy"])["script-src"] == ["'self'"]


def test_with_gitlab_avatars_and_the_sign_in_redirect_are_allowed():
    code = (
        "import json, django; from django.conf import settings; django.setup();"
        "print(json.dumps(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']))"
    )
    env = PRODUCTION | {
        "GITLAB_URL": "https://git.example.edu/",
        "GITLAB_CLIENT_ID": "trainy",
        "GITLAB_CLIENT_SECRET": "s3cret",
        "TRAINY_MAP_TILES": "https://{s}.tiles.example.org/{z}/{x}/{y}.png",
    }
    result = run_python(code, env)
    assert result.returncode == 0, result.stderr
    policy = json.loads(result.stdout)
    assert policy["img-src"] == [
        "'self'",
        "data:",
        "https://*.tiles.example.org",
        "https://git.example.edu",
        "https://secure.gravatar.com",
    ]
    # The GitLab button posts to Trainy, which redirects the browser to GitLab.
    assert policy["form-action"] == ["'self'", "https://git.example.edu"]


@pytest.mark.parametrize(
    ("url", "source"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("http://tiles.local:8080/{z}/{x}/{y}.png", "http://tiles.local:8080"),
        ("https://tiles-{s}.example.org/{z}/{x}/{y}.png", "https://*.example.org"),
        # CSP has wildcards for the first label only.
        ("https://tiles.{s}.example.org/{z}/{x}/{y}.png", "https:"),
        ("https://git.example.edu/", "https://git.example.edu"),
    ],
)
def test_csp_sources_of_urls_and_url_templates(url, source):
    assert csp_source(url) == source
