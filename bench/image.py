"""The image's figures: build times (cold, without any cached layer, and cached), its size over
its base, and how long each role takes to start from it (to its first answer).

    eval "$(scripts/services env)"
    .venv/bin/python bench/image.py              # cold and cached build, then the roles
    .venv/bin/python bench/image.py --no-build   # the roles only, on the image built last

The roles run as `scripts/image run` runs them (uid 10001, read-only root, the host's network)
against the real services, on a database of their own (trainy_bench_image) and the harness's
vhost trainy_deploy.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
IMAGE = ROOT / "scripts" / "image"
DATABASE = "trainy_bench_image"


def image_env() -> dict[str, str]:
    lines = subprocess.run([str(IMAGE), "env"], capture_output=True, text=True, check=True)
    pairs = (line.removeprefix("export ").split("=", 1) for line in lines.stdout.splitlines())
    return {**os.environ, **{name: value.strip("'\"") for name, value in pairs}}


def timed(*command: str) -> float:
    started = time.monotonic()
    subprocess.run(command, check=True, env=image_env(), stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def size_mb(name: str) -> float:
    listing = subprocess.run(
        ["buildah", "images", "--format", "{{.Name}}:{{.Tag}} {{.Size}}", name],
        capture_output=True, text=True, check=True, env=image_env(),
    ).stdout  # fmt: skip
    found = re.search(r"([0-9.]+)\s*([kMG]?B)", listing)
    if found is None:
        raise RuntimeError(f"no size for {name} in: {listing!r}")
    number, unit = found.groups()
    return float(number) * {"B": 1e-6, "kB": 1e-3, "MB": 1, "GB": 1e3}[unit]


def builds() -> None:
    env = image_env()
    print("build (scripts/image build, buildah with vfs storage, chroot isolation)")
    # No layer of an earlier build left (the stand-in base stays: it is made once per machine).
    for command in (["rmi", "--force", env["TRAINY_IMAGE"]], ["rmi", "--prune"]):
        subprocess.run(["buildah", *command], env=env, capture_output=True, check=False)
    print(f"  cold (base cached, no layer cached): {timed(str(IMAGE), 'build'):6.0f} s")
    print(f"  cached (nothing changed):            {timed(str(IMAGE), 'build'):6.0f} s")
    image, base = size_mb(env["TRAINY_IMAGE"]), size_mb(env["TRAINY_IMAGE_BASE"])
    print(f"  size: {image:.0f} MB, base {base:.0f} MB, {image - base:.0f} MB over the base "
          "(target < 250)")  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def role_env(folder: Path) -> Path:
    server = os.environ["DATABASE_URL"]
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    values = {
        "DATABASE_URL": urlsplit(server)._replace(path=f"/{DATABASE}").geturl(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "CELERY_BROKER_URL": urlsplit(os.environ["CELERY_BROKER_URL"])
        ._replace(path="/trainy_deploy")
        .geturl(),
        "MONGO_URL": os.environ["MONGO_URL"],
        "MONGO_DB": DATABASE,
        "DEBUG": "false",
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "ALLOWED_HOSTS": "127.0.0.1",
        "TRAINY_HTTPS": "false",
        "CACHE_KEY_PREFIX": f"bench-image-{uuid.uuid4().hex[:8]}",
    }
    path = folder / "role.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def start_time(env_file: Path, role: str, url: str, extra: dict[str, str]) -> float:
    """Seconds from starting the role to its first 200 at ``url``."""
    env_file.write_text(env_file.read_text() + "".join(f"{k}={v}\n" for k, v in extra.items()))
    started = time.monotonic()
    process = subprocess.Popen(
        [str(IMAGE), "run", "--env-file", str(env_file), role],
        env=image_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        while time.monotonic() - started < 120:
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return time.monotonic() - started
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{role} did not answer {url} within 120 s")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def roles() -> None:
    print("roles from the image (to the first answer)")
    with tempfile.TemporaryDirectory() as folder:
        env_file = role_env(Path(folder))
        base = env_file.read_text()
        # The first run after a build makes the image's working copy (a full copy with vfs);
        # a pod starts from an image already unpacked.
        timed(str(IMAGE), "run", "--env-file", str(env_file), "true")
        migrate = timed(str(IMAGE), "run", "--env-file", str(env_file), "migrate")
        print(f"  migrate (every migration, empty database): {migrate:5.1f} s")
        check = timed(str(IMAGE), "run", "--env-file", str(env_file), "manage", "check")
        print(f"  manage check:                              {check:5.1f} s")
        for role, path, extra in (
            ("web", "/healthz", {"PORT": str(port := free_port())}),
            ("worker", "/healthz", {"TRAINY_METRICS_PORT": str(worker := free_port())}),
            ("beat", "/healthz", {"TRAINY_METRICS_PORT": str(beat := free_port())}),
        ):
            env_file.write_text(base)
            target = {"web": port, "worker": worker, "beat": beat}[role]
            seconds = start_time(env_file, role, f"http://127.0.0.1:{target}{path}", extra)
            print(f"  {role:<6} to {path}:                          {seconds:5.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-build", action="store_true", help="skip the two builds")
    options = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "MONGO_URL"):
        if not os.environ.get(name):
            sys.exit(f'{name} is not set: eval "$(scripts/services env)" first')
    if not options.no_build:
        builds()
    roles()


if __name__ == "__main__":
    main()
