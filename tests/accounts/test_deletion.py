"""Leaving: a traveller confirms who they are (allauth's reauthentication: their password),
asks for their account's deletion and is signed out everywhere; signing in during the grace
period keeps it; once it has passed, the account goes with everything of theirs, their
journeys' documents in the real MongoDB server included, and others' data stays. While the
document store is down, nothing is deleted (the periodic task tries again)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from checkins.models import CheckIn, JourneyImport
from checkins.services.enrichment_lifecycle import journey_enrich
from feed.models import Block, Follow, Like, Notification, WebhookEndpoint
from feed.services.webhooks import webhook_endpoint_create
from stats.models import Export
from tests.conftest import configure_gitlab
from tests.factories import PASSWORD, CheckInFactory, UserFactory
from trainy.accounts.models import AccessToken, User, UserSession
from trainy.accounts.services import accounts_delete_due, token_create
from trainy.documents import DocumentStoreUnavailable, journey_store

pytestmark = pytest.mark.django_db

DELETE = reverse("accounts:delete")


@pytest.fixture
def alice(db):
    """A traveller of these tests' own: a name no other test signs in with, so that their
    failed sign-ins (allauth counts them per name for its rate limits) do not refuse hers."""
    return UserFactory(username="leaving-alice", display_name="Alice")


def signed_in_with_password(user) -> Client:
    """Signed in on the sign-in form, as a traveller does (allauth records when)."""
    client = Client()
    response = client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def test_deletion_asks_who_you_are_then_signs_you_out_everywhere(alice, settings):
    settings.TRAINY_ACCOUNT_DELETION_GRACE_DAYS = 7
    other_browser = signed_in_with_password(alice)
    client = Client()
    client.force_login(alice)  # a session with no sign-in on record: must confirm first
    assert client.get(DELETE).status_code == 200
    asked = client.post(DELETE, {"confirm": "delete"})
    assert asked.status_code == 302 and "/reauthenticate/" in asked["Location"]
    alice.refresh_from_db()
    assert alice.deletion_due_at is None  # nothing yet

    page = client.post(asked["Location"], {"password": PASSWORD}, follow=True)
    assert page.status_code == 200
    assert 'data-testid="deletion-due"' in page.content.decode()
    alice.refresh_from_db()
    assert alice.deletion_due_at is not None
    assert timedelta(days=6, hours=23) < alice.deletion_due_at - timezone.now() <= timedelta(days=7)
    for browser in (client, other_browser):
        assert browser.get(reverse("accounts:settings")).status_code == 302  # signed out
    assert User.objects.filter(pk=alice.pk).exists()


def test_the_box_must_be_ticked(alice):
    client = signed_in_with_password(alice)
    assert client.post(DELETE, {}).status_code == 400
    alice.refresh_from_db()
    assert alice.deletion_due_at is None


def test_signing_in_during_the_grace_period_keeps_the_account(alice):
    User.objects.filter(pk=alice.pk).update(deletion_due_at=timezone.now() + timedelta(days=3))
    client = signed_in_with_password(alice)
    alice.refresh_from_db()
    assert alice.deletion_due_at is None
    assert "will not be deleted" in client.get(reverse("feed:home")).content.decode()
    User.objects.filter(pk=alice.pk).update(deletion_due_at=timezone.now() - timedelta(minutes=1))
    alice.refresh_from_db()
    signed_in_with_password(alice)  # even a moment too late for the task, it is kept
    assert accounts_delete_due() == 0
    assert User.objects.filter(pk=alice.pk).exists()


def test_once_due_the_account_goes_with_everything_of_theirs(
    alice, bob, full_stack, django_capture_on_commit_callbacks
):
    mine = CheckInFactory(user=alice)
    journey_enrich(checkin_id=mine.id)
    theirs = CheckInFactory(user=bob)
    journey_enrich(checkin_id=theirs.id)
    assert journey_store().get(mine.id) is not None
    Like.objects.create(user=alice, checkin=theirs)
    Like.objects.create(user=bob, checkin=mine)
    Follow.objects.create(follower=alice, followee=bob)
    Block.objects.create(blocker=bob, blocked=alice)
    Notification.objects.create(recipient=bob, actor=alice, kind=Notification.Kind.FOLLOW)
    token_create(user=alice, name="script", scopes=["read"])
    webhook_endpoint_create(owner=alice, url="https://example.org/h", events=["checkin.created"])
    Export.objects.create(user=alice, format="csv", status="done", content=b"x")
    JourneyImport.objects.create(user=alice, filename="h.json", format="travelynx-json",
                                 visibility="private")  # fmt: skip
    browser = signed_in_with_password(alice)
    UserSession.objects.filter(user=alice).update(last_seen=timezone.now())
    User.objects.filter(pk=alice.pk).update(deletion_due_at=timezone.now() - timedelta(seconds=1))
    bobs_feed = Client()
    bobs_feed.force_login(bob)
    profile = reverse("feed:profile", args=["leaving-alice"])
    assert "Alice" in bobs_feed.get(profile).content.decode()

    # As on a server, the pages kept for the feed generation are let go once the deletion
    # commits.
    with django_capture_on_commit_callbacks(execute=True):
        assert accounts_delete_due() == 1

    assert not User.objects.filter(pk=alice.pk).exists()
    assert journey_store().get(mine.id) is None  # the document is gone from MongoDB
    assert not CheckIn.objects.filter(id=mine.id).exists()
    for model, field in ((Like, "user"), (Follow, "follower"), (AccessToken, "user"),
                         (WebhookEndpoint, "owner"), (Export, "user"), (JourneyImport, "user"),
                         (UserSession, "user")):  # fmt: skip
        assert not model.objects.filter(**{f"{field}_id": alice.pk}).exists(), model.__name__
    assert not Notification.objects.filter(actor_id=alice.pk).exists()
    assert not Block.objects.filter(blocked_id=alice.pk).exists()
    # bob's journey, its document and its like from nobody are his still.
    assert CheckIn.objects.filter(id=theirs.id).exists()
    assert journey_store().get(theirs.id) is not None
    assert bobs_feed.get(profile).status_code == 404
    # Her browser's session is gone too.
    assert browser.get(reverse("accounts:settings")).status_code == 302


def test_nothing_goes_while_the_document_store_is_down(alice, full_stack, services):
    mine = CheckInFactory(user=alice)
    journey_enrich(checkin_id=mine.id)
    User.objects.filter(pk=alice.pk).update(deletion_due_at=timezone.now() - timedelta(seconds=1))
    services.stop("ferretdb")
    with pytest.raises(DocumentStoreUnavailable):
        accounts_delete_due()
    assert User.objects.filter(pk=alice.pk).exists()
    assert CheckIn.objects.filter(id=mine.id).exists()
    services.start("ferretdb")
    assert accounts_delete_due() == 1
    assert journey_store().get(mine.id) is None


def test_without_a_password_a_fresh_gitlab_sign_in_is_asked_for(alice, settings):
    configure_gitlab(settings)
    alice.set_unusable_password()  # signs in with GitLab only
    alice.save()
    client = Client()
    client.force_login(alice)  # no sign-in on record in this session
    response = client.post(DELETE, {"confirm": "delete"})
    assert response.status_code == 403
    page = response.content.decode()
    assert 'data-testid="sign-in-again"' in page
    assert "/accounts/oidc/gitlab/login/" in page
    alice.refresh_from_db()
    assert alice.deletion_due_at is None
