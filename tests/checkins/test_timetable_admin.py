"""The admin's timetables: feeds and versions listed, imports from an upload or a URL run by the
real Celery worker with their progress recorded, bad uploads, refused URLs and feeds past a
limit shown as failed, an import while RabbitMQ is stopped, and feeds deleted with their
timetable partitions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext

from checkins.timetable.models import Feed, FeedImport, FeedVersion
from checkins.timetable.services import ImportProgress, feed_delete, feed_import_run
from tests.checkins.feeds import FILES, write_feed
from tests.conftest import ROOT, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

FEEDS = "/admin/checkins/feed/"
IMPORT = "/admin/checkins/feed/import/"
IMPORTS = "/admin/checkins/feedimport/"
# The test feed (tests/checkins/feeds.py) in figures.
STOPS, TRIPS, STOP_TIMES = 5, 3, 6


def upload(path: Path, name: str = "feed.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, path.read_bytes(), content_type="application/zip")


def truncated(tmp_path: Path) -> Path:
    path = write_feed(tmp_path / "truncated", as_zip=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def finished(job_id: int, timeout: float = 60) -> FeedImport:
    wait_for(
        lambda: FeedImport.objects.filter(
            id=job_id, status__in=[FeedImport.Status.DONE, FeedImport.Status.FAILED]
        ).exists(),
        timeout=timeout,
        message=f"import {job_id} to finish (is the Celery worker consuming?)",
    )
    return FeedImport.objects.get(id=job_id)


def start(client, **data) -> FeedImport:
    response = client.post(IMPORT, data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    job = FeedImport.objects.get()
    assert response["Location"] == f"{IMPORTS}{job.id}/change/"
    return job


def tables_of(version_id: int) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname LIKE %s AND relkind = 'r'",
            [f"tt\\_%\\_v{version_id}"],
        )
        return [row[0] for row in cursor.fetchall()]


def trips_of(version_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tt_trip WHERE version_id = %s", [version_id])
        return cursor.fetchone()[0]


# --- Feeds and versions ---------------------------------------------------------------------------


def test_feeds_are_listed_with_their_active_version(admin_client, tmp_path):
    call_command("import_gtfs", str(write_feed(tmp_path / "feed")), name="db-fv", verbosity=0)
    version = Feed.objects.get(name="db-fv").active_version

    page = admin_client.get(FEEDS).content.decode()

    assert f"version {version.id}" in page
    assert f"{STOPS} stops, {TRIPS} trips, {STOP_TIMES} stop times" in page
    assert "Jan. 1, 2019" in page and "Dec. 31, 2019" in page
    assert "Europe/Berlin" in page
    assert "Import a timetable" in page
    assert "Add feed" not in page  # feeds come from imports


def test_a_feed_page_lists_its_versions_read_only(admin_client, tmp_path):
    call_command("import_gtfs", str(write_feed(tmp_path / "a")), name="db-fv", verbosity=0)
    call_command("import_gtfs", str(write_feed(tmp_path / "b")), name="db-fv", verbosity=0)
    feed = Feed.objects.get(name="db-fv")
    retired, active = FeedVersion.objects.filter(feed=feed).order_by("id")

    page = admin_client.get(f"{FEEDS}{feed.id}/change/").content.decode()

    assert f"version {retired.id}" in page and f"version {active.id}" in page
    assert "Retired" in page and "Active" in page
    assert 'name="_save"' not in page


def test_versions_show_why_an_import_failed(admin_client, tmp_path):
    call_command("import_gtfs", str(write_feed(tmp_path / "a")), name="db-fv", verbosity=0)
    bad = {"stop_times.txt": FILES["stop_times.txt"].replace("T1,HAM", "T1,NOWHERE")}
    with pytest.raises(Exception, match="unknown stop"):
        call_command("import_gtfs", str(write_feed(tmp_path / "b", bad)), name="db-fv", verbosity=0)
    failed = FeedVersion.objects.get(status=FeedVersion.Status.FAILED)

    listing = admin_client.get("/admin/checkins/feedversion/?status__exact=failed")
    assert [version.id for version in listing.context["cl"].result_list] == [failed.id]
    page = admin_client.get(f"/admin/checkins/feedversion/{failed.id}/change/").content.decode()
    assert "stop_times.txt, line 3, column stop_id: unknown stop &#x27;NOWHERE&#x27;" in page


# --- The import form ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"feed_name": "db-fv"}, "Give a GTFS zip to upload or the URL to fetch it from."),
        ({"feed_name": "DB FV", "url": "https://example.org/gtfs.zip"}, "Use lower-case letters"),
        ({"feed_name": "", "url": "https://example.org/gtfs.zip"}, "This field is required."),
        ({"feed_name": "db-fv", "url": "ftp://example.org/gtfs.zip"}, "Only http and https"),
        ({"feed_name": "db-fv", "url": "not a url"}, "Enter a valid URL."),
    ],
)
def test_the_import_form_refuses_what_cannot_be_imported(admin_client, data, message):
    response = admin_client.post(IMPORT, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not FeedImport.objects.exists()


def test_an_upload_larger_than_allowed_is_refused_naming_the_limit(
    admin_client, tmp_path, settings
):
    settings.TRAINY_IMPORT_MAX_UPLOAD_BYTES = 1000
    zipped = write_feed(tmp_path, as_zip=True)
    response = admin_client.post(IMPORT, {"feed_name": "db-fv", "file": upload(zipped)})
    size = zipped.stat().st_size
    assert (
        f"The file is {size / 1024:.1f} KB, more than the limit of 1000 bytes "
        "(TRAINY_IMPORT_MAX_UPLOAD_BYTES): give its URL instead."
    ) in response.content.decode()
    assert "A GTFS feed as a .zip file, up to 1000 bytes." in response.content.decode()
    assert not FeedImport.objects.exists()


def test_the_import_form_wants_a_file_or_a_url_not_both(admin_client, tmp_path):
    data = {
        "feed_name": "db-fv",
        "url": "https://example.org/gtfs.zip",
        "file": upload(write_feed(tmp_path, as_zip=True)),
    }
    response = admin_client.post(IMPORT, data)
    assert "Give either a file or a URL, not both." in response.content.decode()
    assert not FeedImport.objects.exists()


# --- Imports run by the worker --------------------------------------------------------------------


def test_an_uploaded_feed_is_imported_by_the_worker(admin_client, celery_worker, tmp_path):
    job = start(
        admin_client, feed_name="db-fv", file=upload(write_feed(tmp_path, as_zip=True), "de.zip")
    )
    assert job.upload is not None and job.filename == "de.zip"

    job = finished(job.id)

    assert job.status == FeedImport.Status.DONE, job.error
    feed = Feed.objects.get(name="db-fv")
    assert job.version_id == feed.active_version_id is not None
    assert job.version.status == FeedVersion.Status.ACTIVE
    assert job.version.source == "uploaded file de.zip"
    assert job.version.row_counts["stop_times"] == STOP_TIMES
    # Progress: every byte of the files read, their rows, and the stored upload let go.
    assert job.bytes_total > 0 and job.bytes_read == job.bytes_total
    assert job.rows >= STOPS + TRIPS + STOP_TIMES
    assert job.started_at is not None and job.finished_at >= job.started_at
    assert job.upload is None
    assert trips_of(feed.active_version_id) == TRIPS

    page = admin_client.get(f"{IMPORTS}{job.id}/change/").content.decode()
    assert "Done" in page and f"Version {job.version_id} is active" in page
    assert 'value="100"' in page
    assert 'http-equiv="refresh"' not in page  # finished: the page stops reloading


def test_a_feed_is_fetched_from_a_url_by_the_worker(admin_client, celery_worker, served):
    job = finished(start(admin_client, feed_name="remote", url=served).id)
    assert job.status == FeedImport.Status.DONE, job.error
    assert job.version.source == served
    assert job.version.row_counts["trips"] == TRIPS


def test_a_missing_url_fails_with_the_reason(admin_client, celery_worker, served):
    job = finished(start(admin_client, feed_name="remote", url=served + ".gone").id)
    assert job.status == FeedImport.Status.FAILED
    assert "download failed: 404" in job.error
    assert not Feed.objects.filter(name="remote").exists()


def test_a_url_on_a_private_address_is_refused_and_the_admin_sees_why(admin_client, served):
    # Run by the task's own code in this process: the tests' worker allows private addresses.
    job = FeedImport.objects.create(feed_name="remote", source_url=served)
    job = feed_import_run(feed_import_id=job.id)
    assert job.status == FeedImport.Status.FAILED
    assert job.error == (
        f"{served}: refused: 127.0.0.1 is a loopback address; only public addresses are "
        "fetched unless TRAINY_IMPORT_ALLOW_PRIVATE is true"
    )
    assert not Feed.objects.filter(name="remote").exists()
    page = admin_client.get(f"{IMPORTS}{job.id}/change/").content.decode()
    assert "Failed" in page and "127.0.0.1 is a loopback address" in page


def test_an_import_past_a_limit_is_refused_and_the_timetable_stays(
    admin_client, tmp_path, settings
):
    call_command("import_gtfs", str(write_feed(tmp_path / "good")), name="db-fv", verbosity=0)
    active = Feed.objects.get(name="db-fv").active_version_id
    settings.TRAINY_IMPORT_MAX_ROWS = 5  # the feed's stop_times.txt has 6
    job = FeedImport.objects.create(
        feed_name="db-fv", filename="de.zip", upload=write_feed(tmp_path, as_zip=True).read_bytes()
    )
    job = feed_import_run(feed_import_id=job.id)
    assert job.status == FeedImport.Status.FAILED
    assert (
        job.error
        == "stop_times.txt, line 7: more than the limit of 5 rows (TRAINY_IMPORT_MAX_ROWS)"
    )
    assert job.upload is None and job.version is None
    assert Feed.objects.get(name="db-fv").active_version_id == active  # untouched
    assert trips_of(active) == TRIPS
    page = admin_client.get(f"{IMPORTS}{job.id}/change/").content.decode()
    assert "TRAINY_IMPORT_MAX_ROWS" in page


def test_a_truncated_zip_shows_the_import_as_failed(admin_client, celery_worker, tmp_path):
    call_command("import_gtfs", str(write_feed(tmp_path / "good")), name="db-fv", verbosity=0)
    active = Feed.objects.get(name="db-fv").active_version_id

    job = finished(start(admin_client, feed_name="db-fv", file=upload(truncated(tmp_path))).id)

    assert job.status == FeedImport.Status.FAILED
    assert "feed.zip: not a valid zip archive (truncated or corrupt)" in job.error
    assert job.version is None and job.upload is None
    assert Feed.objects.get(name="db-fv").active_version_id == active  # untouched
    page = admin_client.get(f"{IMPORTS}{job.id}/change/").content.decode()
    assert "Failed" in page and "not a valid zip archive" in page
    listing = admin_client.get(IMPORTS).content.decode()
    assert "db-fv" in listing and "Failed" in listing


def test_an_import_page_reloads_itself_while_the_import_runs(admin_client, tmp_path):
    job = FeedImport.objects.create(
        feed_name="db-fv", filename="feed.zip", upload=b"PK", status=FeedImport.Status.RUNNING,
        phase="Reading stop_times.txt", bytes_read=300, bytes_total=1200,
    )  # fmt: skip
    page = admin_client.get(f"{IMPORTS}{job.id}/change/").content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page
    assert "Reading stop_times.txt" in page
    assert '<progress value="25" max="100"' in page
    assert "300\xa0bytes of 1.2\xa0KB" in page
    assert 'http-equiv="refresh"' in admin_client.get(IMPORTS).content.decode()


def test_progress_is_visible_to_others_while_the_import_transaction_is_open(tmp_path):
    """The import reads the feed in one transaction; the admin must see it move meanwhile.

    Another session holds the feed's row (as an admin deleting the feed would), so the import,
    every file read and indexed, waits inside its transaction just before it switches to the
    new version: what the admin sees then is what they see during any long import."""
    Feed.objects.create(name="db-fv")
    job = FeedImport.objects.create(
        feed_name="db-fv",
        filename="feed.zip",
        upload=write_feed(tmp_path, as_zip=True).read_bytes(),
    )
    holder = connections.create_connection(DEFAULT_DB_ALIAS)
    holder.set_autocommit(False)
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(feed_import_run(feed_import_id=job.id))
        except Exception as exc:  # noqa: BLE001 (whatever it is, the test thread reports it)
            outcome.append(exc)
        finally:
            connections.close_all()

    try:
        with holder.cursor() as cursor:
            # NO KEY UPDATE: new versions may still refer to the feed; the switch may not.
            cursor.execute("SELECT id FROM checkins_feed WHERE name = 'db-fv' FOR NO KEY UPDATE")
        worker = threading.Thread(target=run)
        worker.start()
        waiting = wait_for(
            lambda: FeedImport.objects.filter(id=job.id, phase="Indexing").first(),
            timeout=30,
            message="the import to reach its last step",
        )
        assert waiting.bytes_read == waiting.bytes_total > 0
        assert waiting.rows >= STOPS + TRIPS + STOP_TIMES
        # Still inside the import's transaction: nothing of the new version shows yet.
        assert Feed.objects.get(name="db-fv").active_version_id is None
    finally:
        holder.rollback()
        holder.close()
    worker.join(timeout=30)
    assert outcome and isinstance(outcome[0], FeedImport), outcome
    assert outcome[0].status == FeedImport.Status.DONE


def test_progress_is_written_about_once_a_second():
    job = FeedImport.objects.create(feed_name="db-fv", source_url="https://example.org/f.zip")
    now = [0.0]
    progress = ImportProgress(job.id, clock=lambda: now[0])
    target = progress.row.connection or connection
    try:
        with CaptureQueriesContext(target) as writes:
            progress.expect(10_000)  # the feed is at hand: written at once
            progress.file_started("stop_times.txt", 10_000)
            for _ in range(1000):
                progress.bytes_read(10)  # all within the same second: not written
            now[0] += 1.01
            progress.bytes_read(0)
            progress.phase("indexing")  # a phase is written at once
    finally:
        progress.close()
    assert len([q for q in writes.captured_queries if q["sql"].startswith("UPDATE")]) == 3
    job.refresh_from_db()
    assert (job.phase, job.bytes_read, job.bytes_total) == ("Indexing", 10_000, 10_000)


def test_a_finished_import_is_not_run_twice(tmp_path):
    job = FeedImport.objects.create(
        feed_name="db-fv",
        filename="feed.zip",
        upload=write_feed(tmp_path, as_zip=True).read_bytes(),
    )
    feed_import_run(feed_import_id=job.id)
    feed_import_run(feed_import_id=job.id)  # the message delivered again
    assert FeedVersion.objects.count() == 1


EMBEDDED_IMPORT = """
import json, sys, django
django.setup()
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from checkins.timetable.models import Feed, FeedImport

call_command("migrate", verbosity=0)
client = Client()
client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw"))
with open(sys.argv[1], "rb") as zipped:
    page = client.post(sys.argv[2], {"feed_name": "demo-two", "file": zipped}, follow=True)
job = FeedImport.objects.get()
print(json.dumps({
    "page": page.content.decode(),
    "status": job.status,
    "error": job.error,
    "active": Feed.objects.get(name="demo-two").active_version_id,
    "version": job.version_id,
}))
"""


def test_imports_run_in_the_request_when_there_is_no_broker(tmp_path):
    """`make run`: without CELERY_BROKER_URL tasks run in-process, so the import is done when
    its page is shown. Run as `make run` runs, in a process of its own: SQLite, no broker."""
    environment = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "trainy.settings",
        "DEBUG": "true",
        "TRAINY_DATA_DIR": str(tmp_path),
        "ALLOWED_HOSTS": "testserver",
        "LOG_LEVEL": "warning",
    }
    zipped = write_feed(tmp_path / "feed", as_zip=True)
    result = subprocess.run(
        [sys.executable, "-c", EMBEDDED_IMPORT, str(zipped), IMPORT],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == FeedImport.Status.DONE, outcome["error"]
    assert outcome["active"] == outcome["version"] is not None
    assert "The import of demo-two is done." in outcome["page"]


@pytest.mark.outage
def test_an_import_while_rabbitmq_is_stopped_fails_at_once_and_writes_nothing(
    admin_client, celery_worker, services, tmp_path
):
    call_command("import_gtfs", str(write_feed(tmp_path / "good")), name="db-fv", verbosity=0)
    active = Feed.objects.get(name="db-fv").active_version_id
    versions = FeedVersion.objects.count()
    services.stop("rabbitmq")

    response = admin_client.post(
        IMPORT,
        {"feed_name": "db-fv", "file": upload(write_feed(tmp_path / "new", as_zip=True))},
        follow=True,
    )

    page = response.content.decode()
    job = FeedImport.objects.get()
    assert response.redirect_chain == [(f"{IMPORTS}{job.id}/change/", 302)]
    assert "The import of db-fv failed: The import could not be queued" in page
    assert "has started" not in page
    assert "Start it again later." in page
    # Nothing half-written: the import is failed for good, its upload let go, no new version,
    # and the active timetable is the one before.
    assert job.status == FeedImport.Status.FAILED and job.finished_at is not None
    assert job.upload is None and job.version is None
    assert FeedVersion.objects.count() == versions
    assert Feed.objects.get(name="db-fv").active_version_id == active
    assert 'http-equiv="refresh"' not in page  # not waiting for a task that will never come

    services.start("rabbitmq")
    # Started again once the broker is back, the worker (reconnected by itself) imports it.
    again = admin_client.post(
        IMPORT, {"feed_name": "db-fv", "file": upload(write_feed(tmp_path / "new", as_zip=True))}
    )
    assert again.status_code == 302
    retried = finished(FeedImport.objects.exclude(id=job.id).get().id, timeout=120)
    assert retried.status == FeedImport.Status.DONE, retried.error
    assert Feed.objects.get(name="db-fv").active_version_id == retried.version_id != active


# --- Deleting a feed ------------------------------------------------------------------------------


def test_deleting_a_feed_drops_its_partitions(admin_client, tmp_path):
    call_command("import_gtfs", str(write_feed(tmp_path / "a")), name="db-fv", verbosity=0)
    call_command("import_gtfs", str(write_feed(tmp_path / "b")), name="other", verbosity=0)
    feed = Feed.objects.get(name="db-fv")
    version_id = feed.active_version_id
    kept = Feed.objects.get(name="other").active_version_id
    assert trips_of(version_id) == TRIPS and tables_of(version_id)

    confirm = admin_client.get(f"{FEEDS}{feed.id}/delete/")
    assert "Are you sure" in confirm.content.decode()
    response = admin_client.post(f"{FEEDS}{feed.id}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Feed.objects.filter(name="db-fv").exists()
    assert not FeedVersion.objects.filter(id=version_id).exists()
    assert trips_of(version_id) == 0
    assert tables_of(version_id) == []
    assert trips_of(kept) == TRIPS  # other feeds are left alone


def test_deleting_feeds_from_the_list_drops_every_version(admin_client, tmp_path):
    call_command("import_gtfs", str(write_feed(tmp_path / "a")), name="db-fv", verbosity=0)
    call_command("import_gtfs", str(write_feed(tmp_path / "b")), name="db-fv", verbosity=0)
    versions = list(FeedVersion.objects.values_list("id", flat=True))
    feed = Feed.objects.get(name="db-fv")

    admin_client.post(
        FEEDS, {"action": "delete_selected", "_selected_action": [feed.id], "post": "yes"}
    )

    assert not Feed.objects.exists()
    assert all(trips_of(v) == 0 and not tables_of(v) for v in versions)


def test_a_failed_drop_leaves_the_feed_whole(tmp_path):
    call_command("import_gtfs", str(write_feed(tmp_path / "a")), name="db-fv", verbosity=0)
    feed = Feed.objects.get(name="db-fv")
    version_id = feed.active_version_id
    # Another session holds the version's row: the delete drops the partitions, then waits
    # for the row and gives up after lock_timeout, the drops already done.
    holder = connections.create_connection(DEFAULT_DB_ALIAS)
    holder.set_autocommit(False)
    try:
        with holder.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM checkins_feedversion WHERE id = %s FOR UPDATE", [version_id]
            )
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '500ms'")
        with pytest.raises(OperationalError, match="lock timeout"):
            feed_delete(feed=feed)
    finally:
        holder.rollback()
        holder.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert Feed.objects.filter(name="db-fv").exists()
    assert trips_of(version_id) == TRIPS  # the DROP was rolled back with the rest
    assert tables_of(version_id)
