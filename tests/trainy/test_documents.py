"""One contract for both journey-document stores: MongoDB (the real FerretDB server) and SQL."""

from __future__ import annotations

import re

import pytest
from django.conf import settings

from tests.conftest import require_service
from trainy.documents import (
    INDEXES,
    DocumentStoreUnavailable,
    InvalidDocument,
    MongoJourneyStore,
    SqlJourneyStore,
)

JOURNEY = {
    "version": 1,
    "checkin_id": 7,
    "stopovers": [
        {"name": "Berlin Hbf", "lat": 52.5251, "lon": 13.3694, "departure_planned": "08:00"},
        {"name": "Hamburg Hbf", "lat": 53.553, "lon": 10.0069, "arrival_planned": "09:51"},
    ],
    "geometry": {"encoding": "polyline6", "path": "wa{dcBob_oXwrv}@fkflE", "points": 2},
    "distance": {"meters": 255_123, "method": "stop_to_stop"},
    "realtime": None,
    "flags": [True, False],
    "umlaut": "München Hbf – Zürich HB",
}


# The SQL store's param carries the django_db mark, so pytest-django sets the test database up
# before the test (asking for the `db` fixture from inside this fixture came too late when this
# module ran on its own: the queries went to the unmigrated development database).
@pytest.fixture(params=["mongodb", pytest.param("sql", marks=pytest.mark.django_db)])
def store(request):
    if request.param == "mongodb":
        mongo = MongoJourneyStore(require_service("ferretdb"), settings.MONGO_DB, timeout_ms=3000)
        mongo.drop_all()
        yield mongo
        mongo.drop_all()
    else:
        yield SqlJourneyStore()


def test_a_stored_document_comes_back_equal(store):
    store.put(7, JOURNEY)
    assert store.get(7) == JOURNEY


def test_an_unknown_id_has_no_document(store):
    assert store.get(404) is None


def test_put_replaces_the_previous_document_without_duplicates(store):
    store.put(7, JOURNEY)
    store.put(7, {**JOURNEY, "distance": {"meters": 1, "method": "shape"}})
    assert store.get(7)["distance"] == {"meters": 1, "method": "shape"}
    assert list(store.get_many([7])) == [7]


def test_put_many_stores_new_documents_and_replaces_existing_ones(store):
    store.put(2, {"n": "old"})
    store.put_many({1: {"n": 1}, 2: {"n": 2}, 3: JOURNEY})
    assert store.get_many([1, 2, 3]) == {1: {"n": 1}, 2: {"n": 2}, 3: JOURNEY}
    store.put_many({})
    with pytest.raises(InvalidDocument):
        store.put_many({4: {"$bad": 1}})


def test_delete_many_removes_those_documents_only(store):
    store.put_many({1: {"n": 1}, 2: {"n": 2}, 3: {"n": 3}})
    assert store.delete_many([1, 3, 99]) == 2
    assert store.get_many([1, 2, 3]) == {2: {"n": 2}}
    assert store.delete_many([]) == 0


def test_get_many_returns_only_the_existing_documents_by_id(store):
    store.put(1, {"n": 1})
    store.put(2, {"n": 2})
    store.put(3, {"n": 3})
    assert store.get_many([3, 1, 99]) == {1: {"n": 1}, 3: {"n": 3}}
    assert store.get_many([]) == {}


def test_delete_removes_and_reports_whether_there_was_one(store):
    store.put(5, JOURNEY)
    assert store.delete(5) is True
    assert store.get(5) is None
    assert store.delete(5) is False


def test_tuples_are_stored_as_lists_on_both_backends(store):
    store.put(8, {"point": (13.37, 52.52)})
    assert store.get(8) == {"point": [13.37, 52.52]}


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (["not", "a", "dict"], "must be a dict"),
        ({"when": object()}, "JSON-serialisable"),
        ({"nan": float("nan")}, "JSON-serialisable"),
        ({"$set": 1}, "key '$set' may not start with '$'"),
        ({"a": {"b.c": 1}}, "key 'a.b.c' may not start with '$' or contain '.'"),
        ({"line": [[13.3, 52.5], [10.0, 53.5]]}, "line[0] is a list inside a list"),
    ],
)
def test_both_backends_reject_the_same_bad_documents(store, document, reason):
    with pytest.raises(InvalidDocument, match=re.escape(reason)):
        store.put(9, document)
    assert store.get(9) is None


@pytest.mark.parametrize("bad_id", [0, -1, "7", True, None])
def test_ids_must_be_positive_ints(store, bad_id):
    with pytest.raises(InvalidDocument, match="positive int"):
        store.get(bad_id)


def test_ensure_indexes_is_idempotent(store):
    store.ensure_indexes()
    store.ensure_indexes()
    store.put(1, JOURNEY)
    assert store.get(1) == JOURNEY


def test_ping_answers_when_the_server_is_up(store):
    store.ping()


def test_the_mongodb_store_keeps_exactly_its_indexes():
    mongo = MongoJourneyStore(require_service("ferretdb"), settings.MONGO_DB, timeout_ms=3000)
    mongo.put(1, JOURNEY)
    mongo._collection.create_index([("stored_at", 1)], name="stored_at")  # an earlier version's
    mongo.ensure_indexes()
    mongo.ensure_indexes()
    names = {index["name"] for index in mongo._collection.list_indexes()}
    assert names == {"_id_", *INDEXES}
    assert mongo.get(1) == JOURNEY


def test_an_unreachable_server_is_a_clear_error_within_the_timeout():
    # Port 9 (discard) is closed on this machine: nothing listens there.
    mongo = MongoJourneyStore("mongodb://127.0.0.1:9/", "trainy_test", timeout_ms=300)
    with pytest.raises(DocumentStoreUnavailable, match="MongoDB is unavailable"):
        mongo.put(1, JOURNEY)
    with pytest.raises(DocumentStoreUnavailable):
        mongo.ping()
