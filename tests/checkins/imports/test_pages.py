"""The import page and its API: upload, the dry run's summary, yes or no, the import at once
(small files) or by the Celery task on a real worker (large ones) with its progress; bad and
oversized files refused with a message; someone else's import as unknown as one that never
was. PostgreSQL, FerretDB and RabbitMQ are the real services."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections, transaction
from django.test import Client
from django.urls import reverse

from checkins.models import CheckIn, JourneyImport
from checkins.services.imports import (
    DIRECT_LIMIT,
    MAX_IMPORT_BYTES,
    journey_import_check,
    journey_import_run,
)
from tests.apiclient import bearer, token_for
from tests.conftest import wait_for
from trainy.documents import journey_store
from trainy.progress import RowProgress

FIXTURES = Path(__file__).parent / "fixtures"
NEW = reverse("checkins:import_new")


def upload(name: str = "travelynx-history.json", content: bytes | None = None) -> Any:
    """A file to post: a fixture, or ``content`` under ``name``."""
    return SimpleUploadedFile(name, (FIXTURES / name).read_bytes() if content is None else content)


def signed_in(user, **options) -> Client:
    client = Client(**options)
    client.force_login(user)
    return client


def travelynx_csv(count: int) -> bytes:
    """A Travelynx history.csv of ``count`` journeys (the columns as in the fixture), an hour
    apart in 2025, each 40 minutes long."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["type", "line", "number", "departure stop name", "departure stop id",
                     "arrival stop name", "arrival stop id", "scheduled departure",
                     "real-time departure", "scheduled arrival", "real-time arrival", "operator",
                     "operators", "carriage type", "comment", "id"])  # fmt: skip
    start = datetime(2025, 3, 1, 6, 0)
    for n in range(count):
        departure = start + timedelta(hours=n)
        arrival = departure + timedelta(minutes=40)
        writer.writerow([
            "RE", "", str(n % 900), "Berlin Hbf", 8011160, "Potsdam Hbf", 8012666,
            f"{departure:%Y-%m-%d %H:%M:%S}", "", f"{arrival:%Y-%m-%d %H:%M:%S}", "", "DB",
            "DB", "", f"journey {n}", 900_000 + n,
        ])  # fmt: skip
    return out.getvalue().encode()


@pytest.mark.django_db
class TestThePage:
    def test_upload_shows_the_dry_run_and_writes_nothing_until_the_yes(
        self, alice, full_stack, django_capture_on_commit_callbacks
    ):
        client = signed_in(alice)
        response = client.post(NEW, {"file": upload(), "visibility": "private"})
        job = JourneyImport.objects.get(user=alice)
        assert response.status_code == 302
        assert response["Location"] == reverse("checkins:import", args=[job.id])
        assert (job.status, job.format, job.filename) == ("checked", "travelynx-json",
                                                         "travelynx-history.json")  # fmt: skip
        assert not CheckIn.objects.filter(user=alice).exists()

        page = client.get(response["Location"]).content.decode()
        assert 'data-testid="count-new">3<' in page
        assert 'data-testid="count-refused">1<' in page
        assert "Entry 4: " in page  # the refused row, where it is and why
        assert "Import 3 journeys" in page

        with django_capture_on_commit_callbacks(execute=True):
            started = client.post(response["Location"], {"action": "start"})
        assert started.status_code == 302
        job.refresh_from_db()
        assert (job.status, job.upload, job.summary["created"]) == ("done", None, 3)
        assert job.summary["dry_run"] is False
        journeys = CheckIn.objects.filter(user=alice).order_by("departure_planned")
        assert journeys.count() == 3
        assert journey_store().get(journeys[0].id) is not None  # the documents too
        done = client.get(response["Location"]).content.decode()
        assert 'data-testid="count-new">3<' in done and "imported" in done
        assert "hx-trigger" not in done  # nothing to poll
        # A second yes (a double click) imports nothing more.
        client.post(response["Location"], {"action": "start"})
        assert CheckIn.objects.filter(user=alice).count() == 3

    def test_the_same_file_again_is_all_duplicates(self, alice, full_stack):
        client = signed_in(alice)
        for _ in range(2):
            client.post(NEW, {"file": upload("travelynx-history.csv"), "visibility": "public"})
            job = JourneyImport.objects.filter(user=alice).latest("id")
            client.post(reverse("checkins:import", args=[job.id]), {"action": "start"})
        job.refresh_from_db()
        assert (job.summary["new"], job.summary["created"]) == (0, 0)
        assert job.summary["duplicates"] > 0
        assert set(CheckIn.objects.filter(user=alice).values_list("visibility", flat=True)) == {
            "public"
        }

    def test_cancel_lets_the_file_go_and_one_checked_file_waits_at_a_time(self, alice, bob):
        client = signed_in(alice)
        client.post(NEW, {"file": upload(), "visibility": "private"})
        client.post(NEW, {"file": upload("traewelling.json"), "visibility": "private"})
        waiting = JourneyImport.objects.get(user=alice)  # the first was let go
        assert waiting.format == "traewelling-json"
        signed_in(bob).post(NEW, {"file": upload(), "visibility": "private"})

        response = client.post(reverse("checkins:import", args=[waiting.id]), {"action": "cancel"})
        assert response.status_code == 302
        assert not JourneyImport.objects.filter(user=alice).exists()
        assert JourneyImport.objects.filter(user=bob).count() == 1  # bob's stays
        gone = client.post(reverse("checkins:import", args=[waiting.id]), {"action": "start"})
        assert gone.status_code == 404
        assert not CheckIn.objects.filter(user=alice).exists()

    def test_a_file_that_is_no_export_is_refused_with_the_reason(self, alice):
        response = signed_in(alice).post(
            NEW, {"file": upload("notes.txt", b"just some notes\n"), "visibility": "private"}
        )
        assert response.status_code == 400
        assert "Träwelling" in response.content.decode()  # the formats it expects, named
        assert 'data-testid="field-error"' in response.content.decode()
        assert not JourneyImport.objects.exists()

    def test_an_oversized_body_is_refused_before_it_is_read(self, alice):
        client = signed_in(alice, enforce_csrf_checks=True)
        # The declared length is what counts: the body is never read (nor is the CSRF check
        # run, which would read it).
        response = client.generic(
            "POST", NEW, b"x" * 100, content_type="multipart/form-data; boundary=x",
            CONTENT_LENGTH=str(200 * 1024 * 1024),
        )  # fmt: skip
        assert response.status_code == 413
        assert f"at most {MAX_IMPORT_BYTES // 2**20} MB" in response.content.decode()
        assert not JourneyImport.objects.exists()

    def test_the_csrf_check_still_applies_below_the_limit(self, alice):
        client = signed_in(alice, enforce_csrf_checks=True)
        response = client.post(NEW, {"file": upload(), "visibility": "private"})
        assert response.status_code == 403
        assert not JourneyImport.objects.exists()

    def test_someone_elses_import_is_not_found(self, alice, bob):
        job = journey_import_check(
            user=bob, filename="h.json", data=upload().read(), visibility="private"
        )
        client = signed_in(alice)
        for name in ("checkins:import", "checkins:import_progress"):
            assert client.get(reverse(name, args=[job.id])).status_code == 404
        refused = client.post(reverse("checkins:import", args=[job.id]), {"action": "start"})
        assert refused.status_code == 404
        job.refresh_from_db()
        assert job.status == "checked"
        assert "h.json" not in client.get(NEW).content.decode()


@pytest.mark.django_db
def test_a_run_after_the_journeys_committed_only_marks_the_import_done(alice, full_stack):
    """A task delivered again after its journeys and summary committed (the worker lost before
    it marked the import done) imports nothing twice."""
    job = journey_import_check(
        user=alice, filename="h.json", data=upload().read(), visibility="private"
    )
    JourneyImport.objects.filter(id=job.id).update(status="queued")
    journey_import_run(import_id=job.id)
    JourneyImport.objects.filter(id=job.id).update(status="running")  # as if cut off
    again = journey_import_run(import_id=job.id)
    assert again is not None and again.status == "done"
    assert CheckIn.objects.filter(user=alice).count() == 3
    assert again.summary["created"] == 3


@pytest.mark.django_db(transaction=True)
def test_progress_is_seen_by_others_while_the_import_transaction_is_open(alice, full_stack):
    """RowProgress writes apart from the transaction around it: another connection sees the
    value before that transaction ends (written inside it, it would not)."""
    job = journey_import_check(
        user=alice, filename="h.json", data=upload().read(), visibility="private"
    )
    watcher = connections.create_connection("default")
    try:
        with transaction.atomic(), RowProgress(JourneyImport, job.id) as row:
            row.write({"phase": "Writing journeys", "rows_done": 7})
            with watcher.cursor() as cursor:
                cursor.execute(
                    "SELECT phase, rows_done FROM checkins_journeyimport WHERE id = %s", [job.id]
                )
                assert cursor.fetchone() == ("Writing journeys", 7)
    finally:
        watcher.close()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_large_file_is_imported_by_the_worker_with_its_progress(celery_worker, alice):
    count = DIRECT_LIMIT + 100
    client = signed_in(alice)
    client.post(NEW, {"file": upload("history.csv", travelynx_csv(count)), "visibility": "public"})
    job = JourneyImport.objects.get(user=alice)
    page = client.get(reverse("checkins:import", args=[job.id])).content.decode()
    assert "Imported in the background" in page
    client.post(reverse("checkins:import", args=[job.id]), {"action": "start"})
    queued = client.get(reverse("checkins:import", args=[job.id])).content.decode()
    assert "hx-trigger" in queued or 'data-status="done"' in queued

    def finished() -> JourneyImport | None:
        current = JourneyImport.objects.defer("upload").get(id=job.id)
        return current if current.status in ("done", "failed") else None

    done = wait_for(finished, timeout=180, message="the import to finish")
    assert done.status == "done", done.error
    assert done.summary["created"] == count
    assert done.rows_done == done.rows_total == count  # the last step's bar, full
    assert CheckIn.objects.filter(user=alice, import_source="travelynx-json").count() == count
    first = CheckIn.objects.filter(user=alice).order_by("departure_planned").first()
    assert first is not None
    assert first.departure_planned == datetime(2025, 3, 1, 5, 0, tzinfo=UTC)  # 06:00 in Berlin
    progress = client.get(reverse("checkins:import_progress", args=[job.id])).content.decode()
    assert "hx-trigger" not in progress


# --- The API ------------------------------------------------------------------------------------

API = "/api/v1/imports/"


@pytest.mark.django_db
class TestTheApi:
    def test_a_dry_run_answers_the_summary_and_keeps_nothing(self, alice, full_stack):
        api = bearer(token_for(alice, ("checkins:write",)))
        response = api.post(API, {"file": upload(), "dry_run": "true"})
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["format"], body["new"], body["refused_count"]) == ("travelynx-json", 3, 1)
        assert body["refused"][0]["number"] == 4 and body["where"] == "entry"
        assert not JourneyImport.objects.exists()
        assert not CheckIn.objects.filter(user=alice).exists()

    def test_an_import_answers_201_with_where_to_find_it(
        self, alice, bob, full_stack, django_capture_on_commit_callbacks
    ):
        api = bearer(token_for(alice, ("checkins:write", "read")))
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(API, {"file": upload(), "visibility": "followers"})
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["status"], body["summary"]["created"], body["percent"]) == ("done", 3, 100)
        assert response["Location"] == body["url"]
        assert CheckIn.objects.filter(user=alice).count() == 3
        assert api.get(body["url"]).json()["id"] == body["id"]
        assert [job["id"] for job in api.get(API).json()] == [body["id"]]
        others = bearer(token_for(bob, ("read",)))
        assert others.get(body["url"]).status_code == 404
        assert others.get(API).json() == []

    def test_bad_input_is_a_clear_error(self, alice):
        api = bearer(token_for(alice, ("checkins:write",)))
        not_export = api.post(API, {"file": upload("notes.txt", b"{}")})
        assert not_export.status_code == 400
        assert "file" in not_export.json()["error"]["fields"]
        huge = api.generic(
            "POST", API, b"x", content_type="multipart/form-data; boundary=x",
            CONTENT_LENGTH=str(MAX_IMPORT_BYTES * 2),
        )  # fmt: skip
        assert huge.status_code == 413
        assert huge.json()["error"]["code"] == "too_large"
        reader = bearer(token_for(alice, ("read",)))
        assert reader.post(API, {"file": upload()}).status_code == 403
        assert not JourneyImport.objects.exists()
