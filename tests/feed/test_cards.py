"""feed.templatetags.cards: a card's body is rendered once and kept (in the process and in the
cache) until something it shows changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from checkins.models import Visibility
from feed.templatetags import cards
from tests.factories import CheckInFactory

pytestmark = pytest.mark.django_db


def test_a_cards_body_is_kept_until_something_it_shows_changes(alice):
    start = datetime(2026, 7, 1, 6, 5, tzinfo=UTC)
    journey = CheckInFactory(
        user=alice, visibility=Visibility.PUBLIC, message="first",
        departure_planned=start, arrival_planned=start + timedelta(hours=1),
    )  # fmt: skip
    with timezone.override("UTC"):
        body = cards.card_bodies([journey])[journey.id]
        assert "first" in body and "06:05" in body
        assert cards.card_bodies([journey])[journey.id] is body  # kept in this process
        cards._bodies.clear()
        again = cards.card_bodies([journey])[journey.id]
        assert again == body and again is not body  # from the cache
        journey.message = "second"
        journey.updated_at = timezone.now()
        assert "second" in cards.card_bodies([journey])[journey.id]
        alice.display_name = "Alice Renamed"
        assert "Alice Renamed" in cards.card_bodies([journey])[journey.id]
    with timezone.override("Europe/Berlin"):
        assert "08:05" in cards.card_bodies([journey])[journey.id]
