"""bench/seed.py: the data set of the feed benchmarks, on a small scale."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from datetime import timedelta
from io import StringIO
from itertools import pairwise
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command, get_commands
from django.db import connection
from django.db.models import F
from django.utils import timezone

from bench.seed import Command
from checkins.models import CheckIn, Visibility
from feed.models import Follow, Like, Notification
from tests.checkins.feeds import write_feed
from trainy.accounts.models import User

ROOT = Path(__file__).resolve().parents[2]
USERS = 30
JOURNEYS = 500


@pytest.fixture
def timetable(db, tmp_path):
    call_command("import_gtfs", str(write_feed(tmp_path / "feed")), name="test", verbosity=0)


def seed(**options: object) -> str:
    output = StringIO()
    options = {"users": USERS, "journeys": JOURNEYS, "seed": 7, **options}
    call_command(Command(), stdout=output, stderr=StringIO(), **options)
    return output.getvalue()


def seeded_journeys():
    return CheckIn.objects.filter(user__username__startswith="seed-user-")


def test_it_seeds_travellers_with_journeys_from_the_timetable(timetable):
    started = timezone.now()
    output = seed()

    assert f"users {USERS}" in output and f"journeys {JOURNEYS}" in output
    travellers = User.objects.filter(username__startswith="seed-user-")
    assert travellers.count() == USERS
    assert not any(user.has_usable_password() for user in travellers)
    assert all(user.display_name for user in travellers)
    journeys = seeded_journeys()
    assert journeys.count() == JOURNEYS
    assert not journeys.filter(arrival_planned__lte=F("departure_planned")).exists()
    assert not journeys.filter(departure_planned__gt=started + timedelta(minutes=1)).exists()
    assert not journeys.filter(departure_planned__lt=started - timedelta(days=731)).exists()
    assert not journeys.filter(enriched_at__isnull=True).exists()
    assert set(journeys.values_list("distance_method", flat=True)) == {"stop_to_stop"}
    # The small feed's stations, lines and times (no trip reference: the days are made up).
    assert set(journeys.values_list("origin_name", flat=True)) == {"Berlin Hbf"}
    assert set(journeys.values_list("line_name", flat=True)) <= {"ICE 1601", "S7"}
    assert set(journeys.values_list("trip_id", flat=True)) == {""}
    assert all(j.duration_s == j.planned_duration_s and j.distance_m > 0 for j in journeys)


def test_a_travellers_journeys_do_not_overlap(timetable):
    seed()

    by_user: dict[int, list[CheckIn]] = {}
    for journey in seeded_journeys().order_by("departure_planned"):
        by_user.setdefault(journey.user_id, []).append(journey)
    for journeys in by_user.values():
        for earlier, later in pairwise(journeys):
            assert later.departure_planned >= earlier.arrival_planned


def test_the_visibilities_are_mixed_as_in_real_use(timetable):
    seed()

    shares = Counter(seeded_journeys().values_list("visibility", flat=True))
    assert 0.6 < shares[Visibility.PUBLIC] / JOURNEYS < 0.8
    for visibility in Visibility.values:
        assert shares[visibility] > 0, visibility


def test_travellers_follow_and_like_each_other(timetable):
    seed()

    follows = Follow.objects.filter(follower__username__startswith="seed-user-")
    assert follows.exists()
    assert not follows.filter(follower=F("followee")).exists()
    assert not follows.filter(accepted=False, followee__private_profile=False).exists()
    likes = Like.objects.filter(user__username__startswith="seed-user-")
    assert likes.exists()
    assert not likes.filter(user=F("checkin__user")).exists()
    assert not likes.exclude(checkin__visibility=Visibility.PUBLIC).exists()
    assert not likes.filter(checkin__user__likes_enabled=False).exists()
    # A private profile's journeys are liked by its accepted followers only.
    for like in likes.filter(checkin__user__private_profile=True):
        assert Follow.objects.filter(
            follower=like.user, followee=like.checkin.user, accepted=True
        ).exists()
    assert Notification.objects.filter(kind=Notification.Kind.LIKE).count() == likes.count()


def test_it_refuses_to_seed_twice_unless_told_to_replace(timetable):
    seed()
    with pytest.raises(CommandError, match="--replace"):
        seed()

    seed(replace=True, users=10, journeys=100)

    assert User.objects.filter(username__startswith="seed-user-").count() == 10
    assert seeded_journeys().count() == 100
    assert not Like.objects.exclude(checkin__user__username__startswith="seed-user-").exists()


def test_it_puts_the_foreign_keys_back(timetable):
    def foreign_keys() -> list[tuple[str, str, str]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
                " FROM pg_constraint WHERE contype = 'f' ORDER BY 1, 2"
            )
            return cursor.fetchall()

    before = foreign_keys()
    seed()

    assert foreign_keys() == before


def test_it_needs_an_active_timetable(db):
    with pytest.raises(CommandError, match="import_gtfs"):
        seed()


def test_it_runs_as_a_script_with_the_commands_options():
    # Arguments it refuses before touching the database: Django set up, the options parsed.
    result = subprocess.run(
        [sys.executable, "bench/seed.py", "--users", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "--users must be at least 2" in result.stderr


def test_no_shipped_app_has_it():
    # The image copies the apps, not bench/ (.dockerignore; tests/deploy/test_image.py).
    assert "seed" not in get_commands()
