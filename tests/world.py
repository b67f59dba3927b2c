"""A small world where every URL of the project has something real to show: the demo timetable,
travellers who follow, block and like each other, journeys of every visibility, an export, a
calendar feed, a personal access token, OAuth2 apps (one allowed by another traveller) and an
admin. The every-URL tests take their path values from here.

A route whose path parameter has no value here fails those tests with a message naming the
parameter: a new kind of URL needs one line in ``World.good_values`` below.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from oauth2_provider.models import AccessToken as OAuthAccessToken
from oauth2_provider.models import Application

from checkins.models import CheckIn, JourneyImport, Visibility
from checkins.services.imports import journey_import_check
from checkins.timetable.demo import DEMO_FEED_NAME, write_demo_feed
from checkins.timetable.importer import feed_import
from feed.models import Block, Follow, Like, Notification, WebhookDelivery, WebhookEndpoint
from feed.services.webhooks import webhook_endpoint_create
from stats.models import Export
from stats.services import calendar_token_renew
from tests.factories import CheckInFactory, UserFactory
from tests.urlwalk import Route
from trainy.accounts.models import User
from trainy.accounts.services import oauth_app_create, token_create

UNKNOWN_ID = "987654321"
IMPORT_FIXTURE = Path(__file__).parent / "checkins/imports/fixtures/travelynx-history.json"
# A calendar token of nobody's (it fits the URL pattern: 16 to 64 of [A-Za-z0-9_-]).
UNKNOWN_TOKEN = "nobodys-calendar-0123456789abcdefghij"
# Path parameters whose value is one traveller's secret (the calendar feed's token): a URL with
# one is that traveller's, whoever sends it (the feed needs no sign-in), so a walk over several
# viewers sends each of them their own only (World.secret_values).
SECRET_PARAMETERS = frozenset({"token"})


@dataclass
class World:
    alice: User  # the traveller the tests sign in as
    bob: User  # another traveller, with journeys alice may not see
    carol: User  # asked to follow alice
    blocker: User  # blocked alice
    admin: User
    public: CheckIn  # alice's
    private: CheckIn  # alice's
    bobs_private: CheckIn
    bobs_public: CheckIn
    export: Export  # alice's
    bobs_export: Export
    journey_import: JourneyImport  # alice's, checked and waiting for her yes
    bobs_journey_import: JourneyImport
    webhook: WebhookEndpoint  # alice's
    bobs_webhook: WebhookEndpoint
    app: Application  # alice's OAuth2 app
    bobs_app: Application  # bob's, which alice allowed (it holds a token of hers)
    trip_id: str
    service_date: str
    # Values a test adds for rows of its own (say, journeys carrying markers), listed by
    # good_values after the world's.
    extra: dict[str, list[str]] = field(default_factory=dict)

    def good_values(self, route: Route, name: str) -> list[str]:
        """Values of path parameter ``name`` that lead somewhere real, the signed-in traveller's
        own first, then other people's, then any the test added (``extra``)."""
        if name == "object_id":
            return self._admin_objects(route)
        values = {
            "checkin_id": [self.public.id, self.private.id, self.bobs_private.id],
            "follower_id": [self.carol.id, self.bob.id],
            # Follow requests by their id (the API's): carol's, waiting for alice.
            "request_id": list(
                Follow.objects.filter(accepted=False).order_by("id").values_list("id", flat=True)
            ),
            "username": ["alice", "bob", "blocker", "admin"],
            "export_id": [self.export.id, self.bobs_export.id],
            "import_id": [self.journey_import.id, self.bobs_journey_import.id],
            "endpoint_id": [self.webhook.id, self.bobs_webhook.id],
            "app_id": [self.app.id, self.bobs_app.id],
            "token": [self.alice.calendar_token, self.bob.calendar_token],
            "feed": [DEMO_FEED_NAME],
            "stop_id": ["BHF", "HAM"],
            "trip_id": [self.trip_id],
            "service_date": [self.service_date],
            "provider_id": ["gitlab"],
            "key": ["MQ:1tEsTk3y"],
            "uidb36": ["1"],
            "app_label": ["checkins", "accounts"],
            "content_type_id": [ContentType.objects.get_for_model(CheckIn).id],
            "id": [self.alice.id],
            "url": ["no/such/page/"],
        }.get(name)
        if values is None and name not in self.extra:
            raise LookupError(
                f"tests/world.py has no value for the path parameter {name!r} of "
                f"{route.label}: add one to World.good_values"
            )
        return [str(value) for value in [*(values or []), *self.extra.get(name, [])]]

    def secret_values(self, name: str, user: User | None) -> list[str]:
        """The value of the secret path parameter ``name`` (SECRET_PARAMETERS) that is ``user``'s
        own; one of nobody's for a signed-out visitor or a traveller without one."""
        if name != "token":
            raise LookupError(f"{name!r} is not a secret path parameter")
        own = user.calendar_token if user is not None else ""
        return [own or UNKNOWN_TOKEN]

    def _admin_objects(self, route: Route) -> list[str]:
        """The primary key of a row of the model an admin URL is about."""
        if route.name == "admin:view_on_site":
            return [str(self.public.id)]
        parts = route.pattern.split("/")
        model = apps.get_model(parts[1], parts[2])
        first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        return [str(first if first is not None else UNKNOWN_ID)]


def build_world() -> World:
    """Make the world (needs database access)."""
    if not apps.get_model("checkins", "Feed").objects.filter(name=DEMO_FEED_NAME).exists():
        with tempfile.TemporaryDirectory() as folder:
            feed_import(source=str(write_demo_feed(Path(folder))), name=DEMO_FEED_NAME)
    alice = UserFactory(username="alice", display_name="Alice")
    bob = UserFactory(username="bob", display_name="Bob")
    carol = UserFactory(username="carol", display_name="Carol")
    blocker = UserFactory(username="blocker", display_name="Blocker")
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    Follow.objects.create(follower=alice, followee=bob)
    Follow.objects.create(follower=carol, followee=alice, accepted=False)
    Block.objects.create(blocker=blocker, blocked=alice)
    earlier = timezone.now() - timedelta(days=2)
    public = CheckInFactory(user=alice, visibility=Visibility.PUBLIC, departure_planned=earlier)
    private = CheckInFactory(user=alice, visibility=Visibility.PRIVATE)
    bobs_private = CheckInFactory(user=bob, visibility=Visibility.PRIVATE)
    bobs_public = CheckInFactory(user=bob, visibility=Visibility.PUBLIC)
    CheckInFactory(user=blocker, visibility=Visibility.PUBLIC)
    Like.objects.create(user=bob, checkin=public)
    Notification.objects.create(
        recipient=alice, actor=bob, kind=Notification.Kind.LIKE, checkin=public
    )
    Notification.objects.create(recipient=alice, actor=carol, kind=Notification.Kind.FOLLOW_REQUEST)
    for user in (alice, bob):
        calendar_token_renew(user=user)
    # A personal access token, for the admin's token pages.
    token_create(user=alice, name="script", scopes=["read"])
    export = Export.objects.create(
        user=alice, format="csv", status=Export.Status.DONE, rows_total=1, rows_done=1,
        filename="journeys.csv", content_type="text/csv", content=b"a,b\n",
    )  # fmt: skip
    bobs_export = Export.objects.create(user=bob, format="csv", status=Export.Status.QUEUED)
    journey_import = journey_import_check(
        user=alice, filename="history.json", data=IMPORT_FIXTURE.read_bytes(), visibility="private"
    )
    bobs_journey_import = JourneyImport.objects.create(
        user=bob, filename="bobs.csv", format="travelynx-csv", visibility="private",
        status=JourneyImport.Status.DONE, summary={"new": 1, "created": 1},
    )  # fmt: skip
    webhook, bobs_webhook = (
        webhook_endpoint_create(
            owner=user, url=f"https://example.org/{user}", events=["checkin.created"]
        )
        for user in (alice, bob)
    )
    WebhookDelivery.objects.create(
        endpoint=webhook, event="checkin.created", payload={"id": str(public.id)},
        status="delivered", attempts=1, response_status=204, duration_ms=12,
    )  # fmt: skip
    app, bobs_app = (
        oauth_app_create(
            user=user,
            name=f"{user}'s app",
            redirect_uris=["https://example.org/cb"],
            confidential=True,
        ).app
        for user in (alice, bob)
    )
    OAuthAccessToken.objects.create(
        user=alice, application=bobs_app, token="world-app-token", scope="read",
        expires=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    trip_id, service_date = _a_demo_trip()
    return World(
        alice=alice, bob=bob, carol=carol, blocker=blocker, admin=admin, public=public,
        private=private, bobs_private=bobs_private, bobs_public=bobs_public, export=export,
        bobs_export=bobs_export, journey_import=journey_import,
        bobs_journey_import=bobs_journey_import, webhook=webhook, bobs_webhook=bobs_webhook,
        app=app, bobs_app=bobs_app, trip_id=trip_id, service_date=service_date,
    )  # fmt: skip


def _a_demo_trip() -> tuple[str, str]:
    from checkins.timetable.selectors import departures

    board = departures(stop_id="BHF", at=timezone.now(), limit=1, feed=DEMO_FEED_NAME)
    return board[0].trip_id, board[0].service_date.isoformat()
