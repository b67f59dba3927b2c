from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone

from checkins.enrichment import OVERVIEW_MAX_POINTS
from checkins.geo import MAP_PRECISION, decode_path
from checkins.models import CheckIn, Visibility
from checkins.services.checkins import checkin_from_trip, checkin_update
from checkins.services.enrichment_lifecycle import journey_enrich
from tests.checkins.feeds import write_feed
from tests.factories import CheckInFactory, manual_checkin
from trainy.documents import journey_store

pytestmark = pytest.mark.django_db


def test_it_records_a_manual_journey(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        checkin = manual_checkin(alice, message="Off we go", visibility=Visibility.PRIVATE)
    assert CheckIn.objects.get(id=checkin.id).message == "Off we go"
    # After the commit: enrichment is queued once, cached feed pages and statistics let go.
    names = [callback.__name__ for callback in callbacks]
    assert len(names) == 3 and "_next_feed_generation" in names, names


def test_it_rejects_an_arrival_before_the_departure(alice):
    departure = timezone.now()
    with pytest.raises(ValidationError) as error:
        manual_checkin(
            alice, departure_planned=departure, arrival_planned=departure - timedelta(minutes=1)
        )
    assert "The arrival must be after the departure." in str(error.value)
    assert not CheckIn.objects.exists()


def test_it_rejects_a_message_of_281_characters(alice):
    with pytest.raises(ValidationError) as error:
        manual_checkin(alice, message="x" * 281)
    assert "message" in error.value.message_dict


def test_it_rejects_an_unknown_visibility(alice):
    with pytest.raises(ValidationError) as error:
        manual_checkin(alice, visibility="everyone")
    assert "visibility" in error.value.message_dict


def test_the_database_enforces_the_rules_too(alice):
    now = timezone.now()
    with pytest.raises(IntegrityError):
        CheckInFactory(user=alice, departure_planned=now, arrival_planned=now)


def test_enrichment_is_idempotent(alice):
    checkin = CheckInFactory(user=alice)
    first = journey_enrich(checkin_id=checkin.id)
    document = journey_store().get(checkin.id)
    second = journey_enrich(checkin_id=checkin.id)
    assert journey_store().get(checkin.id) == document
    assert first.distance_m == second.distance_m
    assert document["distance"]["method"] == "stop_to_stop"
    assert decode_path(document["geometry"]["path"]) == [(52.5251, 13.3694), (53.553, 10.0069)]


def test_enrichment_writes_a_bounded_overview_of_a_long_route(alice, tmp_path):
    # The test feed's ICE from Berlin to Hamburg along a winding shape of 3,000 points.
    lat0, lon0, lat1, lon1 = 52.5251, 13.3694, 53.5530, 10.0069
    rows = [
        f"SH1,{lat0 + (lat1 - lat0) * n / 2999 + 0.02 * math.sin(n / 15):.6f},"
        f"{lon0 + (lon1 - lon0) * n / 2999:.6f},{n + 1}"
        for n in range(3000)
    ]
    shapes = "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n" + "\n".join(rows) + "\n"
    feed = write_feed(tmp_path / "feed", {"shapes.txt": shapes})
    call_command("import_gtfs", str(feed), name="test", verbosity=0)
    checkin = checkin_from_trip(
        user=alice, feed="test", trip_id="T1", service_date=date(2019, 6, 3),
        origin_seq=1, destination_seq=2,
    )  # fmt: skip
    journey_enrich(checkin_id=checkin.id)
    geometry = journey_store().get(checkin.id)["geometry"]
    route = decode_path(geometry["path"])
    assert geometry["points"] == len(route) == 3000
    overview = decode_path(geometry["overview"]["path"], MAP_PRECISION)
    assert geometry["overview"]["encoding"] == "polyline5"
    assert geometry["overview"]["points"] == len(overview) == OVERVIEW_MAX_POINTS
    # Points of the route (to the metre: within half of the fifth place and half of the sixth),
    # in its order, from the first stop to the last.
    assert overview[0] == route[0] == (52.5252, 13.3695)  # Berlin Hbf, platform 1
    assert overview[-1] == route[-1] == (53.553, 10.0069)
    positions = [
        next(
            index
            for index, (lat, lon) in enumerate(route)
            if abs(lat - point[0]) <= 6e-6 and abs(lon - point[1]) <= 6e-6
        )
        for point in overview
    ]
    assert positions == sorted(positions)


def test_the_overview_of_a_two_point_route_is_the_route(alice):
    checkin = CheckInFactory(user=alice)
    journey_enrich(checkin_id=checkin.id)
    overview = journey_store().get(checkin.id)["geometry"]["overview"]
    assert decode_path(overview["path"], MAP_PRECISION) == [(52.5251, 13.3694), (53.553, 10.0069)]
    assert overview["points"] == 2


def test_enrichment_without_coordinates_leaves_the_distance_unknown(alice):
    checkin = CheckInFactory(user=alice, origin_lat=None, origin_lon=None)
    enriched = journey_enrich(checkin_id=checkin.id)
    assert enriched.distance_m is None
    assert enriched.distance_method == "unknown"
    assert enriched.duration_s == checkin.planned_duration_s


def test_enrichment_of_a_deleted_checkin_does_nothing(alice):
    assert journey_enrich(checkin_id=123456) is None


def test_the_sweeper_requeues_lost_enrichments_but_not_ones_still_retrying(alice):
    from checkins.services.enrichment_lifecycle import ENRICHMENT_RETRY_WINDOW, enrichment_sweep

    long_ago = timezone.now() - timedelta(hours=2)
    lost = CheckInFactory(user=alice)
    retrying = CheckInFactory(user=alice)
    CheckIn.objects.filter(id=lost.id).update(created_at=long_ago)
    CheckIn.objects.filter(id=retrying.id).update(
        created_at=long_ago, enrichment_queued_at=timezone.now() - timedelta(minutes=1)
    )
    assert enrichment_sweep() == 1
    lost.refresh_from_db()
    assert lost.enrichment_queued_at is not None
    assert enrichment_sweep() == 0  # just queued: left alone
    CheckIn.objects.filter(id=retrying.id).update(
        enrichment_queued_at=timezone.now() - ENRICHMENT_RETRY_WINDOW - timedelta(minutes=1)
    )
    assert enrichment_sweep() == 1


def test_enriching_a_journey_deleted_meanwhile_leaves_no_document(alice, monkeypatch):
    checkin = CheckInFactory(user=alice)
    from checkins.services import enrichment_lifecycle

    real_build = enrichment_lifecycle.build_document

    def build_then_delete(row):
        document = real_build(row)
        CheckIn.objects.filter(id=row.id).delete()  # the traveller deletes it meanwhile
        return document

    monkeypatch.setattr(enrichment_lifecycle, "build_document", build_then_delete)
    assert journey_enrich(checkin_id=checkin.id) is None
    assert journey_store().get(checkin.id) is None


def test_an_edit_keeps_the_figures_an_enrichment_wrote_meanwhile(alice):
    journey = CheckInFactory(user=alice, message="before", distance_m=None)
    on_the_edit_page = CheckIn.objects.get(id=journey.id)
    # The enrichment task finishes while the traveller is on the edit page.
    CheckIn.objects.filter(id=journey.id).update(distance_m=284_000, duration_s=6660)

    checkin_update(checkin=on_the_edit_page, message="after", visibility="public",
                   purpose="private")  # fmt: skip

    stored = CheckIn.objects.get(id=journey.id)
    assert (stored.message, stored.distance_m, stored.duration_s) == ("after", 284_000, 6660)


def test_an_edit_that_changes_nothing_lets_no_cache_go(alice, django_capture_on_commit_callbacks):
    journey = CheckInFactory(user=alice, message="same", visibility="public", purpose="private")
    with django_capture_on_commit_callbacks() as callbacks:
        checkin_update(checkin=journey, message="same", visibility="public", purpose="private")
    assert callbacks == []
