"""The admin's exports: an admin makes a traveller's archive on their behalf and downloads it;
both are in the admin's history and the log, the traveller sees the archive among their
exports; someone without the admin's rights gets neither. A traveller deleted by an admin goes
as one who left: journey documents in the real MongoDB server, browser sessions, logged."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.test import Client
from django.urls import reverse

from checkins.services.enrichment_lifecycle import journey_enrich
from stats.exports.archive import ARCHIVE_NAME
from stats.models import Export
from stats.services import export_run
from tests.factories import PASSWORD, CheckInFactory
from trainy.accounts.models import User
from trainy.documents import journey_store

pytestmark = pytest.mark.django_db

ARCHIVE = reverse("admin:stats_export_archive")


def test_an_admin_makes_and_downloads_a_travellers_archive_and_it_is_logged(
    admin_client, root, alice, full_stack, django_capture_on_commit_callbacks, caplog
):
    journey = CheckInFactory(user=alice, message="to the conference")
    caplog.set_level(logging.INFO)
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(ARCHIVE, {"username": "alice"})
    export = Export.objects.get(user=alice)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:stats_export_change", args=[export.id])
    assert export.format == "archive" and export.options["made_by"] == "root"
    assert LogEntry.objects.filter(
        user=root, object_id=str(export.id), action_flag=ADDITION
    ).exists()
    assert any("asked for by admin root" in record.getMessage() for record in caplog.records)

    export_run(export_id=export.id)
    listing = admin_client.get(reverse("admin:stats_export_changelist")).content.decode()
    download = reverse("admin:stats_export_download", args=[export.id])
    assert download in listing
    response = admin_client.get(download)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        data = json.loads(archive.read(ARCHIVE_NAME))
    assert [j["fields"]["message"] for j in data["journeys"]] == [journey.message]
    assert LogEntry.objects.filter(
        user=root, object_id=str(export.id), action_flag=CHANGE, change_message="File downloaded."
    ).exists()
    # The traveller sees it among their exports.
    client = Client()
    client.force_login(alice)
    page = client.get(reverse("exports:status", args=[export.id]))
    assert page.status_code == 200


def test_an_unknown_traveller_is_named_and_nothing_is_made(admin_client, alice):
    response = admin_client.post(ARCHIVE, {"username": "nobody-here"})
    assert response.status_code == 200
    assert "There is no traveller called nobody-here." in response.content.decode()
    assert not Export.objects.exists()


def test_staff_without_the_rights_and_travellers_get_no_archive(alice, bob, full_stack):
    export = Export.objects.create(
        user=alice, format="archive", status="done", content=b"PK", filename="a.zip",
        content_type="application/zip",
    )  # fmt: skip
    bob.is_staff = True
    bob.save()
    for user in (bob, alice):
        client = Client()
        client.force_login(user)
        assert client.post(ARCHIVE, {"username": "alice"}).status_code in (302, 403)
        response = client.get(reverse("admin:stats_export_download", args=[export.id]))
        assert response.status_code in (302, 403)
        assert response.content != b"PK"
    assert Export.objects.count() == 1


def test_a_traveller_deleted_by_an_admin_goes_as_one_who_left(
    admin_client, root, alice, full_stack, caplog
):
    journey = CheckInFactory(user=alice)
    journey_enrich(checkin_id=journey.id)
    browser = Client()
    assert browser.login(username="alice", password=PASSWORD)
    browser.get(reverse("checkins:list"))  # a signed-in request: her browser is on record
    session_key = browser.session.session_key
    caplog.set_level(logging.INFO)

    response = admin_client.post(f"/admin/accounts/user/{alice.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(username="alice").exists()
    assert journey_store().get(journey.id) is None
    assert not import_module(settings.SESSION_ENGINE).SessionStore().exists(session_key)
    assert LogEntry.objects.filter(user=root, action_flag=DELETION).exists()
    assert any("by admin root" in record.getMessage() for record in caplog.records)
