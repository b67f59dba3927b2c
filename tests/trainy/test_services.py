"""model_update: the fields set are the fields saved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checkins.models import CheckIn
from tests.factories import CheckInFactory
from trainy.accounts.models import User
from trainy.services import model_update

pytestmark = pytest.mark.django_db


def test_it_saves_every_field_it_sets_and_says_which_changed(alice):
    changed = model_update(
        instance=alice,
        data={"leaderboard_opt_out": True, "private_profile": True, "likes_enabled": True},
    )
    assert changed == ["leaderboard_opt_out", "private_profile"]  # likes were on already
    stored = User.objects.get(pk=alice.pk)
    assert (stored.leaderboard_opt_out, stored.private_profile) == (True, True)


def test_it_writes_only_the_changed_columns_and_the_time_of_the_change(alice):
    journey = CheckInFactory(user=alice, message="before", distance_m=None)
    stale = CheckIn.objects.get(id=journey.id)
    before = stale.updated_at - timedelta(seconds=1)
    CheckIn.objects.filter(id=journey.id).update(distance_m=42_000, updated_at=before)

    with CaptureQueriesContext(connection) as queries:
        model_update(instance=stale, data={"message": "after", "distance_m": None})

    [update] = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert '"message"' in update and '"updated_at"' in update and '"distance_m"' not in update
    stored = CheckIn.objects.get(id=journey.id)
    assert (stored.message, stored.distance_m) == ("after", 42_000)
    assert stored.updated_at > before


def test_nothing_is_written_when_nothing_changed(alice):
    with CaptureQueriesContext(connection) as queries:
        assert model_update(instance=alice, data={"display_name": alice.display_name}) == []
    assert len(queries) == 0


def test_a_bad_value_is_refused_per_field_and_not_saved(alice):
    journey = CheckInFactory(user=alice, message="fine")
    with pytest.raises(ValidationError) as refused:
        model_update(instance=journey, data={"message": "x" * 281})
    assert list(refused.value.message_dict) == ["message"]
    assert CheckIn.objects.get(id=journey.id).message == "fine"


def test_a_name_that_is_not_a_field_is_refused(alice):
    with pytest.raises(FieldDoesNotExist):
        model_update(instance=alice, data={"leaderboard_optout": True})
    with pytest.raises(FieldDoesNotExist):
        model_update(instance=alice, data={"groups": []})
