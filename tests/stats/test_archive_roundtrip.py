"""A traveller moves to another Trainy: their archive, imported there (another process, its
own PostgreSQL database and MongoDB database, through `manage.py import_journeys`), restores
every journey field by field and every journey document as it was; importing it again there
adds nothing. And the archive's reader refuses what is not one."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pymongo
import pytest
from django.conf import settings
from django.utils import timezone

from checkins.imports.formats import FormatError, read_export
from checkins.models import CheckIn
from checkins.services.enrichment_lifecycle import journey_enrich
from checkins.services.imports import journeys_import
from stats.exports.archive import ARCHIVE_NAME, RESTORED_APART, archive_write
from tests.conftest import ROOT, drop_database, require_service
from tests.factories import CheckInFactory, manual_checkin
from trainy.documents import COLLECTION, journey_store

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parents[1] / "checkins/imports/fixtures"
OTHER = "trainy_other_instance"
# Columns that say which row and whose it is, and where it came from: the new instance's own.
APART = {"id", "user_id", *RESTORED_APART}


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def other_instance(full_stack):
    """Another Trainy: a database and a document store of its own, migrated, with one
    traveller (ines). Yields its environment and its database URL."""
    url = urlsplit(require_service("postgres"))
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as server:
        server.execute(f"DROP DATABASE IF EXISTS {OTHER}")
        server.execute(f"CREATE DATABASE {OTHER}")
    database = url._replace(path=f"/{OTHER}").geturl()
    env = {**os.environ, "DATABASE_URL": database, "MONGO_DB": OTHER, "DEBUG": "true",
           "CACHE_KEY_PREFIX": OTHER}  # fmt: skip
    pymongo.MongoClient(settings.MONGO_URL).drop_database(OTHER)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "shell", "-c",
           "from trainy.accounts.models import User; User.objects.create_user('ines')")  # fmt: skip
    yield env, database
    pymongo.MongoClient(settings.MONGO_URL).drop_database(OTHER)
    with psycopg.connect(admin, autocommit=True) as server:
        drop_database(server, OTHER)


def rows(database: str) -> list[dict]:
    with psycopg.connect(database) as other, other.cursor() as cursor:
        cursor.execute("SELECT * FROM checkins_checkin ORDER BY departure_planned, id")
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_an_archive_restores_every_journey_on_another_trainy(
    alice, other_instance, tmp_path, django_capture_on_commit_callbacks
):
    env, database = other_instance
    # Journeys of every kind: checked in by hand (enriched), imported from Travelynx (its
    # documents from the file), and one with a price, a cost centre and a purpose.
    with django_capture_on_commit_callbacks(execute=True):
        manual = manual_checkin(alice, message="Ü-Bahn ✓")
        journeys_import(user=alice, data=(FIXTURES / "travelynx-history.json").read_bytes())
    journey_enrich(checkin_id=manual.id)
    CheckInFactory(
        user=alice, purpose="business", cost_centre="CC-42", ticket_price=Decimal("119.00"),
        visibility="followers", departure_planned=timezone.now() - timedelta(days=40),
        time_zone="Europe/Berlin",
    )  # fmt: skip
    archive = tmp_path / "trainy-archive-alice.zip"
    with archive.open("wb") as out:
        count = archive_write(alice, out, lambda done: None)
    assert count == 5

    output = manage(env, "import_journeys", str(archive), "--user", "ines")
    assert "5 new journeys imported" in output
    assert "Warning: This file is the export of alice" in output

    here = list(CheckIn.objects.filter(user=alice).order_by("departure_planned", "id").values())
    there = rows(database)
    assert len(there) == len(here) == 5
    for mine, theirs in zip(here, there, strict=True):
        for column, value in mine.items():
            if column not in APART:
                assert theirs[column] == value, (mine["id"], column)
    # Where each came from: the archive, or the service it was first imported from.
    sources = sorted((row["import_source"], row["import_source_id"]) for row in there)
    assert sources == sorted(
        ("trainy-archive", str(row["id"])) if not row["import_source"]
        else (row["import_source"], row["import_source_id"])
        for row in here
    )  # fmt: skip

    # The documents there are the documents here.
    stored = pymongo.MongoClient(settings.MONGO_URL)[OTHER]
    collection = stored[COLLECTION]
    for mine, theirs in zip(here, there, strict=True):
        original = journey_store().get(mine["id"])
        record = collection.find_one({"_id": str(theirs["id"])})  # ids as strings (documents.py)
        if original is None:
            assert record is None
        else:
            assert record is not None and record["doc"] == json.loads(json.dumps(original))

    # Again: nothing new, there; nor the Travelynx file its journeys came from.
    again = manage(env, "import_journeys", str(archive), "--user", "ines")
    assert "0 new journeys imported" in again
    travelynx = manage(env, "import_journeys", str(FIXTURES / "travelynx-history.json"),
                       "--user", "ines", "--dry-run")  # fmt: skip
    assert "0 new journeys would be imported" in travelynx


def test_what_is_no_archive_is_refused_with_the_reason():
    def zipped(name: str, content: bytes) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr(name, content)
        return out.getvalue()

    with pytest.raises(FormatError, match=r"no trainy-archive\.json"):
        read_export(zipped("photo.jpg", b"x"), max_journeys=10)
    with pytest.raises(FormatError, match="cut off or broken"):
        read_export(zipped(ARCHIVE_NAME, b"{}")[:30], max_journeys=10)
    newer = json.dumps({"schema": "trainy-archive", "schema_version": 99, "journeys": []})
    with pytest.raises(FormatError, match="schema version 99"):
        read_export(zipped(ARCHIVE_NAME, newer.encode()), max_journeys=10)
    # A journey with a field the model refuses: that row, named, and the rest read.
    good = {"departure_planned": "2026-01-05T08:00:00+00:00",
            "arrival_planned": "2026-01-05T09:00:00+00:00", "line_name": "RE 1",
            "origin_name": "A", "destination_name": "B"}  # fmt: skip
    document = {"schema": "trainy-archive", "schema_version": 1, "journeys": [
        {"id": 1, "fields": good},
        {"id": 2, "fields": {**good, "visibility": "everyone"}},
        {"id": 3, "fields": {**good, "ticket_price": "-3"}},
    ]}  # fmt: skip
    reading = read_export(json.dumps(document).encode(), max_journeys=10)
    assert [journey.source_id for journey in reading.journeys] == ["1"]
    assert [(problem.number, problem.reason.split(":")[0]) for problem in reading.problems] == [
        (2, "visibility"), (3, "ticket_price"),
    ]  # fmt: skip
