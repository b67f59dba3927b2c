"""Runs the test identity provider (tests/idp) in a process of its own on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

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
        log = (self.state_dir / "idp.log").open("w")
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
        """Create or update a GitLab user with these group memberships (full paths)."""
        self._django("idp_setup", "--user", username, "--name", name, "--password", PASSWORD,
                     "--groups", ",".join(groups))  # fmt: skip

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
