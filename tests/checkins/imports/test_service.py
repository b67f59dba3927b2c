"""journeys_import and `manage.py import_journeys`: the peers' files become the traveller's
journeys in PostgreSQL, with their documents in the real MongoDB server; a second import adds
nothing, a dry run writes nothing, overlaps are reported, another person's file is flagged."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from checkins.imports.formats import TRAEWELLING_JSON, TRAVELYNX_JSON
from checkins.models import CheckIn
from checkins.services.imports import MAX_IMPORT_BYTES, ImportRefused, journeys_import
from tests.factories import CheckInFactory
from trainy.documents import journey_store

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"


def data(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def imported(user) -> dict[str, CheckIn]:
    return {
        journey.import_source_id: journey
        for journey in CheckIn.objects.filter(user=user).exclude(import_source="")
    }


def test_a_travelynx_history_becomes_journeys_with_their_documents(
    alice, full_stack, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = journeys_import(user=alice, data=data("travelynx-history.json"))
    assert (len(result.new), result.duplicates, len(result.refused)) == (3, 0, 1)
    journeys = imported(alice)
    assert set(journeys) == {"3001", "3002", "3003"}
    ice = journeys["3001"]
    assert (ice.import_source, ice.line_name, ice.mode) == (
        TRAVELYNX_JSON,
        "ICE 1601",
        "long_distance",
    )
    assert (ice.origin_name, ice.destination_name) == ("Berlin Hbf", "München Hbf")
    assert ice.departure_real == datetime(2026, 11, 20, 7, 31, tzinfo=UTC)
    assert ice.arrival_delay_s == 17 * 60
    assert (ice.distance_m, ice.distance_method) == (585000, "source")
    assert (ice.visibility, ice.message) == ("public", "Quiet coach, good coffee")
    assert ice.enriched_at is not None  # its document is the source's: nothing to enrich
    document = journey_store().get(ice.id)
    assert document is not None
    assert [stop["name"] for stop in document["stopovers"]] == [
        "Berlin Hbf", "Erfurt Hbf", "München Hbf",
    ]  # fmt: skip
    assert document["distance"] == {"meters": 585000, "method": "source"}
    assert document["provenance"] == {"source": "import", "format": TRAVELYNX_JSON,
                                      "source_id": "3001"}  # fmt: skip
    assert document["geometry"]["points"] == 3
    tram = journeys["3003"]
    assert (tram.distance_m, tram.visibility) == (900, "unlisted")


def test_a_second_import_of_the_same_journeys_adds_nothing(alice, full_stack):
    first = journeys_import(user=alice, data=data("travelynx-history.json"))
    again = journeys_import(user=alice, data=data("travelynx-history.csv"))
    # history.csv holds 3001 again (the same id), and two journeys history.json has not.
    assert again.duplicates == 1
    assert {j.source_id for j in again.new} == {"3010", "3011"}
    account = journeys_import(user=alice, data=data("travelynx-account.json"))
    assert (account.duplicates, [j.source_id for j in account.new]) == (1, ["3005"])
    assert CheckIn.objects.filter(user=alice).count() == len(first.new) + 2 + 1
    # history.csv has neither coordinates nor distances.
    night = imported(alice)["3010"]
    assert (night.distance_m, night.distance_method, night.origin_lat) == (None, "unknown", None)


def test_a_dry_run_says_what_would_happen_and_writes_nothing(alice, full_stack):
    result = journeys_import(user=alice, data=data("traewelling.json"), dry_run=True)
    assert result.dry_run and len(result.new) == 3
    assert [(p.number, p.reason) for p in result.refused] == [
        (3, "It arrives before it departs (planned times).")
    ]
    assert result.created_ids == []
    assert not CheckIn.objects.exists()


def test_csv_journeys_take_the_chosen_visibility_the_json_keeps_its_own(alice, full_stack):
    journeys_import(user=alice, data=data("traewelling-old.csv"), visibility="followers")
    journeys = imported(alice)
    assert {journeys["90001"].visibility, journeys["90005"].visibility} == {"followers"}
    assert journeys["90001"].import_source == TRAEWELLING_JSON
    # The JSON export of the same statuses: 90001 is a duplicate, the others are new.
    result = journeys_import(user=alice, data=data("traewelling.json"))
    assert result.duplicates == 1
    journeys = imported(alice)
    assert journeys["90002"].visibility == "private"  # "trusted users" there
    assert journeys["90004"].visibility == "authenticated"


def test_overlaps_with_journeys_here_are_reported_and_imported(alice, full_stack):
    CheckInFactory(
        user=alice, line_name="ICE 1601 (checked in here)",
        departure_planned=datetime(2026, 11, 20, 7, 29, tzinfo=UTC),
        arrival_planned=datetime(2026, 11, 20, 11, 31, tzinfo=UTC),
    )  # fmt: skip
    result = journeys_import(user=alice, data=data("travelynx-history.json"))
    assert [overlap.number for overlap in result.overlaps] == [1]
    assert "ICE 1601 (checked in here)" in result.overlaps[0].other
    assert "3001" in imported(alice)


def test_another_persons_export_is_flagged(alice, full_stack):
    result = journeys_import(user=alice, data=data("traewelling.json"), dry_run=True)
    assert result.warnings == [
        "This file is the export of alice_trwl there, and you are alice here: import it only "
        "if those journeys are yours."
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"no export", "not an export Trainy can read"),
        (b'[{"sched_dep_ts": 1', "cut off or broken"),
        (b" " * (MAX_IMPORT_BYTES + 1), "an import takes at most 50 MB"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_whole(alice, full_stack, content, message):
    with pytest.raises(ImportRefused, match=message):
        journeys_import(user=alice, data=content)
    assert not CheckIn.objects.exists()


def test_the_command_reports_and_imports(alice, full_stack, tmp_path):
    out = StringIO()
    call_command("import_journeys", str(FIXTURES / "traewelling.json"), "--user", "alice",
                 "--dry-run", stdout=out)  # fmt: skip
    text = out.getvalue()
    assert "traewelling.json: Träwelling export (JSON)" in text
    assert "3 new journeys would be imported" in text
    assert "1 row refused" in text
    assert "entry 3: It arrives before it departs (planned times)." in text
    assert "Warning: This file is the export of alice_trwl" in text
    assert "Nothing was written (dry run)." in text
    assert not CheckIn.objects.exists()
    out = StringIO()
    call_command("import_journeys", str(FIXTURES / "traewelling.json"), "--user", "alice",
                 stdout=out)  # fmt: skip
    assert "3 new journeys imported" in out.getvalue()
    assert CheckIn.objects.filter(user=alice).count() == 3
    out = StringIO()
    call_command("import_journeys", str(FIXTURES / "travelynx-history.csv"), "--user", "alice",
                 stdout=out)  # fmt: skip
    assert "line 5: '2026-11-24 09:70:00' is not a time" in out.getvalue()
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("import_journeys", str(FIXTURES / "traewelling.json"), "--user", "nobody")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_journeys", str(tmp_path / "missing.json"), "--user", "alice")
