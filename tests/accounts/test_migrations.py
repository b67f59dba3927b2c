"""The user model's move from the feed app to trainy.accounts, on real PostgreSQL databases: one
built and filled by the code before the move (its own migrations, run from a `git archive` of
that commit), then migrated by this code; and a new one.

Each database is made for the test and dropped after it, on the server of DATABASE_URL; each
``manage.py`` runs in a process of its own, as a deployment's migrate job does."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests.conftest import drop_database

REPO = Path(__file__).resolve().parents[2]
# The last commit with the user model in the feed app.
BEFORE_THE_MOVE = "015e264"

pytestmark = pytest.mark.services

# Run by the old code's `manage.py shell`: a traveller with everything that points at the user
# model (group and permissions, a browser session, a journey, a follow, an admin log entry, a
# GitLab account), and one whose default visibility the admin's form let through unchecked.
FILL = """
import json
from datetime import timedelta

from allauth.socialaccount.models import SocialAccount
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from feed.models import Follow, User, UserSession
from tests.factories import CheckInFactory

rosa = User.objects.create_user("rosa", "rosa@example.org", "pw", display_name="Rosa")
kim = User.objects.create_user("kim", "kim@example.org", "pw", default_visibility="bogus")
group = Group.objects.create(name="moderators")
group.permissions.add(Permission.objects.get(codename="change_checkin"))
rosa.groups.add(group)
rosa.user_permissions.add(Permission.objects.get(codename="view_user"))
UserSession.objects.create(
    user=rosa, session_key="k" * 32, ip="192.0.2.1", user_agent="Firefox",
    last_seen=timezone.now(),
)
journey = CheckInFactory(user=rosa)
Follow.objects.create(follower=kim, followee=rosa)
LogEntry.objects.create(
    user=kim, content_type=ContentType.objects.get_for_model(User), object_id=str(rosa.pk),
    object_repr=str(rosa), action_flag=CHANGE, change_message="[]",
)
SocialAccount.objects.create(user=rosa, provider="gitlab", uid="4711", extra_data={})
print(json.dumps({"rosa": rosa.pk, "kim": kim.pk, "journey": journey.pk}))
"""

# Run by the new code's `manage.py shell` on the migrated database: what it finds.
READ = """
import json

from allauth.socialaccount.models import SocialAccount
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from feed.models import Follow
from trainy.accounts.models import UserSession

User = get_user_model()
rosa = User.objects.get(username="rosa")
kim = User.objects.get(username="kim")
entry = LogEntry.objects.get()
print(json.dumps({
    "user_model": User._meta.label,
    "rosa": rosa.pk,
    "name": rosa.name,
    "journeys": list(rosa.checkins.values_list("id", flat=True)),
    "groups": list(rosa.groups.values_list("name", flat=True)),
    "may_change_checkins": rosa.has_perm("checkins.change_checkin"),
    "may_view_users": rosa.has_perm("accounts.view_user"),
    "view_user_of": Permission.objects.get(codename="view_user").content_type.app_label,
    "sessions": [s.session_key for s in UserSession.objects.filter(user=rosa)],
    "followers": [f.follower.username for f in Follow.objects.filter(followee=rosa)],
    "log_entry_of": [entry.content_type.app_label, entry.content_type.model],
    "log_entry_object": entry.get_edited_object().pk,
    "gitlab_account_of": SocialAccount.objects.get(uid="4711").user.pk,
    "kims_default": kim.default_visibility,
    "feed_content_types": list(
        ContentType.objects.filter(app_label="feed", model__in=["user", "usersession"])
        .values_list("model", flat=True)
    ),
}))
"""


def manage(code: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=code,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=240,
    )


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def last_line(result: subprocess.CompletedProcess[str]) -> dict:
    """The JSON a shell script printed last (log lines may come before it)."""
    return json.loads(succeeded(result).strip().splitlines()[-1])


@pytest.fixture
def database_url() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards."""
    server = urlsplit(os.environ["DATABASE_URL"])
    name = f"trainy_migrations_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(
        host=server.hostname,
        port=server.port or 5432,
        user=server.username,
        password=server.password,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlunsplit(server._replace(path=f"/{name}"))
        finally:
            drop_database(admin, name)


@pytest.fixture
def code_before_the_move(tmp_path: Path) -> Path:
    archive = subprocess.run(
        ["git", "archive", "--format=tar", BEFORE_THE_MOVE],
        cwd=REPO,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tmp_path / "before", filter="data")
    return tmp_path / "before"


def assert_nothing_left_to_apply(database_url: str) -> None:
    succeeded(manage(REPO, database_url, "migrate", "--check"))
    plan = succeeded(manage(REPO, database_url, "showmigrations", "--plan"))
    assert "[ ]" not in plan
    assert "[X]  accounts.0001_initial" in plan
    # makemigrations checks the history too, and finds the models as the migrations left them.
    succeeded(manage(REPO, database_url, "makemigrations", "--check", "--dry-run"))


def test_a_database_migrated_before_the_move_migrates_with_every_row_in_reach(
    database_url, code_before_the_move
):
    succeeded(manage(code_before_the_move, database_url, "migrate", "--noinput"))
    made = last_line(manage(code_before_the_move, database_url, "shell", "-c", FILL))

    migrated = succeeded(manage(REPO, database_url, "migrate", "--noinput"))

    assert "Recorded accounts.0001_initial as applied" in migrated
    found = last_line(manage(REPO, database_url, "shell", "-c", READ))
    assert found == {
        "user_model": "accounts.User",
        "rosa": made["rosa"],
        "name": "Rosa",
        "journeys": [made["journey"]],
        "groups": ["moderators"],
        "may_change_checkins": True,
        "may_view_users": True,
        "view_user_of": "accounts",
        "sessions": ["k" * 32],
        "followers": ["kim"],
        "log_entry_of": ["accounts", "user"],
        "log_entry_object": made["rosa"],
        "gitlab_account_of": made["rosa"],
        # Not a visibility: the constraint's migration made it the default.
        "kims_default": "public",
        "feed_content_types": [],
    }
    assert_nothing_left_to_apply(database_url)
    # A second run finds nothing to record or to apply.
    again = succeeded(manage(REPO, database_url, "migrate", "--noinput"))
    assert "Recorded" not in again
    assert "No migrations to apply." in again


def test_a_new_database_migrates_with_the_user_model_in_accounts(database_url):
    migrated = succeeded(manage(REPO, database_url, "migrate", "--noinput"))

    assert "Recorded" not in migrated
    assert_nothing_left_to_apply(database_url)
    with psycopg.connect(database_url) as connection:
        tables = {
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        }
        content_types = set(connection.execute("SELECT app_label, model FROM django_content_type"))
    assert {"feed_user", "feed_usersession", "feed_user_groups"} <= tables
    assert {("accounts", "user"), ("accounts", "usersession")} <= content_types
    assert not {("feed", "user"), ("feed", "usersession")} & content_types


def test_makemigrations_before_migrate_on_a_database_of_the_old_code_finds_nothing_to_make(
    database_url, code_before_the_move
):
    # A developer's first command after pulling the move may be makemigrations, which checks the
    # history as migrate does.
    succeeded(manage(code_before_the_move, database_url, "migrate", "--noinput"))

    succeeded(manage(REPO, database_url, "makemigrations", "--check", "--dry-run"))
