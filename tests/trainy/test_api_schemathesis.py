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

from checkins.services.imports import journey_import_check
from feed.models import Follow
from feed.services.social import follow_create
from feed.services.webhooks import webhook_endpoint_create
from stats.models import Export
from tests.apiclient import token_for
from tests.checkins.feeds import write_feed
from tests.factories import CheckInFactory, UserFactory, manual_checkin
from tests.world import IMPORT_FIXTURE

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
    base_url: str, report: Path, config: Path, examples: int, *headers: str
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
        # Bounded: a fixed seed and at most ``examples`` cases per operation and phase.
        "--max-examples",
        str(examples),
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
def world(tmp_path, alice, bob, charlie, settings):
    UserFactory(username="dave")
    """A timetable to search and board; journeys of alice's and bob's; alice following bob and
    asked to be followed by charlie; an export and a webhook of alice's; and limits loose
    enough that the run tests the operations, not the rate limiters."""
    settings.TRAINY_API_RATE_TOKEN = 100_000
    settings.TRAINY_API_RATE_USER = 100_000
    settings.RATELIMIT_ENABLE = False
    call_command("import_gtfs", str(write_feed(tmp_path / "feed")), name="test", verbosity=0)
    journey = manual_checkin(alice)
    CheckInFactory(user=bob)
    follow_create(follower=alice, followee=bob)
    request = Follow.objects.create(follower=charlie, followee=alice, accepted=False)
    export = Export.objects.create(
        user=alice, format="csv", status=Export.Status.DONE, rows_total=1, rows_done=1,
        filename="trainy-alice.csv", content_type="text/csv; charset=utf-8", content=b"a\n1\n",
    )  # fmt: skip
    endpoint = webhook_endpoint_create(
        owner=alice, url="https://example.org/hook", events=["checkin.created"]
    )
    journey_import = journey_import_check(
        user=alice, filename="history.json", data=IMPORT_FIXTURE.read_bytes(), visibility="private"
    )
    return token_for(alice), {
        "import_id": journey_import.id,
        "checkin_id": journey.id,
        "request_id": request.id,
        "export_id": export.id,
        "endpoint_id": endpoint.id,
    }


def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_schema(
    live_server, world, tmp_path
):
    secret, ids = world
    # With the token, path parameters name real objects, so that the answers with bodies (a
    # board, a trip, a journey) are reached and checked; without one, everything is generated.
    real = tmp_path / "real.toml"
    real.write_text(
        "[parameters]\n"
        '"path.feed" = "test"\n'
        '"path.stop_id" = "BER"\n'
        '"path.trip_id" = "T1"\n'
        '"path.service_date" = "2019-06-11"\n'
        '"path.username" = "bob"\n'
        + "".join(f'"path.{name}" = {value}\n' for name, value in ids.items())
        # Blocking bob would hide his profile and lists from the operations after it.
        + "[[operations]]\n"
        'include-path-regex = "/(block|mute)/$"\n'
        'parameters = { "path.username" = "dave" }\n'
    )
    generated = tmp_path / "generated.toml"
    generated.write_text("")
    total = 0
    # Without a token every answer is a 401 whatever the input: fewer cases say as much.
    for label, config, examples, headers in (
        ("a token of every scope", real, 15, (f"Authorization: Bearer {secret}",)),
        ("no token", generated, 5, ()),
    ):
        code, output, report = _schemathesis(
            live_server.url, tmp_path / f"{config.stem}.json", config, examples, *headers
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
