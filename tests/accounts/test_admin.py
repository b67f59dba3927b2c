"""The admin's travellers: search, journey counts, and sign-in blocked and allowed again."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.test import Client

from checkins.models import CheckIn, Visibility
from checkins.services.enrichment_lifecycle import journey_enrich
from feed.models import Like
from tests.factories import PASSWORD, CheckInFactory, UserFactory
from trainy.accounts.models import User
from trainy.documents import journey_store

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"


def rows(client, query: str = "") -> list[tuple[str, int]]:
    response = client.get(f"{USERS}?{query}")
    assert response.status_code == 200
    return [(user.username, user.journey_count) for user in response.context["cl"].result_list]


def act(client, action: str, users: list[User], **extra: str):
    data = {"action": action, "_selected_action": [user.pk for user in users], **extra}
    return client.post(USERS, data, follow=True)


@pytest.fixture
def no_sign_in_limits(settings):
    """Failed sign-ins are counted per address in the cache, across tests: other tests' from
    127.0.0.1 in the same minute must not make these sign-ins wait."""
    settings.ACCOUNT_RATE_LIMITS = False


def signs_in(username: str) -> bool:
    """Through allauth's sign-in form, as a traveller would."""
    browser = Client()
    response = browser.post(
        "/accounts/login/", {"login": username, "password": PASSWORD}, follow=True
    )
    return "Signed in as" in response.content.decode()


def test_travellers_are_listed_with_their_journey_counts(admin_client, alice, bob, charlie):
    CheckInFactory.create_batch(3, user=alice)
    CheckInFactory(user=bob)
    page = admin_client.get(USERS).content.decode()
    assert "sortable column-journeys" in page
    assert dict(rows(admin_client)) == {"root": 0, "alice": 3, "bob": 1, "charlie": 0}


def test_travellers_are_sorted_by_journey_count(admin_client, alice, bob, charlie):
    CheckInFactory.create_batch(3, user=alice)
    CheckInFactory.create_batch(2, user=charlie)
    CheckInFactory(user=bob)
    # Journeys are the list's 4th column (username, name, email, journeys): o=-4 sorts by it.
    ordered = [name for name, _ in rows(admin_client, "o=-4")]
    assert ordered[:3] == ["alice", "charlie", "bob"]


def test_travellers_are_found_by_username_name_and_email(admin_client, alice, bob):
    UserFactory(username="zed", display_name="Ada Zed", email="zed@trains.example")
    assert [name for name, _ in rows(admin_client, "q=alice")] == ["alice"]
    assert [name for name, _ in rows(admin_client, "q=Ada+Zed")] == ["zed"]
    assert [name for name, _ in rows(admin_client, "q=trains.example")] == ["zed"]


def test_the_list_shows_private_profiles_and_staff(admin_client, alice):
    alice.private_profile = True
    alice.save()
    page = admin_client.get(USERS).content.decode()
    assert "column-private_profile" in page and "column-is_staff" in page
    assert [name for name, _ in rows(admin_client, "private_profile__exact=1")] == ["alice"]


def test_a_blocked_traveller_cannot_sign_in_until_allowed_again(
    admin_client, alice, bob, no_sign_in_limits
):
    assert signs_in("alice")

    response = act(admin_client, "block_sign_in", [alice, bob])

    assert "2 travellers can no longer sign in." in response.content.decode()
    alice.refresh_from_db()
    assert not alice.is_active
    assert not signs_in("alice")
    refused = Client().post(
        "/accounts/login/", {"login": "alice", "password": PASSWORD}, follow=True
    )
    assert "This account is inactive" in refused.content.decode()

    response = act(admin_client, "allow_sign_in", [alice])
    assert "1 traveller can sign in again." in response.content.decode()
    assert signs_in("alice")
    assert not signs_in("bob")


def test_a_blocked_traveller_is_signed_out_of_open_sessions(admin_client, alice):
    browser = Client()
    browser.login(username="alice", password=PASSWORD)
    assert "Signed in as" in browser.get("/").content.decode()
    act(admin_client, "block_sign_in", [alice])
    assert "Signed in as" not in browser.get("/").content.decode()


def test_an_admin_cannot_block_their_own_sign_in(admin_client, root, alice):
    response = act(admin_client, "block_sign_in", [root, alice])
    page = response.content.decode()
    assert "You cannot block your own sign-in." in page
    assert "1 traveller can no longer sign in." in page
    root.refresh_from_db()
    assert root.is_active


def test_travellers_cannot_reach_the_users_page(client, alice):
    client.login(username="alice", password=PASSWORD)
    response = client.get(USERS)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_a_deleted_traveller_takes_their_journey_documents_along(
    admin_client, alice, bob, django_capture_on_commit_callbacks
):
    theirs, kept = CheckInFactory(user=alice), CheckInFactory(user=bob)
    for journey in (theirs, kept):
        journey_enrich(checkin_id=journey.id)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{USERS}{alice.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(username="alice").exists()
    assert list(CheckIn.objects.values_list("id", flat=True)) == [kept.id]
    assert journey_store().get(theirs.id) is None
    assert journey_store().get(kept.id) is not None


# --- Admin changes show on cached pages at once -------------------------------------------------


class _FormReader(HTMLParser):
    """What a browser would submit for the form ``form_id`` as the page shows it: text and hidden
    inputs, ticked boxes, selected options, text areas (submit buttons left out)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside = form_id, False
        self.data: dict[str, list[str]] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def _add(self, name: str | None, value: str | None) -> None:
        if name:
            self.data.setdefault(name, []).append(value or "")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.inside = values.get("id") == self.form_id
        if not self.inside:
            return
        kind = (values.get("type") or "text").lower()
        if tag == "input" and kind in ("checkbox", "radio"):
            if "checked" in values:
                self._add(values.get("name"), values.get("value") or "on")
        elif tag == "input" and kind not in ("submit", "button", "image", "reset", "file"):
            self._add(values.get("name"), values.get("value"))
        elif tag == "select":
            self.select = values.get("name")
        elif tag == "option" and self.select and "selected" in values:
            self._add(self.select, values.get("value"))
        elif tag == "textarea":
            self.textarea = values.get("name")
            self._add(self.textarea, "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.inside and self.textarea:
            self.data[self.textarea][-1] += data


def submit_change_form(client, user: User, **changes: object):
    """Change ``user`` through the admin's own change form, as an admin in a browser would:
    the form as shown, with ``changes`` (a box is ticked with True, cleared with False)."""
    url = f"{USERS}{user.pk}/change/"
    reader = _FormReader("user_form")
    reader.feed(client.get(url).content.decode())
    assert "username" in reader.data, "the admin's change form was not found"
    data = dict(reader.data)
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = ["on" if value is True else str(value)]
    response = client.post(url, {**data, "_save": "Save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


@pytest.fixture
def journey_on_the_front_page(alice):
    journey = CheckInFactory(user=alice, visibility=Visibility.PUBLIC, line_name="ICE 1601")
    visitor = Client()
    assert "ICE 1601" in visitor.get("/").content.decode()
    # The page is kept rendered now: a row written behind the services' back does not show.
    CheckInFactory(user=alice, visibility=Visibility.PUBLIC, line_name="RE 7")
    assert "RE 7" not in visitor.get("/").content.decode()
    return journey, visitor


def test_a_profile_made_private_in_the_admin_leaves_the_cached_front_page_at_once(
    admin_client, alice, journey_on_the_front_page, django_capture_on_commit_callbacks
):
    journey, visitor = journey_on_the_front_page
    with django_capture_on_commit_callbacks(execute=True):
        submit_change_form(admin_client, alice, private_profile=True)

    assert User.objects.get(pk=alice.pk).private_profile
    assert "ICE 1601" not in visitor.get("/").content.decode()
    assert visitor.get(f"/journeys/{journey.id}/").status_code == 404


def test_a_name_changed_in_the_admin_shows_on_the_cached_front_page_at_once(
    admin_client, alice, journey_on_the_front_page, django_capture_on_commit_callbacks
):
    _, visitor = journey_on_the_front_page
    with django_capture_on_commit_callbacks(execute=True):
        submit_change_form(admin_client, alice, display_name="Alice Liddell")
    assert "Alice Liddell" in visitor.get("/").content.decode()


def test_sign_in_blocked_in_the_admin_takes_the_journeys_off_the_cached_front_page(
    admin_client, alice, journey_on_the_front_page, django_capture_on_commit_callbacks
):
    journey, visitor = journey_on_the_front_page
    with django_capture_on_commit_callbacks(execute=True):
        act(admin_client, "block_sign_in", [alice])

    assert "ICE 1601" not in visitor.get("/").content.decode()
    assert visitor.get(f"/journeys/{journey.id}/").status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        act(admin_client, "allow_sign_in", [alice])
    assert "ICE 1601" in visitor.get("/").content.decode()


def test_sign_in_blocked_through_the_change_form_goes_the_same_way(
    admin_client, root, alice, journey_on_the_front_page, django_capture_on_commit_callbacks
):
    _, visitor = journey_on_the_front_page
    with django_capture_on_commit_callbacks(execute=True):
        submit_change_form(admin_client, alice, is_active=False)

    assert not User.objects.get(pk=alice.pk).is_active
    assert "ICE 1601" not in visitor.get("/").content.decode()
    # As with the action, an admin does not block their own sign-in.
    response = submit_change_form(admin_client, root, is_active=False)
    assert User.objects.get(pk=root.pk).is_active
    assert response.status_code == 302


def test_a_traveller_deleted_in_the_admin_leaves_the_cached_front_page_at_once(
    admin_client, alice, bob, django_capture_on_commit_callbacks
):
    # Bob logged no journey: only his like is on the page.
    journey = CheckInFactory(user=alice, visibility=Visibility.PUBLIC, line_name="ICE 1601")
    Like.objects.create(user=bob, checkin=journey)
    visitor = Client()
    assert "1 like" in visitor.get("/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{USERS}{bob.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    page = visitor.get("/").content.decode()
    assert "ICE 1601" in page and "1 like" not in page

    with django_capture_on_commit_callbacks(execute=True):
        act(admin_client, "delete_selected", [alice], post="yes")
    assert "ICE 1601" not in visitor.get("/").content.decode()


def test_an_admin_adds_a_traveller_through_the_add_form(admin_client):
    response = admin_client.post(
        f"{USERS}add/",
        {"username": "newbie", "password1": PASSWORD, "password2": PASSWORD,
         "usable_password": "true", "_save": "Save"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    newbie = User.objects.get(username="newbie")
    assert newbie.is_active and newbie.check_password(PASSWORD)


def test_admins_see_who_asked_to_leave(admin_client, alice, bob):
    from datetime import timedelta

    from django.utils import timezone

    User.objects.filter(pk=alice.pk).update(deletion_due_at=timezone.now() + timedelta(days=7))
    assert [name for name, _ in rows(admin_client, "deletion_due_at__isempty=0")] == ["alice"]
    page = admin_client.get(f"/admin/accounts/user/{alice.pk}/change/").content.decode()
    assert "Leaving" in page
