"""Check-in writes over the API: POST /api/v1/checkins/ (from a trip) and /checkins/manual/
(by hand), the overlap answer (409 with the conflicting journeys) and ``force``, a retry with
the same idempotency key; PATCH and DELETE /api/v1/journeys/{id}/ on one's own journeys only.
All through the pages' services, so their rules and webhooks hold here too."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from checkins.models import CheckIn, Visibility
from feed.models import WebhookDelivery, WebhookEvent
from feed.services.webhooks import webhook_endpoint_create
from tests.apiclient import bearer, error_of, token_for
from tests.checkins.feeds import FILES, write_feed
from tests.factories import CheckInFactory, manual_checkin
from trainy.accounts.models import AccessToken
from trainy.accounts.services import token_revoke

pytestmark = pytest.mark.django_db

CHECKINS = "/api/v1/checkins/"
MANUAL = "/api/v1/checkins/manual/"
JSON = "application/json"
# T1 (ICE 1601) runs on to München, so a journey on it has a later exit stop to move to.
STOP_TIMES = FILES["stop_times.txt"].replace(
    "T1,HAM,2,09:51:00,09:51:00\n", "T1,HAM,2,09:51:00,09:55:00\nT1,MUC,3,15:40:00,15:40:00\n"
)
# A Monday the test feed's weekday service runs on.
DAY = "2019-06-03"
TRIP = {"feed": "test", "trip_id": "T1", "service_date": DAY, "origin_seq": 1,
        "destination_seq": 2}  # fmt: skip


@pytest.fixture
def feed(tmp_path):
    folder = write_feed(tmp_path, {"stop_times.txt": STOP_TIMES})
    call_command("import_gtfs", str(folder), name="test", verbosity=0)


@pytest.fixture
def api(alice):
    return bearer(token_for(alice, ("read", "checkins:write")))


def manual_body(**changes) -> dict:
    departure = timezone.now() - timedelta(hours=1)
    return {
        "line_name": "RE 1",
        "mode": "regional",
        "origin_name": "Berlin Ostbahnhof",
        "origin_lat": 52.5104,
        "origin_lon": 13.435,
        "destination_name": "Frankfurt (Oder)",
        "destination_lat": 52.3367,
        "destination_lon": 14.5466,
        "departure_planned": departure.isoformat(),
        "arrival_planned": (departure + timedelta(minutes=75)).isoformat(),
    } | changes


def post(client, url: str, body: dict):
    return client.post(url, body, content_type=JSON)


# --- Checking in --------------------------------------------------------------------------------


def test_it_checks_in_to_a_trip_from_stop_to_stop(api, alice, feed):
    alice.default_visibility = Visibility.FOLLOWERS
    alice.save()
    response = post(api, CHECKINS, {**TRIP, "message": "To the meeting", "purpose": "business"})
    assert response.status_code == 201, response.content
    checkin = CheckIn.objects.get(user=alice)
    assert response["Location"] == f"http://testserver/api/v1/journeys/{checkin.id}/"
    body = response.json()
    assert body["id"] == checkin.id and body["traveller"]["username"] == "alice"
    assert (body["feed"], body["trip_id"], body["service_date"]) == ("test", "T1", DAY)
    assert (body["origin_name"], body["destination_name"]) == (
        "Berlin Hbf",
        "Hamburg Hbf, Fernbahn",
    )
    assert (body["line_name"], body["message"], body["purpose"]) == (
        "ICE 1601", "To the meeting", "business",
    )  # fmt: skip
    assert body["visibility"] == "followers"  # the traveller's default, as on the page
    assert body["departure_planned"] == "2019-06-03T08:02:00+02:00"
    assert (body["like_count"], body["liked"]) == (0, False)
    assert (checkin.origin_seq, checkin.destination_seq) == (1, 2)
    assert bearer(token_for(alice, ("read",))).get(response["Location"]).json() == body


def test_it_checks_in_by_hand_as_the_manual_page_does(api, alice):
    response = post(api, MANUAL, manual_body(message="Off we go", visibility="private",
                                             operator_name="ODEG"))  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["line_name"], body["mode"], body["operator_name"]) == ("RE 1", "regional", "ODEG")
    assert (body["feed"], body["trip_id"], body["service_date"]) == ("", "", None)
    assert (body["visibility"], body["message"]) == ("private", "Off we go")
    checkin = CheckIn.objects.get(id=body["id"])
    assert (checkin.origin_lat, checkin.destination_lon) == (52.5104, 14.5466)


def test_times_without_an_offset_are_read_in_the_journeys_time_zone(api):
    body = manual_body(departure_planned="2026-03-02T08:00", arrival_planned="2026-03-02T09:15",
                       time_zone="America/New_York")  # fmt: skip
    response = post(api, MANUAL, body)
    assert response.status_code == 201, response.content
    checkin = CheckIn.objects.get(id=response.json()["id"])
    assert checkin.departure_planned.isoformat() == "2026-03-02T13:00:00+00:00"  # 08:00 EST
    assert checkin.time_zone == "America/New_York"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"feed": None}, "feed"),
        ({"feed": "not a slug"}, "feed"),
        ({"trip_id": "x" * 256}, "trip_id"),
        ({"service_date": "2200-01-01"}, "service_date"),
        ({"service_date": "someday"}, "service_date"),
        ({"origin_seq": -1}, "origin_seq"),
        ({"destination_seq": 2**31}, "destination_seq"),
        ({"destination_seq": 1}, "destination_seq"),  # not after the entry stop (the service)
        ({"message": "x" * 281}, "message"),
        ({"visibility": "everyone"}, "visibility"),
        ({"purpose": "holiday"}, "purpose"),
        ({"idempotency_key": "again"}, "idempotency_key"),
        ({"force": "maybe"}, "force"),
    ],
)
def test_a_bad_trip_check_in_is_a_400_naming_the_field(api, feed, change, field):
    response = post(api, CHECKINS, {**TRIP, **change})
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "invalid" and field in error["fields"], error
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"trip_id": "NO-SUCH-TRIP"}, "This trip does not run on that day"),
        ({"service_date": "2019-06-08"}, "This trip does not run on that day"),  # a Saturday
        ({"destination_seq": 9}, "not a stop of this trip"),
    ],
)
def test_a_trip_or_stop_the_timetable_does_not_have_is_a_400_saying_so(api, feed, change, message):
    response = post(api, CHECKINS, {**TRIP, **change})
    assert response.status_code == 400
    assert message in error_of(response)["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"line_name": ""}, "line_name"),
        ({"line_name": "x" * 101}, "line_name"),
        ({"operator_name": "x" * 201}, "operator_name"),
        ({"origin_name": "x" * 201}, "origin_name"),
        ({"destination_name": None}, "destination_name"),
        ({"origin_lat": 91}, "origin_lat"),
        ({"destination_lon": -181}, "destination_lon"),
        ({"origin_lon": None}, "origin_lon"),  # a latitude alone places nothing
        ({"mode": "rocket"}, "mode"),
        ({"departure_planned": "2200-01-01T08:00:00+01:00"}, "departure_planned"),
        ({"departure_planned": "1899-12-31T23:00:00"}, "departure_planned"),
        ({"arrival_planned": "9999-12-31T23:59:59-14:00"}, "arrival_planned"),
        ({"arrival_planned": "yesterday"}, "arrival_planned"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": "x" * 65}, "time_zone"),
        ({"message": "x" * 281}, "message"),
        # The service's rules, with the page's messages.
        ({"arrival_planned": (timezone.now() - timedelta(hours=2)).isoformat()}, "arrival_planned"),
        ({"destination_lat": 48.8566, "destination_lon": 2.3522}, "arrival_planned"),  # to Paris
    ],
)
def test_a_bad_manual_check_in_is_a_400_naming_the_field(api, change, field):
    response = post(api, MANUAL, manual_body(**change))
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "invalid" and field in error["fields"], error
    assert not CheckIn.objects.exists()


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "{not json", ""])
def test_a_body_that_is_no_json_object_is_a_400(api, body):
    response = api.post(MANUAL, body, content_type=JSON)
    assert response.status_code == 400
    assert error_of(response)["code"] in ("invalid", "parse_error")


# --- Overlaps and retries -----------------------------------------------------------------------


def test_an_overlap_is_a_409_with_the_conflicting_journeys_and_force_checks_in_anyway(
    api, alice, feed
):
    first = post(api, CHECKINS, TRIP).json()
    other = manual_checkin(alice)  # today: no overlap with 2019's
    again = {**TRIP, "destination_seq": 3}  # on to München
    refused = post(api, CHECKINS, again)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert (error["code"], error["fields"]) == ("overlap", {})
    assert "force" in error["message"]
    assert [journey["id"] for journey in error["conflicts"]] == [first["id"]]
    assert error["conflicts"][0] == first  # the journey as the API shows it
    assert other.id != first["id"] and CheckIn.objects.count() == 2

    forced = post(api, CHECKINS, {**again, "force": True})
    assert forced.status_code == 201
    assert CheckIn.objects.count() == 3


def test_a_retry_with_the_same_idempotency_key_answers_the_first_journey_with_200(api, alice):
    body = manual_body(idempotency_key=str(uuid.uuid4()))
    first = post(api, MANUAL, body)
    retry = post(api, MANUAL, body)
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert CheckIn.objects.filter(user=alice).count() == 1
    assert "Location" not in retry  # nothing new was made


def test_an_idempotency_key_is_per_traveller(api, alice, bob):
    key = str(uuid.uuid4())
    assert post(api, MANUAL, manual_body(idempotency_key=key)).status_code == 201
    bobs = post(bearer(token_for(bob)), MANUAL, manual_body(idempotency_key=key))
    assert bobs.status_code == 201 and bobs.json()["traveller"]["username"] == "bob"


def test_a_retry_without_a_key_is_a_409_naming_the_journey_the_first_request_made(api):
    first = post(api, MANUAL, manual_body())
    body = manual_body(departure_planned=first.json()["departure_planned"],
                       arrival_planned=first.json()["arrival_planned"])  # fmt: skip
    retry = post(api, MANUAL, body)
    assert retry.status_code == 409
    assert [journey["id"] for journey in retry.json()["error"]["conflicts"]] == [first.json()["id"]]


# --- Changing and deleting ----------------------------------------------------------------------


def journey_url(checkin: CheckIn | int) -> str:
    return f"/api/v1/journeys/{checkin if isinstance(checkin, int) else checkin.id}/"


def test_a_patch_changes_what_it_names_and_keeps_the_rest(api, alice):
    journey = manual_checkin(alice, message="Hello", visibility=Visibility.PUBLIC)
    change = {"purpose": "business", "ticket_price": "39.90", "cost_centre": " P-42 "}
    response = api.patch(journey_url(journey), change, content_type=JSON)
    assert response.status_code == 200, response.content
    assert (response.json()["purpose"], response.json()["message"]) == ("business", "Hello")
    journey.refresh_from_db()
    assert (journey.purpose, journey.message, journey.visibility) == ("business", "Hello", "public")
    assert (journey.ticket_price, journey.cost_centre) == (Decimal("39.90"), "P-42")
    cleared = api.patch(journey_url(journey), {"ticket_price": None}, content_type=JSON)
    assert cleared.status_code == 200
    journey.refresh_from_db()
    assert (journey.ticket_price, journey.cost_centre) == (None, "P-42")


def test_a_patch_moves_the_exit_stop_of_a_trip_journey(api, alice, feed):
    created = post(api, CHECKINS, TRIP).json()
    response = api.patch(journey_url(created["id"]), {"destination_seq": 3}, content_type=JSON)
    assert response.status_code == 200, response.content
    assert response.json()["destination_name"] == "München Hbf"
    assert response.json()["arrival_planned"] == "2019-06-03T15:40:00+02:00"


def test_a_patch_keeps_the_edit_pages_rules(api, alice, feed):
    trip_journey = post(api, CHECKINS, TRIP).json()
    manual = manual_checkin(alice)
    cases = [
        (trip_journey["id"], {"destination_seq": 1}, "destination_seq"),  # not after the entry
        (manual.id, {"destination_seq": 2}, "destination_seq"),  # a manual journey has no trip
        (manual.id, {"message": "x" * 281}, "message"),
        (manual.id, {"ticket_price": "-1"}, "ticket_price"),
        (manual.id, {"ticket_price": "12345678.90"}, "ticket_price"),
        (manual.id, {"cost_centre": "x" * 101}, "cost_centre"),
        (manual.id, {"arrival_planned": "2000-01-01T00:00:00+01:00"}, "arrival_planned"),
        (manual.id, {"departure_planned": "2200-01-01T00:00:00"}, "departure_planned"),
        (manual.id, {"visibility": "everyone"}, "visibility"),
    ]
    for checkin_id, body, field in cases:
        response = api.patch(journey_url(checkin_id), body, content_type=JSON)
        assert response.status_code == 400, (body, response.content)
        assert field in error_of(response)["fields"], (body, response.json())
    manual.refresh_from_db()
    assert (manual.message, manual.ticket_price) == ("", None)


def test_hostile_values_in_any_field_of_a_patch_are_a_400_never_a_500(api, alice, settings):
    # The every-URL walk deletes its journey before it sends bodies; this one stays. Its many
    # requests would pass the token's rate limit, which is tested on its own.
    settings.RATELIMIT_ENABLE = False
    journey = manual_checkin(alice)
    fields = ["message", "visibility", "purpose", "destination_seq", "departure_planned",
              "arrival_planned", "ticket_price", "cost_centre"]  # fmt: skip
    values = [None, True, 10**40, 1.5, -1, "", "x" * 10_240, "\x00", {"a": ["b"]}, [[[]]],
              "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00", "9999-12-31T23:59:59",
              "NaN", "Infinity", "1e400"]  # fmt: skip
    for field in fields:
        for value in values:
            response = api.patch(journey_url(journey), {field: value}, content_type=JSON)
            assert response.status_code in (200, 400), (field, value, response.status_code)


def test_a_delete_deletes_ones_own_journey(api, alice):
    journey = manual_checkin(alice)
    response = api.delete(journey_url(journey))
    assert response.status_code == 204 and response.content == b""
    assert not CheckIn.objects.filter(id=journey.id).exists()
    assert api.delete(journey_url(journey)).status_code == 404


def test_someone_elses_journey_is_404_for_patch_and_delete_even_when_visible(api, bob):
    bobs = CheckInFactory(user=bob, visibility=Visibility.PUBLIC, message="Bob's")
    assert api.get(journey_url(bobs)).status_code == 200  # alice may see it
    for response in (
        api.patch(journey_url(bobs), {"message": "Alice's now"}, content_type=JSON),
        api.delete(journey_url(bobs)),
    ):
        assert response.status_code == 404
        assert error_of(response) == {"code": "not_found", "message": "No such journey.",
                                      "fields": {}}  # fmt: skip
    bobs.refresh_from_db()
    assert bobs.message == "Bob's"


# --- Tokens and scopes --------------------------------------------------------------------------


def writes(alice) -> list[tuple[str, str, dict | None]]:
    """Each write operation, with a body that would succeed; one journey of alice's made."""
    journey = manual_checkin(
        alice,
        departure_planned=timezone.now() - timedelta(days=5),
        arrival_planned=timezone.now() - timedelta(days=5, minutes=-75),
    )
    return [
        ("post", MANUAL, manual_body()),
        ("post", CHECKINS, TRIP),
        ("patch", journey_url(journey), {"message": "changed"}),
        ("delete", journey_url(journey), None),
    ]


def send(client, method: str, url: str, body: dict | None):
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, content_type=JSON)


def test_writes_need_a_token(client, alice):
    for method, url, body in writes(alice):
        response = send(client, method, url, body)
        assert response.status_code == 401, (method, url)
        assert error_of(response)["code"] == "not_authenticated"


def test_a_read_only_token_cannot_write(alice):
    reader = bearer(token_for(alice, ("read", "social", "settings", "exports", "webhooks")))
    for method, url, body in writes(alice):
        response = send(reader, method, url, body)
        assert response.status_code == 403, (method, url)
        assert "checkins:write" in error_of(response)["message"]
    assert CheckIn.objects.count() == 1 and CheckIn.objects.get().message == ""


def test_an_expired_or_revoked_token_cannot_write(alice):
    expired = token_for(alice, ("checkins:write",), expires_at=timezone.now() + timedelta(days=1))
    revoked = token_for(alice, ("checkins:write",))
    AccessToken.objects.filter(hint=expired[-4:]).update(expires_at=timezone.now())
    token_revoke(user=alice, token_id=AccessToken.objects.get(hint=revoked[-4:]).pk)
    attempts = writes(alice)
    for secret in (expired, revoked):
        for method, url, body in attempts:
            response = send(bearer(secret), method, url, body)
            assert response.status_code == 401, (method, url)
            assert error_of(response)["code"] == "authentication_failed"
    assert CheckIn.objects.count() == 1 and CheckIn.objects.get().message == ""


def test_the_sites_own_javascript_writes_with_its_session(client, alice):
    client.force_login(alice)
    assert post(client, MANUAL, manual_body()).status_code == 201


# --- Webhooks -----------------------------------------------------------------------------------


def test_api_writes_fire_the_webhooks_the_pages_fire(api, alice):
    endpoint = webhook_endpoint_create(
        owner=alice, url="https://hooks.example.org/trainy", events=WebhookEvent.values
    )
    created = post(api, MANUAL, manual_body(message="Hello")).json()
    api.patch(journey_url(created["id"]), {"message": "Changed"}, content_type=JSON)
    api.delete(journey_url(created["id"]))
    deliveries = list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("id"))
    assert [(d.event, d.payload["id"], d.payload["message"]) for d in deliveries] == [
        ("checkin.created", str(created["id"]), "Hello"),
        ("checkin.updated", str(created["id"]), "Changed"),
        ("checkin.deleted", str(created["id"]), "Changed"),
    ]
    assert all(d.queued_at is not None for d in deliveries)
