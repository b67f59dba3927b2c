"""The timetable tables (``tt_*``) and their per-version partitions.

GTFS string ids are mapped to dense integers at import (``*_pk``), so the big tables hold only
integers and their indexes stay small. Every table carries ``version_id``:

- on PostgreSQL each table is partitioned by version. A version is loaded into plain tables
  with COPY and no indexes, indexed afterwards (much faster than maintaining indexes row by
  row), then attached as partitions. Retiring a version is a DROP of its partitions, not a
  DELETE of millions of rows.
- on SQLite (the embedded default) the tables are plain and a version's rows are deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.backends.base.base import BaseDatabaseWrapper


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str
    nullable: bool = True


@dataclass(frozen=True)
class Index:
    name: str
    definition: str  # "(col, col)" or "USING gin (col gin_trgm_ops)" on PostgreSQL
    sqlite_definition: str | None = None  # None: same as definition; "" : no index on SQLite
    unique: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    indexes: tuple[Index, ...] = ()

    @property
    def load_columns(self) -> tuple[str, ...]:
        """The columns an import writes (version_id comes from the partition's default)."""
        return tuple(column.name for column in self.columns if column.name != "version_id")


def _cols(*specs: tuple[str, str] | tuple[str, str, bool]) -> tuple[Column, ...]:
    return (Column("version_id", "integer", False), *(Column(*spec) for spec in specs))


AGENCY = Table(
    "tt_agency",
    _cols(
        ("agency_pk", "integer", False),
        ("agency_id", "text", False),
        ("name", "text", False),
        ("url", "text"),
        ("timezone", "text", False),
        ("lang", "text"),
        ("phone", "text"),
    ),
    ("version_id", "agency_pk"),
)
STOP = Table(
    "tt_stop",
    _cols(
        ("stop_pk", "integer", False),
        ("stop_id", "text", False),
        ("code", "text"),
        ("name", "text", False),
        # Lower case, accents and punctuation removed: what search matches against.
        ("search_name", "text", False),
        ("lat", "double precision"),
        ("lon", "double precision"),
        ("location_type", "smallint", False),
        ("parent_pk", "integer"),
        ("platform_code", "text"),
        # Departures at the stop and, for a station, at all its platforms: ranks search hits.
        ("departures", "integer", False),
    ),
    ("version_id", "stop_pk"),
    (
        Index("tt_stop_stop_id", "(version_id, stop_id)", unique=True),
        Index("tt_stop_parent", "(version_id, parent_pk)"),
        Index(
            "tt_stop_search_trgm",
            "USING gin (search_name gin_trgm_ops)",
            sqlite_definition="",
        ),
        Index("tt_stop_lat_lon", "(lat, lon)"),
    ),
)
ROUTE = Table(
    "tt_route",
    _cols(
        ("route_pk", "integer", False),
        ("route_id", "text", False),
        ("agency_pk", "integer"),
        ("short_name", "text"),
        ("long_name", "text"),
        ("route_type", "integer", False),
        ("mode", "text", False),
        ("color", "text"),
        ("text_color", "text"),
    ),
    ("version_id", "route_pk"),
)
SERVICE = Table(
    "tt_service",
    _cols(("service_pk", "integer", False), ("service_id", "text", False)),
    ("version_id", "service_pk"),
)
SERVICE_DATE = Table(
    "tt_service_date",
    _cols(("service_pk", "integer", False), ("date", "date", False)),
    ("version_id", "service_pk", "date"),
)
TRIP = Table(
    "tt_trip",
    _cols(
        ("trip_pk", "integer", False),
        ("trip_id", "text", False),
        ("route_pk", "integer", False),
        ("service_pk", "integer", False),
        ("headsign", "text"),
        ("short_name", "text"),
        ("direction_id", "smallint"),
        ("block_id", "text"),
        ("shape_pk", "integer"),
        # The stop_sequence of the trip's last stop: a stop there is an arrival, not a departure.
        ("last_seq", "integer", False),
    ),
    ("version_id", "trip_pk"),
    (Index("tt_trip_trip_id", "(version_id, trip_id)", unique=True),),
)
STOP_TIME = Table(
    "tt_stop_time",
    _cols(
        ("trip_pk", "integer", False),
        ("seq", "integer", False),
        ("stop_pk", "integer", False),
        # The trip's service, copied here so that the board can drop trips not running that
        # day straight from its index, before joining anything.
        ("service_pk", "integer", False),
        ("arrival_s", "integer"),
        ("departure_s", "integer"),
        ("pickup_type", "smallint", False),
        ("drop_off_type", "smallint", False),
        ("headsign", "text"),
        ("shape_dist", "double precision"),
    ),
    ("version_id", "trip_pk", "seq"),
    (
        # The departure board: a station's stops in time order, with what the board filters on
        # in the index itself (index-only scans).
        Index(
            "tt_stop_time_board",
            "(version_id, stop_pk, departure_s) INCLUDE (trip_pk, seq, pickup_type, service_pk)",
            sqlite_definition="(version_id, stop_pk, departure_s)",
        ),
    ),
)
SHAPE = Table(
    "tt_shape",
    _cols(
        ("shape_pk", "integer", False),
        ("shape_id", "text", False),
        # The whole shape as an encoded polyline (precision 6) and its points' distances.
        ("path", "text", False),
        ("points", "integer", False),
    ),
    ("version_id", "shape_pk"),
)
TRANSFER = Table(
    "tt_transfer",
    _cols(
        ("from_stop_pk", "integer", False),
        ("to_stop_pk", "integer", False),
        ("transfer_type", "smallint", False),
        ("min_transfer_time", "integer"),
    ),
    ("version_id", "from_stop_pk", "to_stop_pk"),
)

TABLES: tuple[Table, ...] = (
    AGENCY,
    STOP,
    ROUTE,
    SERVICE,
    SERVICE_DATE,
    TRIP,
    STOP_TIME,
    SHAPE,
    TRANSFER,
)
SQLITE_TYPES = {
    "integer": "integer",
    "smallint": "integer",
    "text": "text",
    "double precision": "real",
    "date": "date",
}


def _column_sql(column: Column, vendor: str) -> str:
    kind = column.pg_type if vendor == "postgresql" else SQLITE_TYPES[column.pg_type]
    return f"{column.name} {kind}{'' if column.nullable else ' NOT NULL'}"


def create_parent_tables(connection: BaseDatabaseWrapper) -> None:
    """Create the tt_* tables (partitioned parents on PostgreSQL). Run by a migration."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            # Trusted since PostgreSQL 13: the database owner may create it.
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for table in TABLES:
            columns = ", ".join(_column_sql(column, vendor) for column in table.columns)
            primary_key = f"PRIMARY KEY ({', '.join(table.primary_key)})"
            partitioned = " PARTITION BY LIST (version_id)" if vendor == "postgresql" else ""
            cursor.execute(f"CREATE TABLE {table.name} ({columns}, {primary_key}){partitioned}")
            for index in table.indexes:
                definition = index.definition
                if vendor != "postgresql":
                    if index.sqlite_definition == "":
                        continue
                    definition = index.sqlite_definition or definition
                unique = "UNIQUE " if index.unique else ""
                cursor.execute(f"CREATE {unique}INDEX {index.name} ON {table.name} {definition}")


def drop_parent_tables(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for table in reversed(TABLES):
            cursor.execute(f"DROP TABLE IF EXISTS {table.name}")


def partition_name(table: Table, version_id: int) -> str:
    return f"{table.name}_v{int(version_id)}"


def create_load_tables(connection: BaseDatabaseWrapper, version_id: int) -> None:
    """PostgreSQL: empty, index-less tables for one version, filled by COPY before attaching."""
    with connection.cursor() as cursor:
        for table in TABLES:
            name = partition_name(table, version_id)
            # A failed import of the same id may have left one behind (e.g. a killed process).
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
            cursor.execute(f"CREATE TABLE {name} (LIKE {table.name} INCLUDING DEFAULTS)")
            cursor.execute(
                f"ALTER TABLE {name} ALTER COLUMN version_id SET DEFAULT {int(version_id)}"
            )
            # The constraint that lets ATTACH skip its validation scan, made while the table is
            # empty: added after the load, it would read every row once more to validate it.
            check = f"CHECK (version_id = {int(version_id)})"
            cursor.execute(f"ALTER TABLE {name} ADD CONSTRAINT {name}_version {check}")


def index_and_attach(connection: BaseDatabaseWrapper, version_id: int) -> None:
    """PostgreSQL: index the loaded tables like their parents, then attach them as partitions.

    The CHECK constraint made with the table (create_load_tables) lets ATTACH skip its
    validation scan; the matching indexes are adopted by the parents' partitioned indexes
    instead of being built again. Raises IntegrityError on duplicate keys.
    """
    version_id = int(version_id)
    with connection.cursor() as cursor:
        for table in TABLES:
            name = partition_name(table, version_id)
            cursor.execute(f"ALTER TABLE {name} ADD PRIMARY KEY ({', '.join(table.primary_key)})")
            for index in table.indexes:
                unique = "UNIQUE " if index.unique else ""
                cursor.execute(
                    f"CREATE {unique}INDEX {index.name}_v{version_id} ON {name} {index.definition}"
                )
            cursor.execute(f"ANALYZE {name}")
            cursor.execute(
                f"ALTER TABLE {table.name} ATTACH PARTITION {name} FOR VALUES IN ({version_id})"
            )


def drop_version(connection: BaseDatabaseWrapper, version_id: int) -> None:
    """Remove one version's rows: drop its partitions (PostgreSQL) or delete them (SQLite)."""
    version_id = int(version_id)
    with connection.cursor() as cursor:
        for table in TABLES:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TABLE IF EXISTS {partition_name(table, version_id)}")
            else:
                cursor.execute(f"DELETE FROM {table.name} WHERE version_id = %s", [version_id])


def vacuum_version(connection: BaseDatabaseWrapper, version_id: int) -> None:
    """PostgreSQL: mark the new stop times all-visible, so the board's index-only scans need
    no heap visits. Outside any transaction (VACUUM cannot run in one)."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {partition_name(STOP_TIME, version_id)}")
