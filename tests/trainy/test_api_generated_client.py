"""A client generated from Trainy's schema by openapi-python-client, as a client author would
make one, used against a running Trainy: it authenticates with a token, searches a station,
reads its departures and checks in. If the schema misdescribes an answer, the generated models
fail to parse it."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from django.core.management import call_command

from tests.apiclient import token_for
from tests.checkins.feeds import write_feed

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

PACKAGE = "trainy_generated_client"


@pytest.fixture
def generated(tmp_path, live_server) -> ModuleType:
    """The client package generated from the live schema, importable."""
    schema = tmp_path / "schema.yaml"
    schema.write_text(_get(f"{live_server.url}/api/v1/schema/"))
    bin_directory = Path(sys.executable).parent
    result = subprocess.run(
        [
            str(bin_directory / "openapi-python-client"),
            "generate",
            "--path",
            str(schema),
            "--output-path",
            str(tmp_path / PACKAGE),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        # The generator formats its output with ruff, from PATH.
        env={**os.environ, "PATH": f"{bin_directory}:{os.environ.get('PATH', '')}"},
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # A warning means parts of the schema were left out of the client.
    assert "Warning" not in output, output
    sys.path.insert(0, str(tmp_path))
    try:
        importlib.invalidate_caches()
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _get(url: str) -> str:
    response = httpx.get(url, timeout=30)
    response.raise_for_status()
    return response.text


def _api(package: ModuleType, name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def test_a_generated_client_searches_reads_departures_and_its_journeys(
    generated, live_server, tmp_path, alice
):
    call_command("import_gtfs", str(write_feed(tmp_path / "feed")), name="test", verbosity=0)
    client = generated.AuthenticatedClient(
        base_url=live_server.url, token=token_for(alice), raise_on_unexpected_status=True
    )
    me = _api(generated, "me.me_get").sync(client=client)
    assert me.username == alice.username

    [station] = _api(generated, "stations.stations_search").sync(client=client, q="hamburg")
    assert (station.feed, station.stop_id, station.name) == ("test", "HAM", "Hamburg Hbf, Fernbahn")

    board = _api(generated, "stations.departures_list").sync(
        "test", "BER", client=client, at="2019-06-11T07:55"
    )
    assert [departure.trip_id for departure in board.departures][:1] == ["T1"]
    departure = board.departures[0]
    assert departure.departure.isoformat() == "2019-06-11T08:02:00+02:00"

    trip = _api(generated, "trips.trip_get").sync(
        departure.feed, departure.trip_id, departure.service_date, client=client
    )
    assert [stop.stop_id for stop in trip.stops] == ["BER:1", "HAM"]

    page = _api(generated, "journeys.journeys_list").sync(client=client)
    assert page.results == [] and page.totals.journeys == 0

    # Check in from the first stop to the last, as the trip's stops name them.
    request = generated.models.TripCheckInRequest(
        feed=trip.feed,
        trip_id=trip.trip_id,
        service_date=trip.service_date,
        origin_seq=trip.stops[0].seq,
        destination_seq=trip.stops[-1].seq,
        message="From a generated client",
        purpose=generated.models.Purpose.BUSINESS,
    )
    create = _api(generated, "checkins.checkins_create")
    created = create.sync_detailed(client=client, body=request)
    assert created.status_code == 201
    journey = created.parsed
    assert isinstance(journey, generated.models.Journey)
    assert journey.origin_name == "Berlin Hbf"
    assert journey.destination_name == "Hamburg Hbf, Fernbahn"
    assert created.headers["location"].endswith(f"/api/v1/journeys/{journey.id}/")
    assert alice.checkins.get().message == "From a generated client"

    # The same trip again overlaps it: the 409's body, typed, names the journey in the way.
    again = create.sync_detailed(client=client, body=request)
    assert again.status_code == 409
    assert isinstance(again.parsed, generated.models.ConflictError)
    assert [conflict.id for conflict in again.parsed.error.conflicts] == [journey.id]


def test_a_generated_client_without_a_token_gets_the_documented_error(generated, live_server):
    client = generated.Client(base_url=live_server.url)
    response = _api(generated, "me.me_get").sync_detailed(client=client)
    assert response.status_code == 401
    assert response.parsed.error.code in ("not_authenticated", "authentication_failed")
