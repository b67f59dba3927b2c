"""The Dockerfile, read: there is no Docker engine here to build it (the roles themselves are
run in test_entrypoint.py)."""

from __future__ import annotations

import re

from tests.deploy.tooling import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def stages() -> dict[str, str]:
    parts = re.split(r"(?m)^FROM ", DOCKERFILE)[1:]
    return {re.search(r" AS (\w+)", part.splitlines()[0]).group(1): part for part in parts}


def instructions(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]


def test_it_builds_wheels_in_a_builder_stage_on_a_slim_python():
    builder, runtime = stages()["builder"], stages()["runtime"]
    assert list(stages()) == ["builder", "runtime"]
    for stage in (builder, runtime):
        assert re.match(r"python:3\.1[1-9][.\d]*-slim", stage)
    assert "pip wheel" in builder and "build-essential" in builder


def test_the_final_image_has_no_compilers_and_runs_as_a_numeric_non_root_user():
    runtime = stages()["runtime"]
    assert "build-essential" not in runtime and "gcc" not in runtime
    assert "apt-get install" not in runtime
    assert "COPY --from=builder /opt/venv /opt/venv" in runtime
    users = [line for line in instructions(runtime) if line.startswith("USER ")]
    assert users == ["USER 10001:10001"]
    assert "useradd --system --uid 10001" in runtime


def test_static_files_are_collected_at_build_time_and_there_is_no_healthcheck():
    runtime = stages()["runtime"]
    assert "manage.py collectstatic --noinput" in runtime
    assert "TRAINY_STATIC_MANIFEST=true" in runtime
    assert not [line for line in instructions(DOCKERFILE) if line.startswith("HEALTHCHECK")]


def test_it_carries_oci_labels_and_the_entrypoint_with_its_roles():
    for label in ("title", "description", "source", "version", "revision", "created"):
        assert f"org.opencontainers.image.{label}=" in DOCKERFILE
    assert 'ENTRYPOINT ["/app/docker/entrypoint.sh"]' in DOCKERFILE
    assert 'CMD ["web"]' in DOCKERFILE


def test_the_build_context_leaves_out_what_the_image_does_not_run():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    ignored = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    for entry in (".git", ".venv", "tests", "charts", "deploy", "var", "**/__pycache__"):
        assert entry in ignored
    for needed in ("trainy", "checkins", "feed", "stats", "templates", "static", "docker"):
        assert needed not in ignored
