"""Trainy's image, built by `scripts/image build` (make test does it before the tests), and its
roles run from it with `scripts/image run`: the image's user (10001), environment and working
directory, the root filesystem read-only, /tmp the only writable place (as the chart mounts
it), the host's network, so the real services on 127.0.0.1 are reachable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.tooling import ROOT

IMAGE_SCRIPT = ROOT / "scripts" / "image"


def image_env() -> dict[str, str]:
    """CONTAINERS_STORAGE_CONF, TRAINY_IMAGE and TRAINY_IMAGE_BASE, as scripts/image sets them."""
    lines = subprocess.run(
        [str(IMAGE_SCRIPT), "env"], capture_output=True, text=True, check=True, timeout=30
    ).stdout.splitlines()
    pairs = (line.removeprefix("export ").split("=", 1) for line in lines)
    return {name: value.strip("'\"") for name, value in pairs}


def buildah(*args: str) -> str:
    env = {**os.environ, **image_env()}
    result = subprocess.run(
        ["buildah", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"buildah {' '.join(args)} failed: {result.stderr[-2000:]}")
    return result.stdout


def require_image() -> str:
    """The built image's name; the test fails (never skips) when it was not built."""
    name = image_env()["TRAINY_IMAGE"]
    env = {**os.environ, **image_env()}
    found = subprocess.run(
        ["buildah", "images", "--quiet", name], capture_output=True, env=env, check=False
    )
    if found.returncode != 0 or not found.stdout.strip():
        pytest.fail(f"the image {name} is not built: run `scripts/image build` (make test does)")
    return name


def inspect(name: str) -> dict[str, Any]:
    return json.loads(buildah("inspect", "--type", "image", name))


def write_env(path: Path, env: dict[str, str]) -> Path:
    path.write_text("".join(f"{name}={value}\n" for name, value in env.items()))
    return path


def run_role(env_file: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """A one-shot role (migrate, import-gtfs, manage …) run from the image to its end."""
    return subprocess.run(
        [str(IMAGE_SCRIPT), "run", "--env-file", str(env_file), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, **image_env()},
    )  # fmt: skip


class Role:
    """A long-running role (web, worker, beat) run from the image and stopped like a pod: its
    first process, PID 1 of the container's namespace, gets SIGTERM."""

    def __init__(self, env_file: Path, log: Path, *args: str) -> None:
        self.log = log
        self.started = time.monotonic()
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [str(IMAGE_SCRIPT), "run", "--env-file", str(env_file), *args],
                cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
                env={**os.environ, **image_env()},
            )  # fmt: skip

    def text(self) -> str:
        return self.log.read_text()

    def json_lines(self) -> list[dict]:
        lines = []
        for line in self.text().splitlines():
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
        return lines

    def main_process(self) -> int | None:
        """The role's own first process: the top-most live process of its process group that
        is not the `unshare` around it (exec'd by the entrypoint, so gunicorn's master or
        Celery's main process)."""
        group = os.getpgid(self.process.pid) if self.process.poll() is None else None
        if group is None:
            return None
        members: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            state, parent, pgid = fields[0], int(fields[1]), int(fields[2])
            if pgid == group and state != "Z" and int(entry.name) != self.process.pid:
                members[int(entry.name)] = parent
        tops = sorted(pid for pid, parent in members.items() if parent not in members)
        return tops[0] if tops else None

    def terminate(self) -> None:
        """SIGTERM to the role's first process, as the kubelet sends it to a container's."""
        pid = self.main_process()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then its exit status; fails the test if it takes longer than ``timeout``
        (the chart's grace period is 30 s)."""
        if self.process.poll() is None:
            self.terminate()
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # Every process of the role is in its process group, the namespace's included.
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            pytest.fail(f"the role ignored SIGTERM for {timeout:.0f} s:\n{self.text()[-3000:]}")


def wait_for(
    check: Callable[[], object], *, timeout: float, what: str, role: Role | None = None
) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if role is not None and role.process.poll() is not None:
            pytest.fail(
                f"the role exited ({role.process.returncode}) while waiting for {what}:\n"
                + role.text()[-3000:]
            )
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
