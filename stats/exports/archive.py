"""The Trainy archive: everything Trainy holds about a traveller, in one ZIP ("Download all my
data"), made by the exports' Celery task (stats.services.export_run, format ``archive``).

The ZIP holds
- ``trainy-archive.json``: the profile and settings, every journey with every one of its fields
  and its journey document (stopovers, route, real-time observations), the likes given, follows
  both ways and follow requests, blocks, mutes, notifications, the API tokens' names and scopes
  (never a secret), OAuth2 apps allowed, webhooks (their URLs and events, never the signing
  secret), browser sessions, and the history of exports and imports;
- ``journeys.csv``: the journeys as the CSV export writes them, every column;
- ``README.md``: this layout, for whoever opens the archive later.

``schema_version`` changes only when a field goes or changes meaning; fields may be added.
A journey's fields are the model's own, by name, written so that reading them back gives the
same values (times in UTC with microseconds, amounts as decimal strings): importing the archive
into another Trainy restores each journey as it was here.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any
from uuid import UUID

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from oauth2_provider.models import AccessToken as OAuthAccessToken

from checkins.models import CheckIn, JourneyImport
from checkins.selectors import JourneyFilter
from feed.models import (
    Block,
    Follow,
    Like,
    Mute,
    Notification,
    WebhookEndpoint,
    WebhookSubscription,
)
from stats.exports.columns import COLUMNS
from stats.exports.csv import csv_chunks
from stats.exports.options import ExportOptions
from stats.exports.selectors import ExportSource
from stats.models import Export
from trainy.accounts.models import AccessToken, User, UserSession
from trainy.documents import DocumentStoreError, journey_store

SCHEMA = "trainy-archive"
SCHEMA_VERSION = 1
ARCHIVE_NAME = "trainy-archive.json"
CSV_NAME = "journeys.csv"
# Journeys read, and their documents fetched, per round trip: few round trips, as the
# document store's answer to a list of ids may cost a scan (FerretDB's does); the archive holds
# no more than this many at a time.
CHUNK = 10_000
# A journey's fields that say whose and which row it is here: the archive's own keys instead.
NOT_ARCHIVED = frozenset({"id", "user"})
# Archived, but not restored as they are: where the journey came from is the archive now (or
# the service it was first imported from), and the key against a double submit was this
# Trainy's.
RESTORED_APART = frozenset({"import_source", "import_source_id", "idempotency_key"})

Progress = Callable[[int], None]


def journey_fields() -> list[models.Field]:
    return [field for field in CheckIn._meta.concrete_fields if field.name not in NOT_ARCHIVED]


def value_json(value: Any) -> Any:
    """A field's value as JSON that reads back to the same value (field.to_python)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def journey_record(journey: CheckIn, document: dict[str, Any] | None) -> dict[str, Any]:
    """One journey in the archive: its id here, every field by name, its document."""
    fields = {field.name: value_json(getattr(journey, field.attname)) for field in journey_fields()}
    return {"id": journey.id, "fields": fields, "document": document}


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _profile(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "avatar_url": user.avatar_url,
        "date_joined": _when(user.date_joined),
        "last_login": _when(user.last_login),
        "is_staff": user.is_staff,
    }


def _settings(user: User) -> dict[str, Any]:
    return {
        "default_visibility": user.default_visibility,
        "private_profile": user.private_profile,
        "likes_enabled": user.likes_enabled,
        "private_after_days": user.private_after_days,
        "leaderboard_opt_out": user.leaderboard_opt_out,
        "calendar_feed": bool(user.calendar_token),  # on or off; its secret address is not kept
    }


def _social(user: User) -> dict[str, Any]:
    def named(rows: Any, field: str) -> list[dict[str, Any]]:
        return [
            {"username": username, "since": _when(since)}
            for username, since in rows.values_list(f"{field}__username", "created_at")
        ]

    return {
        "following": named(Follow.objects.filter(follower=user, accepted=True), "followee"),
        "followers": named(Follow.objects.filter(followee=user, accepted=True), "follower"),
        "follow_requests_sent": named(
            Follow.objects.filter(follower=user, accepted=False), "followee"
        ),
        "follow_requests_received": named(
            Follow.objects.filter(followee=user, accepted=False), "follower"
        ),
        "blocks": named(Block.objects.filter(blocker=user), "blocked"),
        "mutes": named(Mute.objects.filter(muter=user), "muted"),
        "likes_given": [
            {"journey_id": checkin_id, "traveller": username, "at": _when(at)}
            for checkin_id, username, at in Like.objects.filter(user=user).values_list(
                "checkin_id", "checkin__user__username", "created_at"
            )
        ],
        "notifications": [
            {
                "kind": kind,
                "from": actor,
                "journey_id": checkin_id,
                "at": _when(at),
                "read_at": _when(read_at),
            }
            for kind, actor, checkin_id, at, read_at in Notification.objects.filter(
                recipient=user
            ).values_list("kind", "actor__username", "checkin_id", "created_at", "read_at")
        ],
    }


def _access(user: User) -> dict[str, Any]:
    events: dict[int, list[str]] = {}
    for endpoint_id, event in WebhookSubscription.objects.filter(endpoint__owner=user).values_list(
        "endpoint_id", "event"
    ):
        events.setdefault(endpoint_id, []).append(event)
    return {
        "access_tokens": [
            {
                "name": name,
                "scopes": scopes,
                "created_at": _when(made),
                "expires_at": _when(ends),
                "last_used_at": _when(used),
                "revoked_at": _when(revoked),
            }
            for name, scopes, made, ends, used, revoked in AccessToken.objects.filter(
                user=user
            ).values_list(
                "name", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at"
            )
        ],
        "apps_allowed": [
            {"app": name, "scope": scope, "expires": _when(expires)}
            for name, scope, expires in OAuthAccessToken.objects.filter(user=user).values_list(
                "application__name", "scope", "expires"
            )
        ],
        "webhooks": [
            {
                "url": url,
                "active": active,
                "created_at": _when(made),
                "events": sorted(events.get(endpoint_id, [])),
            }
            for endpoint_id, url, active, made in WebhookEndpoint.objects.filter(
                owner=user
            ).values_list("id", "url", "active", "created_at")
        ],
        "browser_sessions": [
            {"user_agent": agent, "ip": ip, "signed_in_at": _when(made), "last_seen": _when(seen)}
            for agent, ip, made, seen in UserSession.objects.filter(user=user).values_list(
                "user_agent", "ip", "created_at", "last_seen"
            )
        ],
    }


def _history(user: User) -> dict[str, Any]:
    return {
        "exports": [
            {"format": fmt, "status": status, "journeys": rows, "made_at": _when(made)}
            for fmt, status, rows, made in Export.objects.filter(user=user).values_list(
                "format", "status", "rows_total", "created_at"
            )
        ],
        "imports": [
            {
                "filename": name,
                "format": fmt,
                "status": status,
                "summary": summary,
                "uploaded_at": _when(made),
            }
            for name, fmt, status, summary, made in JourneyImport.objects.filter(
                user=user
            ).values_list("filename", "format", "status", "summary", "created_at")
        ],
    }


def _journeys(user: User, progress: Progress) -> Iterator[dict[str, Any]]:
    """Every journey of the traveller's, oldest first, with its document; the documents CHUNK
    at a time. A document store that is down costs the documents (null), said in the
    archive's ``documents_missing``, never the journeys."""
    rows = CheckIn.objects.filter(user=user).order_by("departure_planned", "id")
    chunk: list[CheckIn] = []
    done = 0

    def flush() -> Iterator[dict[str, Any]]:
        try:
            documents = journey_store().get_many(journey.id for journey in chunk)
        except DocumentStoreError:
            documents = {}
        for journey in chunk:
            yield journey_record(journey, documents.get(journey.id))

    for journey in rows.iterator(chunk_size=CHUNK):
        chunk.append(journey)
        if len(chunk) == CHUNK:
            yield from flush()
            done += len(chunk)
            progress(done)
            chunk = []
    yield from flush()
    progress(done + len(chunk))


def archive_write(user: User, out: IO[bytes], progress: Progress) -> int:
    """Write the traveller's archive (a ZIP) to ``out``; the number of journeys in it. The
    JSON is written as the journeys are read, CHUNK at a time: a history of tens of thousands
    of journeys is never held whole."""
    head = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "made_at": _when(timezone.now()),
        "site": settings.TRAINY_SITE_NAME,
        "profile": _profile(user),
        "settings": _settings(user),
    }
    count = missing = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open(ARCHIVE_NAME, "w") as target:
            target.write(b"{\n")
            for key, value in head.items():
                target.write(_member(key, value) + b",\n")
            target.write(b' "journeys": [\n')
            for record in _journeys(user, progress):
                target.write((b",\n" if count else b"") + _json(record))
                count += 1
                missing += record["document"] is None
            target.write(b"\n ],\n")
            tail = {"documents_missing": missing, **_social(user), **_access(user),
                    **_history(user)}  # fmt: skip
            target.write(b",\n".join(_member(key, value) for key, value in tail.items()))
            target.write(b"\n}\n")
        with archive.open(CSV_NAME, "w") as target:
            options = ExportOptions(
                format="csv",
                criteria=JourneyFilter(),
                columns=tuple(column.key for column in COLUMNS),
                period="all",
            )
            for chunk in csv_chunks(ExportSource(owner=user, options=options)):
                target.write(chunk)
        archive.writestr("README.md", readme())
    return count


def _json(value: Any) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1).encode()


def _member(key: str, value: Any) -> bytes:
    return f" {json.dumps(key)}: ".encode() + _json(value)


def readme() -> str:
    """The archive's README: what each file and each journey field is."""
    fields = "\n".join(f"    - `{field.name}`: {field.verbose_name}" for field in journey_fields())
    return f"""# Trainy archive (schema version {SCHEMA_VERSION})

Everything Trainy held about you when this archive was made.

- `{ARCHIVE_NAME}`: one JSON object. `schema` is "{SCHEMA}", `schema_version` {SCHEMA_VERSION}
  (it changes only when a field goes or changes meaning; fields may be added).
  - `profile`, `settings`: your account and its settings.
  - `journeys`: every journey, oldest first, each `{{"id", "fields", "document"}}`: its id on the
    instance it came from, its fields by name (times in UTC, ISO 8601; amounts as decimal
    strings) and its journey document (stopovers, route, real-time observations; null if it had
    none or the document store was away, counted in `documents_missing`). The fields:
{fields}
  - `following`, `followers`, `follow_requests_sent`, `follow_requests_received`, `blocks`,
    `mutes`: usernames and since when.
  - `likes_given`, `notifications`.
  - `access_tokens` (names and scopes; never a secret), `apps_allowed` (OAuth2 apps you
    allowed), `webhooks` (URLs and events; never the signing secret), `browser_sessions`.
  - `exports`, `imports`: what you exported and imported, and when.
- `{CSV_NAME}`: your journeys as Trainy's CSV export writes them, every column.

Import `{ARCHIVE_NAME}` or this whole ZIP on another Trainy (My journeys → Import journeys) to
take your journeys there; importing it twice adds nothing.
"""
