"""The client side of the OAuth2 tests: what an app does (PKCE, the authorization request, the
code exchange), written from RFC 6749 and RFC 7636, apart from the server it checks."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

REDIRECT_URI = "https://client.example.org/callback"


def pkce_pair() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636 4.1, 4.2): BASE64URL(SHA256(verifier))
    without padding."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(
    client_id: str,
    *,
    scope: str | None = "read",
    challenge: str | None = None,
    method: str = "S256",
    state: str = "st4te",
    redirect_uri: str = REDIRECT_URI,
    response_type: str = "code",
) -> str:
    params = {"response_type": response_type, "client_id": client_id,
              "redirect_uri": redirect_uri, "state": state}  # fmt: skip
    if scope is not None:  # None: the app asks for no scope (DEFAULT_SCOPES)
        params["scope"] = scope
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": method}
    return "/oauth/authorize/?" + urlencode(params)


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of the consent page's form: what its POST carries back."""
    found = {}
    for tag in re.findall(r"<input[^>]*type=\"hidden\"[^>]*>", html):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and name.group(1) != "csrfmiddlewaretoken":
            found[name.group(1)] = unescape(value.group(1)) if value else ""
    return found


def query_of(location: str) -> dict[str, str]:
    """The query parameters of a redirect's Location, one value each."""
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}
