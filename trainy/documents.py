"""The journey-document store: one schemaless document per check-in.

MongoDB holds the enriched detail of each journey (stopovers, route geometry, realtime snapshots,
provenance). It is derived data: losing it loses no check-in, because enrichment can rebuild it
from PostgreSQL and the timetable. This is the only module that imports pymongo.

With ``MONGO_URL`` unset (the embedded default) the same interface stores documents in the SQL
database, so the rest of Trainy never asks which backend it has.

Documents are JSON objects (dicts of str, int, float, bool, None, lists and dicts) keyed by the
check-in id, without lists directly inside lists: FerretDB, the MongoDB server of the test
harness, rejects nested arrays, so geometries are stored as encoded polylines (checkins.geo).
Both backends reject anything else the same way, so code that works on the embedded default
works on every MongoDB server.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from django.conf import settings

Document = dict[str, Any]

COLLECTION = "journeys"
# MongoDB's (and FerretDB's) error code for an _id already taken.
DUPLICATE_KEY = 11000


class DocumentStoreError(Exception):
    """Base class of the store's errors."""


class DocumentStoreUnavailable(DocumentStoreError):
    """The document server cannot be reached; the caller may retry later."""


class InvalidDocument(DocumentStoreError, ValueError):
    """The document is not a JSON object the store can keep."""


class JourneyDocumentStore(Protocol):
    backend: str

    def put(self, checkin_id: int, document: Document) -> None:
        """Store ``document`` for the check-in, replacing any previous one."""

    def put_many(self, documents: Mapping[int, Document]) -> None:
        """Store the documents of many check-ins (an import) in a few round trips, replacing
        any previous ones."""

    def get(self, checkin_id: int) -> Document | None:
        """The document of the check-in, or None."""

    def get_many(self, checkin_ids: Iterable[int]) -> dict[int, Document]:
        """The documents of the check-ins that have one, by check-in id, in one round trip."""

    def delete(self, checkin_id: int) -> bool:
        """Remove the check-in's document; True if there was one."""

    def delete_many(self, checkin_ids: Iterable[int]) -> int:
        """Remove the documents of many check-ins, in a few round trips; how many there were."""

    def ensure_indexes(self) -> None:
        """Create the store's indexes if they are missing (idempotent)."""

    def ping(self) -> None:
        """Raise DocumentStoreUnavailable unless the backend answers."""


def validate_document(document: Any) -> Document:
    """Check that the document is a JSON object with keys MongoDB accepts; return a copy.

    The copy goes through JSON so that both backends store, and give back, exactly the same
    values (tuples become lists, no datetimes or Decimals sneak in).
    """
    if not isinstance(document, dict):
        raise InvalidDocument(f"a journey document must be a dict, got {type(document).__name__}")
    try:
        copy = json.loads(json.dumps(document, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidDocument(f"a journey document must be JSON-serialisable: {exc}") from None
    _check_keys(copy, path="")
    return copy


def _check_keys(value: Any, *, path: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if key.startswith("$") or "." in key or "\x00" in key:
                raise InvalidDocument(f"key {where!r} may not start with '$' or contain '.'")
            _check_keys(item, path=where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, list):
                raise InvalidDocument(
                    f"{path}[{index}] is a list inside a list, which FerretDB cannot store; "
                    "encode it (e.g. coordinates as a polyline string) or wrap it in an object"
                )
            _check_keys(item, path=f"{path}[{index}]")


def _check_id(checkin_id: Any) -> int:
    if isinstance(checkin_id, bool) or not isinstance(checkin_id, int) or checkin_id <= 0:
        raise InvalidDocument(f"a check-in id must be a positive int, got {checkin_id!r}")
    return checkin_id


# Secondary indexes of the journeys collection, by name. None: every read is by _id, and
# re-enrichment finds old documents through PostgreSQL. Each secondary index would also make
# every write on FerretDB's SQLite backend (the test stand-in) cost time linear in the
# collection's size: an upsert took 1.2 ms with none and 40 ms with two at 2,000 documents.
INDEXES: dict[str, list[tuple[str, int]]] = {}


def _key(checkin_id: int) -> str:
    """The document's _id. A string, not the int: FerretDB (the test and development stand-in
    for MongoDB) filters string ids in SQL and decodes every document of the collection to
    compare integer ones, a hundred times slower at a few thousand documents. MongoDB is as
    fast with either."""
    return str(checkin_id)


class MongoJourneyStore:
    """Documents in a MongoDB collection, ``_id`` = the check-in id as a string."""

    backend = "mongodb"

    def __init__(self, url: str, database: str, *, timeout_ms: int) -> None:
        # Imported here so that the embedded default does not need pymongo's server bits loaded.
        import pymongo
        from pymongo.errors import (
            BulkWriteError,
            ConfigurationError,
            DuplicateKeyError,
            PyMongoError,
        )

        self._pymongo = pymongo
        self._errors = PyMongoError
        self._duplicate_key = DuplicateKeyError
        self._bulk_write_error = BulkWriteError
        try:
            self._client: Any = pymongo.MongoClient(
                url,
                # Short timeouts: a request must not hang for 30 s (pymongo's default) when the
                # server is away; enrichment retries later instead.
                serverSelectionTimeoutMS=timeout_ms,
                connectTimeoutMS=timeout_ms,
                socketTimeoutMS=timeout_ms * 5,
                retryWrites=True,
                appname="trainy",
                tz_aware=True,
            )
        except ConfigurationError as exc:
            raise DocumentStoreError(f"MONGO_URL is not usable: {exc}") from None
        self._collection = self._client[database][COLLECTION]
        self._indexed = False
        self._index_lock = threading.Lock()

    def _unavailable(self, exc: Exception) -> DocumentStoreUnavailable:
        return DocumentStoreUnavailable(f"MongoDB is unavailable: {exc.__class__.__name__}: {exc}")

    def _ensure_indexes_once(self) -> None:
        if not self._indexed:
            self.ensure_indexes()

    def ensure_indexes(self) -> None:
        """Make the collection's indexes exactly INDEXES (plus _id): create what is missing,
        drop what an earlier version left."""
        with self._index_lock:
            try:
                existing = {index["name"] for index in self._collection.list_indexes()}
                for name, keys in INDEXES.items():
                    if name not in existing:
                        self._collection.create_index(keys, name=name)
                for name in existing - set(INDEXES) - {"_id_"}:
                    self._collection.drop_index(name)
            except self._errors as exc:
                raise self._unavailable(exc) from exc
            self._indexed = True

    @staticmethod
    def _record(checkin_id: int, document: Document) -> dict[str, Any]:
        body = validate_document(document)
        return {
            "_id": _key(_check_id(checkin_id)),
            "doc": body,
            "version": body.get("version"),
            "stored_at": datetime.now(UTC),
        }

    def put(self, checkin_id: int, document: Document) -> None:
        record = self._record(checkin_id, document)
        self._ensure_indexes_once()
        try:
            try:
                # Most documents are written once, so insert first: the unique _id index
                # answers it at once, while FerretDB's update finds the document to replace by
                # scanning the collection (its SQL never matches its own _id index), 20 ms at a
                # few thousand documents against 1 ms for the insert.
                self._collection.insert_one(record)
            except self._duplicate_key:
                # Enriched again (after an edit, or a retried task): replace, never duplicate.
                self._collection.replace_one({"_id": record["_id"]}, record, upsert=True)
        except self._errors as exc:
            raise self._unavailable(exc) from exc

    def put_many(self, documents: Mapping[int, Document]) -> None:
        records = [self._record(checkin_id, document) for checkin_id, document in documents.items()]
        if not records:
            return
        self._ensure_indexes_once()
        try:
            try:
                # New journeys have no document yet: one unordered insert (see put).
                self._collection.insert_many(records, ordered=False)
            except self._bulk_write_error as exc:
                taken = {
                    records[error["index"]]["_id"]
                    for error in exc.details.get("writeErrors", [])
                    if error.get("code") == DUPLICATE_KEY
                }
                if len(taken) < len(exc.details.get("writeErrors", [])):
                    raise
                for record in records:
                    if record["_id"] in taken:
                        self._collection.replace_one({"_id": record["_id"]}, record, upsert=True)
        except self._errors as exc:
            raise self._unavailable(exc) from exc

    def get(self, checkin_id: int) -> Document | None:
        checkin_id = _check_id(checkin_id)
        try:
            record = self._collection.find_one({"_id": _key(checkin_id)}, {"doc": 1})
        except self._errors as exc:
            raise self._unavailable(exc) from exc
        return None if record is None else record["doc"]

    def get_many(self, checkin_ids: Iterable[int]) -> dict[int, Document]:
        ids = sorted({_check_id(checkin_id) for checkin_id in checkin_ids})
        if not ids:
            return {}
        try:
            cursor = self._collection.find({"_id": {"$in": [_key(i) for i in ids]}}, {"doc": 1})
            return {int(record["_id"]): record["doc"] for record in cursor}
        except self._errors as exc:
            raise self._unavailable(exc) from exc

    def delete(self, checkin_id: int) -> bool:
        checkin_id = _check_id(checkin_id)
        try:
            return self._collection.delete_one({"_id": _key(checkin_id)}).deleted_count == 1
        except self._errors as exc:
            raise self._unavailable(exc) from exc

    def delete_many(self, checkin_ids: Iterable[int]) -> int:
        keys = [_key(_check_id(checkin_id)) for checkin_id in checkin_ids]
        deleted = 0
        try:
            for start in range(0, len(keys), 1000):
                result = self._collection.delete_many({"_id": {"$in": keys[start : start + 1000]}})
                deleted += result.deleted_count
        except self._errors as exc:
            raise self._unavailable(exc) from exc
        return deleted

    def ping(self) -> None:
        try:
            self._client.admin.command("ping")
        except self._errors as exc:
            raise self._unavailable(exc) from exc

    def drop_all(self) -> None:
        """Remove every document (tests only)."""
        try:
            self._collection.delete_many({})
        except self._errors as exc:
            raise self._unavailable(exc) from exc


class SqlJourneyStore:
    """Documents in the SQL database (``checkins.JourneyDocument``), for the embedded default."""

    backend = "sql"

    @property
    def _model(self) -> Any:
        from checkins.models import JourneyDocument

        return JourneyDocument

    @contextmanager
    def _database(self) -> Iterator[None]:
        from django.db import DatabaseError

        try:
            yield
        except DatabaseError as exc:
            raise DocumentStoreUnavailable(f"the database is unavailable: {exc}") from exc

    def ensure_indexes(self) -> None:
        # The table's indexes are created by its migration.
        return None

    def put(self, checkin_id: int, document: Document) -> None:
        checkin_id = _check_id(checkin_id)
        body = validate_document(document)
        with self._database():
            self._model.objects.update_or_create(
                checkin_id=checkin_id,
                defaults={"document": body, "version": body.get("version")},
            )

    def put_many(self, documents: Mapping[int, Document]) -> None:
        rows = [
            self._model(
                checkin_id=_check_id(checkin_id),
                document=(body := validate_document(document)),
                version=body.get("version"),
            )
            for checkin_id, document in documents.items()
        ]
        with self._database():
            self._model.objects.bulk_create(
                rows,
                batch_size=500,
                update_conflicts=True,
                unique_fields=["checkin_id"],
                update_fields=["document", "version", "stored_at"],
            )

    def get(self, checkin_id: int) -> Document | None:
        checkin_id = _check_id(checkin_id)
        with self._database():
            rows = self._model.objects.filter(checkin_id=checkin_id).values_list(
                "document", flat=True
            )
            return next(iter(rows), None)

    def get_many(self, checkin_ids: Iterable[int]) -> dict[int, Document]:
        ids = {_check_id(checkin_id) for checkin_id in checkin_ids}
        if not ids:
            return {}
        with self._database():
            rows = self._model.objects.filter(checkin_id__in=ids)
            return dict(rows.values_list("checkin_id", "document"))

    def delete(self, checkin_id: int) -> bool:
        checkin_id = _check_id(checkin_id)
        with self._database():
            deleted, _ = self._model.objects.filter(checkin_id=checkin_id).delete()
        return deleted == 1

    def delete_many(self, checkin_ids: Iterable[int]) -> int:
        ids = [_check_id(checkin_id) for checkin_id in checkin_ids]
        with self._database():
            deleted, _ = self._model.objects.filter(checkin_id__in=ids).delete()
        return int(deleted)

    def ping(self) -> None:
        from django.db import connection

        with self._database():
            connection.ensure_connection()

    def drop_all(self) -> None:
        """Remove every document (tests only)."""
        with self._database():
            self._model.objects.all().delete()


_store: JourneyDocumentStore | None = None
_store_lock = threading.Lock()


def journey_store() -> JourneyDocumentStore:
    """The configured store, built once per process on first use."""
    global _store
    if _store is None:
        with _store_lock:
            if _store is None:
                url: str | None = settings.MONGO_URL
                if url:
                    _store = MongoJourneyStore(
                        url, settings.MONGO_DB, timeout_ms=settings.MONGO_TIMEOUT_MS
                    )
                else:
                    _store = SqlJourneyStore()
    return _store
