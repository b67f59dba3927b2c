""" "Download all my data": the Trainy archive holds every journey with every field (reading
each back gives the same value) and its document from the real MongoDB server, the social
graph, tokens and webhooks without their secrets, the exports and imports, the journeys' CSV
and a README; it expires, and only its owner can download it."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from checkins.models import CheckIn, JourneyImport
from checkins.services.enrichment_lifecycle import journey_enrich
from feed.models import Block, Follow, Like, Mute, Notification
from feed.services.webhooks import webhook_endpoint_create
from stats.exports import archive as archive_module
from stats.exports.archive import ARCHIVE_NAME, CSV_NAME, SCHEMA_VERSION, journey_fields
from stats.models import Export
from stats.services import archive_create, export_run, exports_expire
from tests.factories import CheckInFactory, UserFactory
from trainy.accounts.services import token_create
from trainy.documents import journey_store

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def made(export: Export) -> zipfile.ZipFile:
    done = export_run(export_id=export.id)
    assert done is not None and done.status == Export.Status.DONE, done and done.error
    stored = Export.objects.get(id=export.id)
    return zipfile.ZipFile(io.BytesIO(bytes(stored.content)))


@pytest.fixture
def traveller(alice, bob, full_stack):
    """alice with two journeys (one enriched, with its document), a like, follows both ways, a
    block, a mute, a notification, a token, a webhook and an import."""
    first = CheckInFactory(
        user=alice, message="über Hannover", ticket_price=Decimal("39.90"),
        cost_centre="CC-7", purpose="business", visibility="followers",
        time_zone="Europe/Berlin",
    )  # fmt: skip
    journey_enrich(checkin_id=first.id)
    CheckInFactory(user=alice, departure_planned=timezone.now() - timedelta(days=3))
    bobs = CheckInFactory(user=bob)
    Like.objects.create(user=alice, checkin=bobs)
    Follow.objects.create(follower=alice, followee=bob)
    Follow.objects.create(follower=bob, followee=alice, accepted=False)
    carol = UserFactory(username="carol")
    Block.objects.create(blocker=alice, blocked=carol)
    Mute.objects.create(muter=alice, muted=UserFactory(username="dave"))
    Notification.objects.create(recipient=alice, actor=bob, kind=Notification.Kind.LIKE,
                                checkin=first)  # fmt: skip
    JourneyImport.objects.create(
        user=alice, filename="history.json", format="travelynx-json", visibility="private",
        status="done", summary={"created": 3},
    )  # fmt: skip
    return alice


def test_the_archive_holds_everything_and_no_secret(
    traveller, bob, django_capture_on_commit_callbacks
):
    alice = traveller
    token = token_create(user=alice, name="phone script", scopes=["read"])
    webhook = webhook_endpoint_create(
        owner=alice, url="https://example.org/hook", events=["checkin.created"]
    )
    with django_capture_on_commit_callbacks(execute=False):
        response = signed_in(alice).post(reverse("exports:archive"))
    export = Export.objects.get(user=alice, format="archive")
    assert response.status_code == 302
    assert response["Location"] == reverse("exports:status", args=[export.id])
    archive = made(export)
    assert sorted(archive.namelist()) == sorted([ARCHIVE_NAME, CSV_NAME, "README.md"])
    raw = archive.read(ARCHIVE_NAME)
    data = json.loads(raw)
    assert (data["schema"], data["schema_version"]) == ("trainy-archive", SCHEMA_VERSION)
    assert data["profile"]["username"] == "alice"
    assert data["settings"]["default_visibility"] == alice.default_visibility

    # Every journey, every field, and reading each back gives the very value stored.
    ids = list(CheckIn.objects.filter(user=alice).order_by("departure_planned").values_list(
        "id", flat=True))  # fmt: skip
    assert [record["id"] for record in data["journeys"]] == ids
    for record in data["journeys"]:
        journey = CheckIn.objects.get(id=record["id"])
        assert set(record["fields"]) == {field.name for field in journey_fields()}
        for field in journey_fields():
            read = field.to_python(record["fields"][field.name])
            assert read == getattr(journey, field.attname), field.name
    enriched = next(r for r in data["journeys"] if r["fields"]["message"] == "über Hannover")
    assert enriched["document"] == json.loads(json.dumps(journey_store().get(enriched["id"])))
    assert enriched["document"] is not None

    assert [f["username"] for f in data["following"]] == ["bob"]
    assert [f["username"] for f in data["follow_requests_received"]] == ["bob"]
    assert [b["username"] for b in data["blocks"]] == ["carol"]
    assert [m["username"] for m in data["mutes"]] == ["dave"]
    assert [like["traveller"] for like in data["likes_given"]] == ["bob"]
    assert data["notifications"][0]["from"] == "bob"
    assert [t["name"] for t in data["access_tokens"]] == ["phone script"]
    assert data["webhooks"][0]["events"] == ["checkin.created"]
    assert data["imports"][0]["filename"] == "history.json"
    # Never a secret: the token's, the webhook's signing secret.
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert token.secret.encode() not in everything
    assert webhook.secret.encode() not in everything

    rows = list(csv.DictReader(io.StringIO(archive.read(CSV_NAME).decode("utf-8-sig"))))
    assert len(rows) == 2
    assert f"schema version {SCHEMA_VERSION}" in archive.read("README.md").decode()

    # Bob cannot have it; alice downloads it.
    download = reverse("exports:download", args=[export.id])
    assert signed_in(bob).get(download).status_code == 404
    got = signed_in(alice).get(download)
    assert got.status_code == 200 and got["Content-Type"] == "application/zip"


def test_an_archive_expires(traveller, settings):
    settings.TRAINY_ARCHIVE_KEEP_DAYS = 7
    export = archive_create(owner=traveller)
    made(export)
    export.refresh_from_db()
    assert export.expires_at is not None
    assert timedelta(days=6) < export.expires_at - timezone.now() <= timedelta(days=7)
    download = reverse("exports:download", args=[export.id])
    assert signed_in(traveller).get(download).status_code == 200
    Export.objects.filter(id=export.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert signed_in(traveller).get(download).status_code == 404
    assert exports_expire() == 1
    assert not Export.objects.filter(id=export.id).exists()


def test_asking_again_while_one_is_made_answers_the_same(traveller):
    first = archive_create(owner=traveller)
    assert archive_create(owner=traveller).id == first.id
    made(first)
    assert archive_create(owner=traveller).id != first.id  # once done, a new one


def test_the_archive_over_the_api(traveller, bob):
    from tests.apiclient import bearer, token_for

    api = bearer(token_for(traveller, ("exports",)))
    response = api.post("/api/v1/exports/archive/")
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["format"], body["status"], body["content_type"]) == (
        "archive", "queued", "application/zip",
    )  # fmt: skip
    assert response["Location"].endswith(f"/api/v1/exports/{body['id']}/")
    assert api.post("/api/v1/exports/archive/").json()["id"] == body["id"]  # one at a time
    made(Export.objects.get(id=body["id"]))
    done = api.get(f"/api/v1/exports/{body['id']}/").json()
    assert done["status"] == "done" and done["expires_at"] and done["download"]
    assert bearer(token_for(bob, ("exports",))).get(done["download"]).status_code == 404
    assert (
        bearer(token_for(traveller, ("read",))).post("/api/v1/exports/archive/").status_code == 403
    )


def test_a_history_longer_than_a_chunk_is_written_whole_in_order(alice, full_stack, monkeypatch):
    """The archive is written as the journeys are read, CHUNK at a time: every journey once,
    oldest first, each with its document, across the chunks' seams."""
    monkeypatch.setattr(archive_module, "CHUNK", 2)
    start = timezone.now() - timedelta(days=30)
    journeys = [
        CheckInFactory(user=alice, departure_planned=start + timedelta(days=n),
                       arrival_planned=start + timedelta(days=n, hours=1))
        for n in range(5)
    ]  # fmt: skip
    for journey in journeys[:4]:
        journey_enrich(checkin_id=journey.id)
    seen: list[int] = []
    export = archive_create(owner=alice)
    monkeypatch.setattr(archive_module, "_journeys", _recording(archive_module._journeys, seen))
    with made(export) as archive:
        data = json.loads(archive.read(ARCHIVE_NAME))
    assert [j["id"] for j in data["journeys"]] == [j.id for j in journeys]
    assert [j["document"] is not None for j in data["journeys"]] == [True] * 4 + [False]
    assert data["documents_missing"] == 1
    assert seen == [2, 4, 5]  # the progress, chunk by chunk


def _recording(journeys, seen):
    def wrapped(user, progress):
        return journeys(user, lambda done: (seen.append(done), progress(done)))

    return wrapped
