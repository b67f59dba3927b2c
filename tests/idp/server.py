"""Runs the test identity provider (tests/idp) in a process of its own on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from jwcrypto import jwk

ROOT = Path(__file__).resolve().parent.parent.parent
CLIENT_ID = "trainy-test"
CLIENT_SECRET = "trainy-test-secret"
PASSWORD = "gitlab-test-password-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class GitLabIdP:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        key = jwk.JWK.generate(kty="RSA", size=2048)
        (state_dir / "oidc.key").write_bytes(key.export_to_pem(private_key=True, password=None))
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.idp.settings",
            "IDP_STATE_DIR": str(state_dir),
            "IDP_ISSUER": self.url,
            "PYTHONPATH": str(ROOT),
        }

    def _django(self, *args: str) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "django", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"idp {' '.join(args)} failed:\n{result.stderr[-3000:]}")

    def start(self) -> None:
        self._django("migrate", "--noinput", "-v0")
        # Appended to: a restart (after an outage) keeps what was answered before it.
        log = (self.state_dir / "idp.log").open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{self.port}",
             "--noreload"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"{self.url}/.well-known/openid-configuration", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the test IdP did not start: {self.log()[-3000:]}")
            time.sleep(0.2)

    def log(self) -> str:
        return (self.state_dir / "idp.log").read_text()

    def user(self, username: str, name: str, groups: list[str]) -> None:
        """Create or update a GitLab user with these direct group memberships (full paths)."""
        self._django("idp_setup", "--user", username, "--name", name, "--password", PASSWORD,
                     "--groups", ",".join(groups))  # fmt: skip

    def create_groups(self, *paths: str) -> None:
        """Make these groups exist (full paths), members or not."""
        self._django("idp_setup", "--create-groups", ",".join(paths))

    def block(self, username: str) -> None:
        self._django("idp_setup", "--user", username, "--block")

    def revoke(self, username: str) -> None:
        """The user revokes the access they gave Trainy (and every other application)."""
        self._django("idp_setup", "--user", username, "--revoke")

    def requests_to(self, path: str) -> int:
        """How many requests this IdP has answered at ``path`` so far (from its log)."""
        return sum(f" {path} HTTP/" in line for line in self.log().splitlines())

    def configure_trainy(self, settings: Any) -> None:
        """Trainy (pytest-django's ``settings``) set up for this GitLab, as GITLAB_* in the
        environment would."""
        settings.GITLAB_CLIENT_ID = CLIENT_ID
        settings.SOCIALACCOUNT_PROVIDERS = {
            "openid_connect": {
                "SCOPE": ["openid", "profile", "email"],
                "OAUTH_PKCE_ENABLED": True,
                "APPS": [{"provider_id": "gitlab", "name": "GitLab", "client_id": CLIENT_ID,
                          "secret": CLIENT_SECRET, "settings": {"server_url": self.url}}],
            }
        }  # fmt: skip
        # The sign-in button's redirect to GitLab is a form submission's: allowed by
        # form-action once GitLab is configured, as trainy/settings.py does from GITLAB_URL.
        from trainy.security import content_security_policy

        settings.CONTENT_SECURITY_POLICY = content_security_policy(
            map_tiles=settings.TRAINY_MAP_TILES, gitlab_url=self.url, image_sources=[]
        )

    def sign_in(self, client: Any, username: str) -> Any:
        """Sign in to Trainy with GitLab as a browser would, with Django's test ``client`` on
        Trainy's side and plain HTTP on this GitLab's (its sign-in and consent pages). Needs
        the app registered for http://testserver/accounts/oidc/gitlab/login/callback/.
        Returns Trainy's answer to the callback, redirects followed."""
        start = client.post("/accounts/oidc/gitlab/login/")
        assert start.status_code == 302, start.content.decode()[-2000:]
        callback = urlsplit(self.authorize(start["Location"], username))
        return client.get(f"{callback.path}?{callback.query}", follow=True)

    def authorize(self, authorize_url: str, username: str) -> str:
        """GitLab's side of a sign-in: its sign-in page, then its consent page, allowed.
        Returns where GitLab sends the browser back to (Trainy's callback with the code)."""
        with requests.Session() as browser:
            page = browser.get(authorize_url, timeout=10)  # to the sign-in page first
            fields = {**_form_fields(page.text), "username": username, "password": PASSWORD}
            page = browser.post(page.url, data=fields, timeout=10)  # then to the consent page
            fields = {**_form_fields(page.text), "allow": "Authorize"}
            answer = browser.post(page.url, data=fields, allow_redirects=False, timeout=10)
            assert answer.status_code == 302, answer.text[-2000:]
            return answer.headers["Location"]

    def register(self, redirect_uri: str) -> None:
        self._django("idp_setup", "--app-redirect", redirect_uri, "--client-id", CLIENT_ID,
                     "--client-secret", CLIENT_SECRET)  # fmt: skip

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def running(state_dir: Path) -> Iterator[GitLabIdP]:
    """A started IdP for a fixture to yield; stopped afterwards."""
    server = GitLabIdP(state_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "input" and named.get("name"):
            self.fields[named["name"] or ""] = named.get("value") or ""


def _form_fields(html: str) -> dict[str, str]:
    parser = _Inputs()
    parser.feed(html)
    return parser.fields
