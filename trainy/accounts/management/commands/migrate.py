"""Django's migrate, first putting right the history of a database migrated before the user
model moved from the feed app to this one.

Such a database has feed.0001_initial applied, and with it the migrations that point at the
user model (checkins.0001, admin.0001, allauth's, …). Those now depend on accounts.0001_initial
(through settings.AUTH_USER_MODEL), which it has not applied, and Django's migrate refuses a
history in which an applied migration has an unapplied dependency (InconsistentMigrationHistory)
before it runs any migration or pre_migrate receiver. accounts.0001_initial changes no table (it
tells the migration state that the feed app's user tables are this app's), so recording it as
applied is exactly what running it would do; its one dependency, feed.0001_initial, is applied.
Django offers no other hook before that check (a squashing ``replaces`` would take feed.0001,
which creates the table, out of the graph). App commands replace core ones of the same name, so
``manage.py migrate``, pytest-django's test databases and the image's migrate role all run this.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connections, transaction
from django.db.migrations.recorder import MigrationRecorder

BEFORE_THE_MOVE = ("feed", "0001_initial")
THE_MOVE = ("accounts", "0001_initial")


def record_the_move(database: str) -> bool:
    """Record accounts.0001_initial applied on a database the feed app's migrations built;
    whether it did (False on a new database, or one that has it already)."""
    recorder = MigrationRecorder(connections[database])
    if not recorder.has_table():
        return False
    with transaction.atomic(using=database):
        applied = recorder.applied_migrations()
        if BEFORE_THE_MOVE not in applied or THE_MOVE in applied:
            return False
        recorder.record_applied(*THE_MOVE)
    return True


class Command(MigrateCommand):
    def handle(self, *args: Any, **options: Any) -> None:
        if record_the_move(options["database"]) and options["verbosity"] >= 1:
            self.stdout.write(
                "Recorded accounts.0001_initial as applied: the user tables the feed app "
                "created are the accounts app's now (no table changes)."
            )
        super().handle(*args, **options)
