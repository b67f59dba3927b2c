"""trainy.generations: a named cache generation, whole-site or per scope, moved on after commit,
with keys built from it; a cache outage is a miss, never an error."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import transaction

from trainy.generations import Generation


@pytest.fixture
def generation() -> Generation:
    # A name of its own: the cache outlives the test.
    return Generation(f"test-{uuid.uuid4().hex[:8]}")


def test_keys_carry_the_name_the_scope_and_the_current_generation(generation):
    generation.move_on()
    now = generation.current()
    assert now != 0
    assert generation.key("html", "anonymous", "/") == f"{generation.name}:{now}:html:anonymous:/"
    assert generation.key("digest", scope=7) == f"{generation.name}:7:0:digest"


def test_moving_on_changes_the_key_and_the_old_entries_are_not_read(generation):
    cache.set(generation.key("page"), "old", 60)
    generation.move_on()
    assert cache.get(generation.key("page")) is None
    assert cache.get(f"{generation.name}:0:page") == "old"  # left to expire on its own


def test_each_scope_moves_on_alone(generation):
    alices, bobs = generation.key("x", scope=1), generation.key("x", scope=2)
    generation.move_on(1)
    assert generation.key("x", scope=1) != alices
    assert generation.key("x", scope=2) == bobs
    assert generation.key("x") == f"{generation.name}:0:x"


def test_an_evicted_counter_starts_a_new_generation_all_the_same(generation):
    generation.move_on()
    before = generation.current()
    cache.delete(f"{generation.name}:generation")  # evicted
    generation.move_on()
    assert generation.current() not in (0, before)


@pytest.mark.django_db(transaction=True)
def test_a_change_takes_effect_when_its_transaction_commits(generation):
    with transaction.atomic():
        generation.changed(5)
        assert generation.current(5) == 0  # a reader now still caches under the old one
    assert generation.current(5) != 0


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_leaves_the_generation(generation):
    with pytest.raises(RuntimeError), transaction.atomic():
        generation.changed()
        raise RuntimeError
    assert generation.current() == 0


def test_the_on_commit_callback_says_which_generation_it_moves(
    db, generation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        generation.changed()
    assert [callback.__name__ for callback in callbacks] == [f"_next_{generation.name}_generation"]


@pytest.mark.outage
def test_a_cache_outage_reads_as_generation_zero_and_moving_on_does_nothing(services):
    generation = Generation(f"test-{uuid.uuid4().hex[:8]}")
    generation.move_on()
    services.stop("redis")
    assert generation.current() == 0
    generation.move_on()  # neither raises nor blocks
    assert generation.key("page") == f"{generation.name}:0:page"


def test_a_request_reads_each_counter_once_and_sees_its_own_change(generation):
    # Django's request signals, as a server sends them around each request.
    generation.move_on()
    first = generation.current()
    request_started.send(sender=None)
    try:
        assert generation.current() == first
        cache.set(f"{generation.name}:generation", first + 100, None)  # another process's move
        assert generation.current() == first  # the page is built from one generation
        generation.move_on()  # this request's own change
        assert generation.current() == first + 101
    finally:
        request_finished.send(sender=None)
    cache.set(f"{generation.name}:generation", first + 500, None)
    assert generation.current() == first + 500  # outside a request, read every time
