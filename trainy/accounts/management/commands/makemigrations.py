"""Django's makemigrations, first putting right the history of a database migrated before the
user model moved to this app: makemigrations runs the same consistency check as migrate (see
migrate.py), so a developer who runs it before migrating would otherwise meet
InconsistentMigrationHistory."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from django.core.management.commands.makemigrations import Command as MakemigrationsCommand
from django.db import DatabaseError, connections

from trainy.accounts.management.commands.migrate import record_the_move


class Command(MakemigrationsCommand):
    def handle(self, *app_labels: Any, **options: Any) -> None:
        for database in connections:
            # Unreachable: makemigrations warns about that itself and goes on without it.
            with suppress(DatabaseError):
                record_the_move(database)
        super().handle(*app_labels, **options)
