"""Progress of long work written to its row while the work itself runs in one transaction.

An import writes everything in one transaction (all or nothing), which would hide the progress
written to its own row until it ends. On PostgreSQL the progress therefore goes through a
connection of its own, each write committed at once, so the page polling the row sees the bar
move. SQLite allows one writer at a time: there the writes go into the work's transaction and
show when it ends (without a broker, tasks run in the request anyway).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)

# How often at most progress is written: enough for a bar that moves, and a negligible cost
# next to the work's own writes.
PROGRESS_INTERVAL_S = 1.0


class RowProgress:
    """Writes fields of one row apart from the current transaction, at most once per
    ``interval`` unless forced. A failed write is logged, never raised: a progress bar is not
    worth failing the work for. Close it when the work is done."""

    def __init__(
        self,
        model: type[models.Model],
        pk: Any,
        *,
        interval: float = PROGRESS_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.model = model
        self.pk = pk
        self.interval = interval
        self.clock = clock
        self.connection: BaseDatabaseWrapper | None = None
        if connection.vendor == "postgresql":
            self.connection = connections.create_connection(DEFAULT_DB_ALIAS)
        self.last_write = -math.inf

    def write(self, values: dict[str, Any], *, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self.last_write < self.interval:
            return
        self.last_write = now
        try:
            if self.connection is None:
                self.model._default_manager.filter(pk=self.pk).update(**values)
            else:
                self._write_apart(values)
        except DatabaseError:
            logger.warning(
                "progress of %s %s not recorded", self.model._meta.label, self.pk, exc_info=True
            )

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def __enter__(self) -> RowProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write_apart(self, values: dict[str, Any]) -> None:
        assert self.connection is not None
        quote = self.connection.ops.quote_name
        meta = self.model._meta
        fields = {field.name: field for field in meta.concrete_fields}
        assignments = ", ".join(f"{quote(fields[name].column)} = %s" for name in values)
        parameters = [
            fields[name].get_db_prep_save(value, self.connection) for name, value in values.items()
        ]
        table, key = quote(meta.db_table), quote(meta.pk.column)
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {assignments} WHERE {key} = %s",  # noqa: S608 -- names from the model
                [*parameters, self.pk],
            )
