"""Schemathesis, the property-based API tester, against the live schema of a running Trainy:
every operation, with a token of every scope and with none, generated inputs valid and invalid.
No answer may be a 5xx, and every answer must be what the schema says (status, content type,
headers, body). The number of cases it generated is printed for the closing note."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.apiclient import token_for
from tests.checkins.feeds import write_feed
from tests.factories import CheckInFactory, manual_checkin

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(900)]

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)


def _schemathesis(
    base_url: str, report: Path, config: Path, *headers: str
) -> tuple[int, str, dict]:
    """Runs the schemathesis CLI against ``base_url``; its exit code, output and JSON report."""
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config),
        "run",
        f"{base_url}/api/v1/schema/",
        "--checks",
        CHECKS,
        # Bounded: a fixed seed and at most this many cases per operation and phase.
        "--max-examples",
        "15",
        "--seed",
        "20261207",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--no-color",
        *(argument for header in headers for argument in ("--header", header)),
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=800,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        # It keeps a cache of its own in the working directory: not in the tree.
        cwd=report.parent,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr, json.loads(report.read_text())


def _cases(report: dict) -> int:
    """The number of test cases the run generated, from its JSON report."""
    return int(report["test_cases"]["generated"])


@pytest.fixture
def world(tmp_path, alice, bob, settings):
    """A timetable to search and board, journeys of alice's and bob's, and limits loose enough
    that the run tests the operations, not the rate limiter."""
    settings.TRAINY_API_RATE_TOKEN = 100_000
    settings.TRAINY_API_RATE_USER = 100_000
    call_command("import_gtfs", str(write_feed(tmp_path / "feed")), name="test", verbosity=0)
    journey = manual_checkin(alice)
    CheckInFactory(user=bob)
    return token_for(alice), journey.id


def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_schema(
    live_server, world, tmp_path
):
    secret, journey_id = world
    # With the token, path parameters name real objects, so that the answers with bodies (a
    # board, a trip, a journey) are reached and checked; without one, everything is generated.
    real = tmp_path / "real.toml"
    real.write_text(
        "[parameters]\n"
        '"path.feed" = "test"\n'
        '"path.stop_id" = "BER"\n'
        '"path.trip_id" = "T1"\n'
        '"path.service_date" = "2019-06-11"\n'
        f'"path.checkin_id" = {journey_id}\n'
        '"path.username" = "bob"\n'
    )
    generated = tmp_path / "generated.toml"
    generated.write_text("")
    total = 0
    for label, config, headers in (
        ("a token of every scope", real, (f"Authorization: Bearer {secret}",)),
        ("no token", generated, ()),
    ):
        code, output, report = _schemathesis(
            live_server.url, tmp_path / f"{config.stem}.json", config, *headers
        )
        cases = _cases(report)
        print(f"schemathesis with {label}: {cases} cases")
        assert code == 0, output[-6000:]
        assert cases > 0, output[-2000:]
        if headers:
            # Every read was answered with a body at least once, so bodies were checked too.
            unanswered = [
                operation
                for operation, phases in report["valid_rates"].items()
                if operation.startswith("GET ")
                and not sum(phase["accepted"] for phase in phases.values())
            ]
            assert not unanswered, unanswered
        total += cases
    print(f"schemathesis: {total} generated cases in all")
