"""The image: its Dockerfile read, the built image inspected (scripts/image builds it with
buildah; make test does before the tests), and the production collectstatic run without it.
Its roles are run from it in test_image_roles.py."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.deploy.image import buildah, image_env, inspect, require_image, run_role, write_env
from tests.deploy.tooling import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def stages() -> dict[str, str]:
    parts = re.split(r"(?m)^FROM ", DOCKERFILE)[1:]
    return {re.search(r" AS (\w+)", part.splitlines()[0]).group(1): part for part in parts}


def instructions(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]


def test_the_base_is_a_build_argument_defaulting_to_the_official_slim_python():
    assert re.search(r"(?m)^ARG BASE=python:3\.11-slim-bookworm$", DOCKERFILE)
    assert list(stages()) == ["builder", "runtime"]
    for stage in stages().values():
        assert stage.startswith("${BASE} AS ")
    # Both the official image and the stand-in have `python`, at different paths.
    assert "/usr/local/bin/python" not in DOCKERFILE and "/usr/bin/python" not in DOCKERFILE


def test_requirements_come_as_wheels_and_no_compiler_is_installed():
    builder, runtime = stages()["builder"], stages()["runtime"]
    assert "PIP_ONLY_BINARY=:all:" in builder
    for stage in (builder, runtime):
        assert "build-essential" not in stage and "apt-get install" not in stage
    assert "COPY --from=builder /opt/venv /opt/venv" in runtime


def test_static_files_are_collected_at_build_time_and_there_is_no_healthcheck():
    runtime = stages()["runtime"]
    assert "manage.py collectstatic --noinput" in runtime
    assert "TRAINY_STATIC_MANIFEST=true" in runtime
    assert not [line for line in instructions(DOCKERFILE) if line.startswith("HEALTHCHECK")]


def test_the_build_context_leaves_out_what_the_image_does_not_run():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    ignored = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for entry in (".git", ".venv", "tests", "charts", "deploy", "var", "**/__pycache__",
                  "bench", "requirements-dev.txt"):  # fmt: skip
        assert entry in ignored
    for needed in ("trainy", "checkins", "feed", "stats", "templates", "static", "docker"):
        assert needed not in ignored


def test_collectstatic_with_the_production_storage_succeeds(tmp_path):
    """The manifest storage follows every reference inside CSS and JS files (source maps
    included); a vendored file that names a missing one fails here, without building."""
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "false",
        "SECRET_KEY": "collectstatic-test-" + "x" * 40,
        "ALLOWED_HOSTS": "localhost",
        "TRAINY_DATA_DIR": str(tmp_path / "data"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "TRAINY_STATIC_MANIFEST": "true",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = (tmp_path / "static" / "staticfiles.json").read_text()
    assert "vendor/chartjs-4.6.1/chart.umd.min.js.map" in manifest


# --- The built image -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def config() -> dict:
    return inspect(require_image())["OCIv1"]["config"]


def test_it_runs_as_10001_with_an_exec_form_entrypoint_and_web_by_default(config):
    assert config["User"] == "10001:10001"
    # Exec form: the entrypoint script is PID 1 and gets SIGTERM itself (no `sh -c` around it).
    assert config["Entrypoint"] == ["/app/docker/entrypoint.sh"]
    assert config["Cmd"] == ["web"]
    assert config["WorkingDir"] == "/app"
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["TRAINY_STATIC_MANIFEST"] == "true"
    assert env["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")
    assert sorted(config["ExposedPorts"]) == ["8000/tcp", "9808/tcp"]


def test_it_carries_the_oci_labels(config):
    labels = config["Labels"]
    for name in ("title", "description", "source", "version", "revision", "created"):
        assert labels.get(f"org.opencontainers.image.{name}"), name
    assert labels["org.opencontainers.image.title"] == "Trainy"
    assert re.fullmatch(r"[0-9a-f]{40}", labels["org.opencontainers.image.revision"])


def test_it_holds_no_compiler_tests_pip_config_or_caches(tmp_path):
    require_image()
    probe = (
        "import os, shutil\n"
        # The base's own pip is the base's; Trainy's virtualenv keeps none.
        "print(shutil.which('gcc'), shutil.which('cc'), os.path.exists('/opt/venv/bin/pip'))\n"
        "print(os.path.exists('/app/tests'), os.path.exists('/etc/pip.conf'),"
        " os.path.exists('/root/.cache/pip'), os.path.exists('/app/.git'))\n"
        "print(os.path.exists('/app/staticfiles/staticfiles.json'))\n"
    )
    result = run_role(write_env(tmp_path / "e.env", {}), "python", "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["None None False", "False False False False", "True"]


def test_it_stays_small_over_its_base():
    """Under 250 MB over the base (the issue's target): no compiler, caches or tests."""
    names = image_env()
    listing = buildah("images", "--format", "{{.Name}}:{{.Tag}} {{.Size}}")
    size = {line.split()[0]: line.split(" ", 1)[1] for line in listing.splitlines() if line}
    image, base = names["TRAINY_IMAGE"], names["TRAINY_IMAGE_BASE"]

    def megabytes(text: str) -> float:
        number, unit = re.fullmatch(r"([0-9.]+)\s*([kMG]?B)", text.strip()).groups()
        return float(number) * {"B": 1e-6, "kB": 1e-3, "MB": 1, "GB": 1e3}[unit]

    over = megabytes(size[image]) - megabytes(size[base])
    assert 0 < over < 250, f"{image} is {over:.0f} MB over {base}"
