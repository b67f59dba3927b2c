"""Timetable benchmark: GTFS import, departure boards and station search, side by side with
gtfs-via-postgres 4.11.1 on the same PostgreSQL server, in one run. Prints figures; not a test.

Run as root (the peer's database is created by the postgres superuser over the Unix socket of
the services harness), with the services up:

    eval "$(scripts/services env)"
    .venv/bin/python bench/timetable.py                 # everything, 1 import run each
    .venv/bin/python bench/timetable.py --runs 3        # median of 3 imports each
    .venv/bin/python bench/timetable.py --skip-import   # reuse the last run's imports

Trainy runs against its own database (default postgres://trainy:trainy@127.0.0.1:5432/
trainy_bench, created and migrated here), never the dev or test database. The peer gets a
database of its own, gvp_bench_mta, owned by postgres and readable by trainy. The peer's npm
package goes to /var/cache/trainy/bench-node and the unzipped feed it needs to
/var/cache/trainy/bench-gtfs: nothing is written into the repository.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import psycopg
from processes import stop, wait_until_listening
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
GTFS_DIR = ROOT.parent / "shared" / "data" / "gtfs"
MTA = "mta-nyct-subway-2026"
DB = "db-fv-2019"
FEEDS = {MTA: GTFS_DIR / MTA / "gtfs.zip", DB: GTFS_DIR / DB / "gtfs"}
MTA_STOP_TIMES = 2_419_889
MTA_ZONE = ZoneInfo("America/New_York")

PEER_PACKAGE = "gtfs-via-postgres"
PEER_VERSION = "4.11.1"
PEER_DATABASE = "gvp_bench_mta"
CACHE = Path(os.environ.get("TRAINY_CACHE_DIR", "/var/cache/trainy"))
NODE_DIR = CACHE / "bench-node"
UNZIPPED = CACHE / "bench-gtfs" / MTA
SERVICES_DIR = Path(os.environ.get("TRAINY_SERVICES_DIR", "/var/lib/trainy-services"))
PG_SOCKET_DIR = SERVICES_DIR / "postgres" / "run"

# The departures page. TODO(timetable page): keep in step with checkins/timetable/urls.py; the
# page part is skipped, with a note, while this answers 404.
PAGE_PATH = "/stations/{feed}/{stop_id}/departures/?{query}"

# The peer's departure board, as PEERS.md ran it (its view resolves parent stations itself).
PEER_BOARD = """
    SELECT trip_id, route_id, stop_id, t_departure, date
    FROM arrivals_departures
    WHERE station_id = %(station)s AND t_departure >= %(at)s
      AND date >= dates_filter_min(%(at)s)
    ORDER BY t_departure
    LIMIT 20
"""

TARGETS = {
    "import": "≥ 2x faster",
    "query": "p95 < 10 ms",
    "page": "p95 < 50 ms",
    "search": "p95 < 20 ms",
}


# --- Small helpers -----------------------------------------------------------------------------


def say(text: str = "") -> None:
    print(text, flush=True)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def spread(values: Sequence[float], shares: Sequence[float] = (0.5, 0.95, 0.99)) -> str:
    return " / ".join(ms(percentile(values, share)) for share in shares) + " ms"


def database_url(base: str, name: str) -> str:
    return urlsplit(base)._replace(path=f"/{name}").geturl()


def psql_as_postgres(database: str, *args: str, stdin: Any = None) -> list[str]:
    """The command line of a psql run as the postgres superuser over the harness's socket."""
    port = str(urlsplit(os.environ["DATABASE_URL"]).port or 5432)
    command = ["runuser", "-u", "postgres", "--", "psql", "-h", str(PG_SOCKET_DIR), "-p", port]
    return [*command, "-d", database, *args]


def run_as_postgres(database: str, statement: str) -> None:
    subprocess.run(
        psql_as_postgres(database, "-qAt", "-v", "ON_ERROR_STOP=1", "-c", statement),
        check=True,
        cwd="/",  # postgres may not read the caller's directory
    )


def timed(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


# --- The benchmark database and Django ---------------------------------------------------------


def prepare_django(url: str) -> None:
    """Point Django at the benchmark database (created if missing), migrate it, set up Django."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(database_url(url, "postgres"), autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            say(f"creating database {name}")
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    os.environ["DATABASE_URL"] = url
    # Production-like settings for a process that serves plain HTTP on loopback.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ["TRAINY_HTTPS"] = "false"
    os.environ["TRAINY_STATIC_MANIFEST"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "trainy.settings"
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


# --- Import ------------------------------------------------------------------------------------


def trainy_import(name: str, source: Path) -> float:
    """Wall time of `manage.py import_gtfs` in a process of its own, like the peer's CLI."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "manage.py", "import_gtfs", str(source), "--name", name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"import_gtfs {name} failed:\n{result.stdout}\n{result.stderr}")
    summary = result.stdout.strip().splitlines()
    say(f"    {summary[0] if summary else ''}")
    return seconds


def peer_prerequisites() -> Path:
    """PostGIS in the server, the npm package outside the repository, the feed unzipped (the
    peer reads .txt files only). Returns the gtfs-to-sql executable."""
    if os.geteuid() != 0:
        raise SystemExit("the peer needs root (runuser -u postgres); run as root or --no-peer")
    with psycopg.connect(os.environ["DATABASE_URL"]) as connection:
        row = connection.execute("SHOW server_version_num").fetchone()
    major = int(row[0]) // 10000 if row else 15
    if not Path(f"/usr/share/postgresql/{major}/extension/postgis.control").exists():
        package = f"postgresql-{major}-postgis-3"
        say(f"installing {package} (its SQL runs CREATE EXTENSION postgis)")
        subprocess.run(["apt-get", "install", "-y", "-q", package], check=True)
    executable = NODE_DIR / "node_modules" / ".bin" / "gtfs-to-sql"
    installed = NODE_DIR / "node_modules" / PEER_PACKAGE / "package.json"
    if not executable.exists() or f'"version": "{PEER_VERSION}"' not in installed.read_text():
        say(f"installing {PEER_PACKAGE}@{PEER_VERSION} into {NODE_DIR}")
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        manifest = NODE_DIR / "package.json"
        if not manifest.exists():
            manifest.write_text('{"name": "trainy-bench-node", "private": true}\n')
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", f"{PEER_PACKAGE}@{PEER_VERSION}"],
            cwd=NODE_DIR,
            check=True,
        )
    with zipfile.ZipFile(FEEDS[MTA]) as archive:
        members = [info for info in archive.infolist() if info.filename.endswith(".txt")]
        if any(
            not (UNZIPPED / info.filename).exists()
            or (UNZIPPED / info.filename).stat().st_size != info.file_size
            for info in members
        ):
            say(f"unzipping {MTA} into {UNZIPPED} (not timed)")
            shutil.rmtree(UNZIPPED, ignore_errors=True)
            UNZIPPED.mkdir(parents=True)
            archive.extractall(UNZIPPED, members)
    return executable


def peer_import(executable: Path) -> float:
    """One `gtfs-to-sql … | psql` run into a fresh database (created and dropped untimed)."""
    run_as_postgres("postgres", f'DROP DATABASE IF EXISTS "{PEER_DATABASE}" WITH (FORCE)')
    run_as_postgres("postgres", f'CREATE DATABASE "{PEER_DATABASE}"')
    files = sorted(str(path) for path in UNZIPPED.glob("*.txt"))
    options = ["--require-dependencies", "--trips-without-shape-id", "--lower-case-lang-codes"]
    started = time.perf_counter()
    generate = subprocess.Popen(
        [str(executable), *options, "--", *files], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    load = subprocess.run(
        psql_as_postgres(PEER_DATABASE, "-b", "-q"),
        stdin=generate.stdout,
        capture_output=True,
        text=True,
        cwd="/",
        check=False,
    )
    assert generate.stdout is not None and generate.stderr is not None
    generate.stdout.close()
    errors = generate.stderr.read().decode()
    generate.wait()
    seconds = time.perf_counter() - started
    if generate.returncode or load.returncode:
        raise SystemExit(f"gtfs-via-postgres import failed:\n{errors[-2000:]}\n{load.stderr}")
    return seconds


def peer_finish() -> None:
    """VACUUM ANALYZE (the peer runs none; not counted) and let trainy read the tables, so both
    sides are queried over the same kind of connection."""
    seconds = timed(lambda: run_as_postgres(PEER_DATABASE, "VACUUM ANALYZE"))
    say(f"    VACUUM ANALYZE {seconds:.1f} s (not counted)")
    user = urlsplit(os.environ["DATABASE_URL"]).username or "trainy"
    run_as_postgres(
        PEER_DATABASE,
        f'GRANT USAGE ON SCHEMA public TO "{user}"; '
        f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{user}";',
    )


def peer_database_exists() -> bool:
    with psycopg.connect(database_url(os.environ["DATABASE_URL"], "postgres")) as connection:
        return bool(
            connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [PEER_DATABASE]
            ).fetchone()
        )


@dataclass
class ImportFigures:
    trainy: list[float]
    peer: list[float]


def bench_import(runs: int, peer: bool) -> ImportFigures:
    say(f"== Import of {MTA} ({MTA_STOP_TIMES:,} stop_times), {runs} run(s) each")
    figures = ImportFigures([], [])
    for run in range(1, runs + 1):
        say(f"  Trainy run {run}:")
        figures.trainy.append(trainy_import(MTA, FEEDS[MTA]))
        say(f"    {figures.trainy[-1]:.1f} s")
    say(f"  Trainy {DB} (for station search, not compared):")
    say(f"    {trainy_import(DB, FEEDS[DB]):.1f} s")
    if peer:
        executable = peer_prerequisites()
        for run in range(1, runs + 1):
            say(f"  gtfs-via-postgres run {run}:")
            figures.peer.append(peer_import(executable))
            say(f"    {figures.peer[-1]:.1f} s")
        peer_finish()
    return figures


# --- Random pairs and queries ------------------------------------------------------------------


def feed_rows(name: str, file: str) -> list[dict[str, str]]:
    source = FEEDS[name]
    if source.is_dir():
        data = (source / file).read_bytes()
    else:
        with zipfile.ZipFile(source) as archive:
            data = archive.read(file)
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def board_pairs(count: int, rng: random.Random, month: str | None) -> list[tuple[str, datetime]]:
    """(parent station, whole minute in the calendar's period, or in ``month``) of the MTA
    feed, uniform."""
    stations = sorted(
        row["stop_id"] for row in feed_rows(MTA, "stops.txt") if row["location_type"] == "1"
    )
    calendar = feed_rows(MTA, "calendar.txt")
    first = min(datetime.strptime(row["start_date"], "%Y%m%d") for row in calendar)
    last = max(datetime.strptime(row["end_date"], "%Y%m%d") for row in calendar)
    if month:
        first = max(first, datetime.strptime(month, "%Y-%m"))
        following = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        last = min(last, following - timedelta(days=1))
    minutes = int((last - first).total_seconds() // 60) + 24 * 60
    pairs = []
    for _ in range(count):
        local = first + timedelta(minutes=rng.randrange(minutes))
        pairs.append((rng.choice(stations), local.replace(tzinfo=MTA_ZONE)))
    return pairs


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search_queries(count: int, rng: random.Random) -> list[str]:
    """What a traveller types: prefixes of names or of a word, inner substrings, lower case,
    accents dropped, from the station names of both feeds."""
    names = [row["stop_name"] for row in feed_rows(DB, "stops.txt")]
    names += [
        row["stop_name"] for row in feed_rows(MTA, "stops.txt") if row["location_type"] == "1"
    ]
    return queries_from_names(names, count, rng)


def queries_from_names(names: Sequence[str], count: int, rng: random.Random) -> list[str]:
    """``count`` queries a traveller might type to find one of ``names``."""
    queries = []
    for _ in range(count):
        name = rng.choice(names)
        kind = rng.randrange(4)
        if kind == 0:  # the start of the name
            query = name[: rng.randint(2, max(2, min(len(name), 12)))]
        elif kind == 1:  # the start of one of its words
            word = rng.choice(name.split())
            query = word[: rng.randint(min(3, len(word)), len(word))]
        elif kind == 2:  # somewhere inside
            start = rng.randrange(max(1, len(name) - 3))
            query = name[start : start + rng.randint(3, 8)]
        else:  # the whole name as typed on a phone
            query = name
        if rng.random() < 0.5:
            query = fold(query).lower()
        queries.append(query.strip() or name)
    return queries


# --- Departure boards ----------------------------------------------------------------------------


def bench_trainy_query(
    pairs: list[tuple[str, datetime]], warmup: int, feed: str = MTA, label: str = "Trainy query"
) -> list[float]:
    """checkins.timetable.selectors.departures(limit=20) for each pair, only the call timed."""
    from checkins.timetable.selectors import departures

    times = []
    sizes = []
    for n, (station, at) in enumerate([*pairs[:warmup], *pairs]):
        started = time.perf_counter()
        board = departures(stop_id=station, at=at, limit=20, feed=feed)
        elapsed = time.perf_counter() - started
        if n >= warmup:
            times.append(elapsed)
            sizes.append(len(board))
    say(f"  {label}: {spread(times)}  (mean board {statistics.mean(sizes):.1f} rows)")
    return times


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bench_trainy_page(pairs: list[tuple[str, datetime]], warmup: int, log: Path) -> list[float]:
    """The whole page over HTTP from gunicorn (one sync worker, as a pod would run it)."""
    port = free_port()
    with log.open("w") as output:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "trainy.wsgi", "--bind",
             f"127.0.0.1:{port}", "--workers", "1", "--log-level", "warning"],
            cwd=ROOT, env=os.environ.copy(), stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until_listening(server, "127.0.0.1", port, timeout=30, log=log)
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def get(station: str, at: datetime) -> tuple[int, bytes]:
            query = urlencode({"at": at.strftime("%Y-%m-%dT%H:%M")})
            path = PAGE_PATH.format(feed=MTA, stop_id=quote(station), query=query)
            client.request("GET", path, headers={"Host": "127.0.0.1"})
            response = client.getresponse()
            return response.status, response.read()

        status, _ = get(*pairs[0])
        if status == 404:
            say(f"  Trainy page: skipped, {PAGE_PATH} answers 404 (the page is not there yet)")
            return []
        times = []
        failures = 0
        for n, (station, at) in enumerate([*pairs[:warmup], *pairs]):
            started = time.perf_counter()
            status, _ = get(station, at)
            elapsed = time.perf_counter() - started
            failures += status != 200
            if n >= warmup:
                times.append(elapsed)
        note = f", {failures} responses not 200 (see {log})" if failures else ""
        say(f"  Trainy page:  {spread(times)}{note}")
        return times
    finally:
        stop(server, timeout=20)


def bench_peer_query(pairs: list[tuple[str, datetime]], warmup: int) -> list[float]:
    url = database_url(os.environ["DATABASE_URL"], PEER_DATABASE)
    times = []
    sizes = []
    with psycopg.connect(url, autocommit=True) as connection:
        for n, (station, at) in enumerate([*pairs[:warmup], *pairs]):
            started = time.perf_counter()
            rows = connection.execute(PEER_BOARD, {"station": station, "at": at}).fetchall()
            elapsed = time.perf_counter() - started
            if n >= warmup:
                times.append(elapsed)
                sizes.append(len(rows))
            if len(times) % 250 == 0 and n >= warmup:
                say(f"    … {len(times)} of {len(pairs)}")
    mean = statistics.mean(sizes)
    say(f"  gtfs-via-postgres query: {spread(times)}  (mean board {mean:.1f} rows)")
    return times


# --- Station search ------------------------------------------------------------------------------


def bench_search(queries: list[str], warmup: int) -> list[float]:
    from checkins.timetable.selectors import station_search

    times = []
    empty = 0
    for n, query in enumerate([*queries[:warmup], *queries]):
        started = time.perf_counter()
        found = station_search(query, limit=10)
        elapsed = time.perf_counter() - started
        if n >= warmup:
            times.append(elapsed)
            empty += not found
    say(f"  Trainy search: {spread(times)}  ({empty} of {len(queries)} queries found nothing)")
    return times


# --- Main ----------------------------------------------------------------------------------------


def add_database_argument(parser: argparse.ArgumentParser, help: str) -> None:
    """--database-url, the benchmarks' own database (never the dev or test one)."""
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://trainy:trainy@127.0.0.1:5432/trainy_bench"
        ),
        help=help,
    )


def verdict(ok: bool | None) -> str:
    return {True: "yes", False: "NO", None: "–"}[ok]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_database_argument(parser, "Trainy's benchmark database (created and migrated if missing)")
    parser.add_argument("--runs", type=int, default=1, help="import runs per side (median)")
    parser.add_argument("--queries", type=int, default=1000, help="departure boards per side")
    parser.add_argument("--searches", type=int, default=1000, help="station searches")
    parser.add_argument("--warmup", type=int, default=50, help="untimed queries before each")
    parser.add_argument("--seed", type=int, default=20260526)
    parser.add_argument(
        "--month",
        metavar="YYYY-MM",
        help="board times in this month only (PEERS.md's figures used one month)",
    )
    parser.add_argument("--skip-import", action="store_true", help="reuse the imported feeds")
    parser.add_argument("--no-peer", action="store_true", help="Trainy's figures only")
    parser.add_argument("--no-page", action="store_true", help="skip the page over HTTP")
    args = parser.parse_args(argv)

    if not FEEDS[MTA].exists():
        raise SystemExit(f"the staged feed is missing: {FEEDS[MTA]}")
    prepare_django(args.database_url)
    from django.db import connection

    from checkins.timetable.selectors import active_versions

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT version(), current_setting('shared_buffers'), current_setting('jit')"
        )
        version, shared_buffers, jit = cursor.fetchone()
    say(f"PostgreSQL: {version.split(',')[0]}, shared_buffers {shared_buffers}, jit {jit}")
    say(f"Machine: {os.cpu_count()} cores; Trainy database {args.database_url}")
    say()

    imports: ImportFigures | None = None
    if args.skip_import:
        say("== Import: skipped (--skip-import), using the feeds imported before")
        connection.close()
    else:
        connection.close()  # the import runs in its own process
        imports = bench_import(args.runs, peer=not args.no_peer)
    feeds = {version.feed for version in active_versions()}
    if not {MTA, DB} <= feeds:
        raise SystemExit(f"the benchmark database lacks {MTA} and {DB}: run without --skip-import")
    peer = not args.no_peer
    if peer and args.skip_import and not peer_database_exists():
        raise SystemExit(f"no {PEER_DATABASE} database: run without --skip-import, or --no-peer")
    say()

    rng = random.Random(args.seed)  # noqa: S311 (reproducible samples, not secrets)
    pairs = board_pairs(args.queries, rng, args.month)
    window = args.month or "its calendar period"
    say(f"== Departure boards: {args.queries} random (parent station, minute in {window}) pairs "
        f"of {MTA}, next 20, {args.warmup} warm-up queries each")  # fmt: skip
    query_times = bench_trainy_query(pairs, args.warmup)
    page_times: list[float] = []
    if not args.no_page:
        log = Path(os.environ.get("TMPDIR", "/tmp")) / "trainy-bench-gunicorn.log"  # noqa: S108
        page_times = bench_trainy_page(pairs, args.warmup, log)
    peer_times = bench_peer_query(pairs, args.warmup) if peer else []
    say()

    queries = search_queries(args.searches, rng)
    say(f"== Station search: {args.searches} queries over the names of both feeds")
    search_times = bench_search(queries, args.warmup)
    say()

    rows = []
    if imports is not None:
        trainy_import_s = statistics.median(imports.trainy)
        runs = ", ".join(f"{s:.1f}" for s in imports.trainy)
        trainy_cell = (
            f"{trainy_import_s:.1f} s ({MTA_STOP_TIMES / trainy_import_s / 1000:.0f}k rows/s)"
        )
        if imports.peer:
            peer_import_s = statistics.median(imports.peer)
            ratio = peer_import_s / trainy_import_s
            peer_cell = (
                f"{peer_import_s:.1f} s ({MTA_STOP_TIMES / peer_import_s / 1000:.1f}k rows/s)"
            )
            runs += " | peer " + ", ".join(f"{s:.1f}" for s in imports.peer)
            rows.append((f"import {MTA}", trainy_cell, peer_cell, TARGETS["import"],
                         f"{verdict(ratio >= 2)} ({ratio:.1f}x)"))  # fmt: skip
        else:
            rows.append((f"import {MTA}", trainy_cell, "–", TARGETS["import"], "–"))
        say(f"Import runs (s): Trainy {runs}")
    rows.append(
        ("departures query p50/p95/p99", spread(query_times),
         spread(peer_times) if peer_times else "–", TARGETS["query"],
         verdict(percentile(query_times, 0.95) < 0.010)),
    )  # fmt: skip
    rows.append(
        ("departures page p50/p95/p99", spread(page_times) if page_times else "skipped", "–",
         TARGETS["page"], verdict(percentile(page_times, 0.95) < 0.050 if page_times else None)),
    )  # fmt: skip
    rows.append(
        ("station search p50/p95", spread(search_times, (0.5, 0.95)), "–", TARGETS["search"],
         verdict(percentile(search_times, 0.95) < 0.020)),
    )  # fmt: skip
    header = ("measure", "Trainy", f"gtfs-via-postgres {PEER_VERSION}", "target", "met")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * width for width in widths), *rows]:
        say("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
