"""National-scale timetable benchmark: a ~30M stop_times feed made by tiling the MTA feed,
imported with `manage.py import_gtfs`, beside the MTA feed itself in the same run (and
gtfs-via-postgres on the MTA feed, as bench/timetable.py runs it). Prints figures; not a test.

    eval "$(scripts/services env)"
    .venv/bin/python bench/national.py                 # 12 tiles (~29M stop_times), the peer
    .venv/bin/python bench/national.py --tiles 2 --no-peer   # a quick look while developing

The tiled feed is written once to /var/cache/trainy/bench-national/ (outside the repository)
and reused while it is complete. Trainy imports into databases of its own: the national feed
into trainy_bench_national, the MTA feed alone into trainy_bench_national_mta (so each size is
one instance's whole timetable, and station search at MTA size searches MTA's names only).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import psycopg
from psycopg import sql
from timetable import (
    CACHE,
    FEEDS,
    MTA,
    MTA_STOP_TIMES,
    PEER_DATABASE,
    PEER_VERSION,
    ROOT,
    bench_peer_query,
    bench_search,
    bench_trainy_query,
    board_pairs,
    database_url,
    feed_rows,
    peer_database_exists,
    peer_finish,
    peer_import,
    peer_prerequisites,
    percentile,
    prepare_django,
    queries_from_names,
    say,
    spread,
    verdict,
)

NATIONAL_DIR = CACHE / "bench-national"
# Bumped whenever the generator's output changes, so an older output is not reused.
GENERATOR_VERSION = 1
DEFAULT_TILES = 12  # 12 x 2,419,889 = 29,038,668 stop_times
# Per tile, the columns holding ids that must not collide with another tile's.
ID_COLUMNS = {
    "agency.txt": ("agency_id",),
    "stops.txt": ("stop_id", "parent_station"),
    "routes.txt": ("agency_id", "route_id"),
    "trips.txt": ("route_id", "trip_id", "service_id", "shape_id", "block_id"),
    "stop_times.txt": ("trip_id", "stop_id"),
    "calendar.txt": ("service_id",),
    "calendar_dates.txt": ("service_id",),
    "shapes.txt": ("shape_id",),
    "transfers.txt": ("from_stop_id", "to_stop_id"),
}
# Files written once, not per tile (one feed, one publisher).
ONCE = ("feed_info.txt",)
# Tiles lie on a grid of GRID_COLUMNS columns, TILE_LAT x TILE_LON degrees apart: far enough
# apart (the MTA network spans about 0.4 x 0.5 degrees) that no tile's stops are near another's.
GRID_COLUMNS = 4
TILE_LAT, TILE_LON = 1.0, 1.5
# A place name per tile, after each station's name ("Times Sq-42 St (Bravo)"), so search
# meets many stations of the same name, as it does in a national feed.
PLACES = (
    "Alfa", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India",
    "Juliett", "Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo",
    "Sierra", "Tango", "Uniform", "Victor", "Whiskey", "Xray", "Yankee", "Zulu",
)  # fmt: skip


def tile_prefix(tile: int) -> str:
    return f"t{tile:02d}-"


def tile_place(tile: int) -> str:
    place = PLACES[tile % len(PLACES)]
    return place if tile < len(PLACES) else f"{place} {tile // len(PLACES) + 1}"


def tile_shift(tile: int) -> tuple[float, float]:
    """(lat, lon) degrees added to every coordinate of the tile; tile 0 stays in New York."""
    return -(tile // GRID_COLUMNS) * TILE_LAT, -(tile % GRID_COLUMNS) * TILE_LON


NATIONAL_FEED = "national"


def national_name(tiles: int) -> str:
    return f"national-{tiles}"


def _complete(folder: Path, manifest: dict[str, object]) -> bool:
    marker = folder / "COMPLETE.json"
    return marker.exists() and json.loads(marker.read_text()) == manifest


def generate(tiles: int, root: Path = NATIONAL_DIR) -> Path:
    """The folder of the ``tiles``-tile feed, written now unless a complete one is there.

    Deterministic: the same source and tile count give the same bytes. The files are written
    into a temporary folder renamed at the end, and COMPLETE.json (what was made from what) is
    written last, so a run stopped half-way is never taken for a feed."""
    source = FEEDS[MTA]
    stat = source.stat()
    manifest: dict[str, object] = {
        "generator": GENERATOR_VERSION,
        "source": str(source),
        "source_size": stat.st_size,
        "source_mtime": int(stat.st_mtime),
        "tiles": tiles,
    }
    folder = root / national_name(tiles)
    if _complete(folder, manifest):
        say(f"  reusing {folder} (complete)")
        return folder
    say(f"  writing {tiles} tiles of {MTA} into {folder}")
    started = time.perf_counter()
    partial = root / f".{national_name(tiles)}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)
    partial.mkdir(parents=True)
    counts: dict[str, int] = {}
    with zipfile.ZipFile(source) as archive:
        for info in archive.infolist():
            name = info.filename.rsplit("/", 1)[-1]
            if not name.endswith(".txt"):
                continue
            file_started = time.perf_counter()
            with (
                archive.open(info) as raw,
                (partial / name).open("w", encoding="utf-8", newline="") as out,
            ):
                text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                counts[name] = _write_tiles(name, text, out, 1 if name in ONCE else tiles)
            seconds = time.perf_counter() - file_started
            say(f"    {name:<20} {counts[name]:>12,} rows  {seconds:6.1f} s")
    (partial / "COMPLETE.json").write_text(json.dumps(manifest, indent=1) + "\n")
    partial.rename(folder)
    say(f"  written in {time.perf_counter() - started:.0f} s: {counts['stop_times.txt']:,} "
        f"stop_times ({tiles} x {MTA_STOP_TIMES:,})")  # fmt: skip
    return folder


def _write_tiles(name: str, text: io.TextIOWrapper, out: io.TextIOBase, tiles: int) -> int:
    """Write the header, then the file's rows once per tile, transformed for that tile."""
    header_line = text.readline()
    header = next(csv.reader([header_line]))
    out.write(",".join(header) + "\n")
    lines = text.read().splitlines()
    writer = csv.writer(out, lineterminator="\n")
    count = 0
    for tile in range(tiles):
        transform = _transformer(name, header, tile)
        for line in lines:
            if not line:
                continue
            # Most lines have no quotes: split them, cheaply; the csv module for the others.
            row = line.split(",") if '"' not in line else next(csv.reader([line]))
            writer.writerow(transform(row))
            count += 1
    return count


def _transformer(name: str, header: list[str], tile: int) -> Callable[[list[str]], list[str]]:
    """What becomes of one row of ``name`` in ``tile``: ids prefixed, names suffixed,
    coordinates shifted."""
    prefix, place = tile_prefix(tile), tile_place(tile)
    dlat, dlon = tile_shift(tile)
    ids = [header.index(column) for column in ID_COLUMNS.get(name, ()) if column in header]
    names = [
        header.index(column)
        for column in ("stop_name", "agency_name", "route_long_name")
        if column in header
    ]
    lats = [header.index(c) for c in ("stop_lat", "shape_pt_lat") if c in header]
    lons = [header.index(c) for c in ("stop_lon", "shape_pt_lon") if c in header]

    def shifted(value: str, by: float) -> str:
        return f"{float(value) + by:.6f}" if value.strip() else value

    def transform(row: list[str]) -> list[str]:
        for i in ids:
            if row[i]:
                row[i] = prefix + row[i]
        for i in names:
            if row[i]:
                row[i] = f"{row[i]} ({place})"
        for i in lats:
            row[i] = shifted(row[i], dlat)
        for i in lons:
            row[i] = shifted(row[i], dlon)
        return row

    if not (ids or names or lats or lons):
        return lambda row: row
    return transform


def station_rows(folder: Path) -> list[dict[str, str]]:
    """The parent stations (location_type 1) of a feed folder's stops.txt."""
    with (folder / "stops.txt").open(encoding="utf-8", newline="") as file:
        return [row for row in csv.DictReader(file) if row["location_type"] == "1"]


# --- Databases and imports ------------------------------------------------------------------


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def ensure_database(url: str) -> None:
    """Create the database if missing and migrate it, in a process of its own (the benchmark's
    Django is set up on one database at a time)."""
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(database_url(url, "postgres"), autocommit=True) as connection:
        if not connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone():
            say(f"creating database {name}")
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": url}, check=True,
    )  # fmt: skip


@dataclass
class ImportRun:
    seconds: float
    stop_times: int
    max_rss_kb: int  # the import process's peak resident memory (wait4's ru_maxrss)
    cpu_seconds: float  # the import process's user + system time (wait4)
    backend_cpu_seconds: float  # its backend's, at the last sample (parallel workers not counted)
    backend_rss_kb: int  # its PostgreSQL backend's peak (VmHWM), shared buffers it touched included
    worker_rss_kb: int  # the largest parallel worker of its index builds (VmHWM), 0 if none seen
    index_seconds: float  # from the "indexing" phase to the next one
    disk_bytes: int  # pg_total_relation_size of the version's tt_* partitions
    summary: str


APPLICATION_NAME = "trainy-bench-import"


def _peak_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass  # gone already, or not ours to read
    return 0


def _cpu_seconds(pid: int) -> float:
    """User + system time of a process so far, from /proc (0 if it cannot be read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def measured_import(url: str, name: str, source: Path) -> ImportRun:
    """`manage.py import_gtfs` in a process of its own: its wall time and peak RSS, its
    PostgreSQL backend's peak RSS (sampled every 0.2 s from /proc, which needs root or the
    postgres user; 0 otherwise), and when its "indexing" phase starts and the next one begins."""
    env = {**os.environ, "DATABASE_URL": url, "PGAPPNAME": APPLICATION_NAME,
           "PYTHONUNBUFFERED": "1"}  # fmt: skip
    phases: list[tuple[float, str]] = []
    peaks = {"backend": 0, "worker": 0}
    backend_cpu = [0.0]
    done = threading.Event()

    def read_phases(stream: IO[bytes]) -> None:
        # tqdm redraws with \r; a phase is a line of its own ending in "…".
        for raw in stream:
            for part in raw.decode(errors="replace").replace("\r", "\n").splitlines():
                if part.strip().endswith("…"):
                    phases.append((time.perf_counter(), part.strip().rstrip("…")))
        stream.close()

    def watch_backend() -> None:
        with psycopg.connect(url, autocommit=True) as watcher:
            while not done.wait(0.2):
                rows = watcher.execute(
                    """SELECT pid, backend_type FROM pg_stat_activity
                       WHERE pid IN (SELECT pid FROM pg_stat_activity WHERE application_name = %s)
                          OR leader_pid IN
                             (SELECT pid FROM pg_stat_activity WHERE application_name = %s)""",
                    [APPLICATION_NAME, APPLICATION_NAME],
                ).fetchall()
                for pid, kind in rows:
                    key = "worker" if kind == "parallel worker" else "backend"
                    peaks[key] = max(peaks[key], _peak_kb(pid))
                    if key == "backend":
                        backend_cpu[0] = max(backend_cpu[0], _cpu_seconds(pid))

    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "import_gtfs", str(source), "--name", name],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    threads = [
        threading.Thread(target=read_phases, args=(process.stderr,), daemon=True),
        threading.Thread(target=watch_backend, daemon=True),
    ]
    for thread in threads:
        thread.start()
    output = process.stdout.read().decode()
    # wait4, not wait(): the rusage of this one child, not the maximum over all of them.
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    for thread in threads:
        thread.join(timeout=10)
    if process.returncode != 0:
        raise SystemExit(f"import_gtfs {name} failed:\n{output}")
    names = [text for _, text in phases]
    index_seconds = 0.0
    if "indexing" in names:
        at = names.index("indexing")
        end = phases[at + 1][0] if at + 1 < len(phases) else started + seconds
        index_seconds = end - phases[at][0]
    active = active_version(url, name)
    assert active is not None
    version_id, stop_times = active
    with psycopg.connect(url) as connection:
        disk = connection.execute(
            "SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c "
            "WHERE c.relname LIKE 'tt\\_%%\\_v' || %s AND c.relkind = 'r'",
            [str(version_id)],
        ).fetchone()
    return ImportRun(
        seconds=seconds,
        stop_times=stop_times,
        max_rss_kb=usage.ru_maxrss,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        backend_cpu_seconds=backend_cpu[0],
        backend_rss_kb=peaks["backend"],
        worker_rss_kb=peaks["worker"],
        index_seconds=index_seconds,
        disk_bytes=int(disk[0] or 0) if disk else 0,
        summary=output.strip().splitlines()[0] if output.strip() else "",
    )


def active_version(url: str, feed: str) -> tuple[int, int] | None:
    """The id and stop_times of the feed's active version in that database (None without one)."""
    with psycopg.connect(url) as connection:
        row = connection.execute(
            """SELECT v.id, (v.row_counts ->> 'stop_times')::bigint
               FROM checkins_feedversion v JOIN checkins_feed f ON f.active_version_id = v.id
               WHERE f.name = %s""",
            [feed],
        ).fetchone()
    return (row[0], row[1]) if row else None


def active_stop_times(url: str, feed: str) -> int | None:
    """The stop_times of the feed's active version in that database (None without one)."""
    active = active_version(url, feed)
    return active[1] if active else None


def report_import(run: ImportRun) -> None:
    say(f"    {run.summary}")
    say(f"    {run.seconds:.1f} s ({run.stop_times / run.seconds / 1000:.0f}k stop_times/s), "
        f"peak RSS {run.max_rss_kb / 1024:.0f} MB, backend {run.backend_rss_kb / 1024:.0f} MB, "
        f"indexes {run.index_seconds:.1f} s, {run.disk_bytes / 1024**2:,.0f} MB on disk, "
        f"CPU {run.cpu_seconds:.0f} s (backend {run.backend_cpu_seconds:.0f} s); "
        f"{load_average()}")  # fmt: skip


# --- Queries ------------------------------------------------------------------------------------


def use_database(url: str) -> None:
    """Point the benchmark's Django connection at another database of the same server."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = urlsplit(url).path.lstrip("/")


def time_searches(label: str, queries: list[str], warmup: int) -> list[float]:
    say(f"  {label}:")
    return bench_search(queries, warmup)


# --- Main ---------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tiles", type=int, default=DEFAULT_TILES, help="copies of the MTA feed")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_NATIONAL_DATABASE_URL",
            "postgres://trainy:trainy@127.0.0.1:5432/trainy_bench_national",
        ),
        help="the national feed's database (created and migrated if missing); the MTA feed "
        "goes to the same name with _mta",
    )
    parser.add_argument("--output", type=Path, default=NATIONAL_DIR, help="where feeds are made")
    parser.add_argument("--queries", type=int, default=1000, help="departure boards per size")
    parser.add_argument("--searches", type=int, default=1000, help="station searches per size")
    parser.add_argument("--warmup", type=int, default=50, help="untimed queries before each")
    parser.add_argument("--seed", type=int, default=20260526)
    parser.add_argument("--skip-import", action="store_true", help="reuse the imported feeds")
    parser.add_argument("--no-peer", action="store_true", help="Trainy's figures only")
    args = parser.parse_args(argv)

    if not FEEDS[MTA].exists():
        raise SystemExit(f"the staged feed is missing: {FEEDS[MTA]}")
    national_url = args.database_url
    mta_url = database_url(national_url, urlsplit(national_url).path.lstrip("/") + "_mta")
    # One feed name whatever the tile count, so that each import replaces the last one.
    national = NATIONAL_FEED
    say(f"Machine: {os.cpu_count()} cores, {load_average()}")
    say(f"== The {args.tiles}-tile feed")
    folder = generate(args.tiles, args.output)
    say()
    prepare_django(national_url)  # creates and migrates it, and sets the production-like env
    ensure_database(mta_url)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT version(), current_setting('shared_buffers'), "
            "current_setting('maintenance_work_mem'), current_setting('wal_level')"
        )
        version, shared_buffers, maintenance, wal_level = cursor.fetchone()
    say(f"PostgreSQL: {version.split(',')[0]}, shared_buffers {shared_buffers}, "
        f"maintenance_work_mem {maintenance}, wal_level {wal_level}")  # fmt: skip
    connection.close()

    runs: dict[str, ImportRun] = {}
    peer_seconds: float | None = None
    peer = not args.no_peer
    if args.skip_import:
        say("== Imports: skipped (--skip-import), using the feeds imported before")
    else:
        say(f"== Import of {MTA} ({MTA_STOP_TIMES:,} stop_times) into {mta_url}")
        runs[MTA] = measured_import(mta_url, MTA, FEEDS[MTA])
        report_import(runs[MTA])
        say(f"== Import of {folder} into {national_url}")
        runs[national] = measured_import(national_url, national, folder)
        report_import(runs[national])
        if peer:
            say(f"== gtfs-via-postgres {PEER_VERSION}, import of {MTA}")
            executable = peer_prerequisites()
            peer_seconds = peer_import(executable)
            say(f"    {peer_seconds:.1f} s; {load_average()}")
            peer_finish()
    for url, feed, wanted in ((mta_url, MTA, MTA_STOP_TIMES),
                              (national_url, national, args.tiles * MTA_STOP_TIMES)):  # fmt: skip
        if active_stop_times(url, feed) != wanted:
            raise SystemExit(f"{feed} in {url} is not the feed wanted: run without --skip-import")
    if peer and not peer_database_exists():
        raise SystemExit(f"no {PEER_DATABASE} database: run without --skip-import, or --no-peer")
    say()

    rng = random.Random(args.seed)  # noqa: S311 (reproducible samples, not secrets)
    # The same (station, minute) pairs at both sizes, each national one in a random tile: the
    # same boards, one among many tiles.
    pairs = board_pairs(args.queries, rng, None)
    national_pairs = [
        (tile_prefix(rng.randrange(args.tiles)) + station, at) for station, at in pairs
    ]
    mta_names = [row["stop_name"] for row in feed_rows(MTA, "stops.txt")
                 if row["location_type"] == "1"]  # fmt: skip
    national_names = [row["stop_name"] for row in station_rows(folder)]
    mta_queries = queries_from_names(mta_names, args.searches, rng)
    national_queries = queries_from_names(national_names, args.searches, rng)

    say(f"== Departure boards: {args.queries} random (parent station, minute) pairs, next 20, "
        f"{args.warmup} warm-up queries each; {load_average()}")  # fmt: skip
    use_database(mta_url)
    mta_boards = bench_trainy_query(pairs, args.warmup, MTA, f"{MTA} boards")
    use_database(national_url)
    national_boards = bench_trainy_query(
        national_pairs, args.warmup, national, f"{national} boards"
    )
    use_database(national_url)
    peer_boards = bench_peer_query(pairs, args.warmup) if peer else []
    say()
    say(f"== Station search: {args.searches} queries from each size's station names; "
        f"{load_average()}")  # fmt: skip
    use_database(mta_url)
    mta_search = time_searches(f"{MTA} ({len(mta_names):,} stations)", mta_queries, args.warmup)
    use_database(national_url)
    national_search = time_searches(
        f"{national} ({len(national_names):,} stations)", national_queries, args.warmup
    )
    say()

    print_table(
        args.tiles, runs.get(MTA), runs.get(national), peer_seconds,
        (mta_boards, national_boards, peer_boards), (mta_search, national_search),
    )  # fmt: skip


def print_table(
    tiles: int,
    mta: ImportRun | None,
    national: ImportRun | None,
    peer_seconds: float | None,
    boards: tuple[list[float], list[float], list[float]],
    searches: tuple[list[float], list[float]],
) -> None:
    def import_cells(
        figure: Callable[[ImportRun], str], ok: Callable[[ImportRun], bool] | None, target: str
    ) -> tuple[str, str, str, str]:
        met = verdict(ok(national) if ok and national else None)
        return (
            figure(mta) if mta else "–",
            figure(national) if national else "–",
            target,
            met,
        )

    def wall(run: ImportRun) -> str:
        return f"{run.seconds:.1f} s ({run.stop_times / run.seconds / 1000:.0f}k rows/s)"

    def index_share(run: ImportRun) -> str:
        return f"{run.index_seconds:.1f} s ({run.index_seconds / run.seconds:.0%})"

    def megabytes(kb: int) -> str:
        return f"{kb / 1024:,.0f} MB" if kb else "not seen"

    mta_boards, national_boards, peer_boards = boards
    mta_search, national_search = searches
    growth = percentile(national_boards, 0.95) / percentile(mta_boards, 0.95)
    peer_cell = f"{peer_seconds:.1f} s" if peer_seconds is not None else "–"
    rows = [
        ("import wall time", *import_cells(wall, lambda r: r.seconds <= 120, "≤ 120 s")),
        ("  gtfs-via-postgres " + PEER_VERSION, peer_cell, "–", "(MTA, reference)", "–"),
        ("  CPU: import process / backend", *import_cells(
            lambda r: f"{r.cpu_seconds:.0f} s / {r.backend_cpu_seconds:.0f} s", None,
            "(reference)")),
        ("import peak RSS", *import_cells(lambda r: megabytes(r.max_rss_kb),
                                           lambda r: r.max_rss_kb < 1024**2, "< 1 GB")),
        ("  its PostgreSQL backend", *import_cells(lambda r: megabytes(r.backend_rss_kb),
                                                    None, "(reference)")),
        ("  largest parallel worker", *import_cells(lambda r: megabytes(r.worker_rss_kb),
                                                     None, "(reference)")),
        ("index build (share)", *import_cells(index_share, None, "(reported)")),
        ("disk per M stop_times", *import_cells(
            lambda r: f"{r.disk_bytes / (r.stop_times / 1e6) / 1024**2:.0f} MB", None,
            "(reported)")),
        ("departures query p50/p95/p99", spread(mta_boards), spread(national_boards),
         "p95 < 10 ms", verdict(max(percentile(mta_boards, 0.95),
                                    percentile(national_boards, 0.95)) < 0.010)),
        ("  national p95 / MTA p95", "1.00", f"{growth:.2f}", "≤ 1.5 (no growth)",
         verdict(growth <= 1.5)),
        ("  gtfs-via-postgres query", spread(peer_boards) if peer_boards else "–", "–",
         "(MTA, reference)", "–"),
        ("station search p50/p95", spread(mta_search, (0.5, 0.95)),
         spread(national_search, (0.5, 0.95)), "p95 < 20 ms",
         verdict(max(percentile(mta_search, 0.95), percentile(national_search, 0.95)) < 0.020)),
    ]  # fmt: skip
    stop_times = f"{national.stop_times:,}" if national else f"{tiles} x {MTA_STOP_TIMES:,}"
    header = ("measure", f"MTA ({MTA_STOP_TIMES:,})", f"national ({stop_times})", "target",
              "met")  # fmt: skip
    say(f"{load_average()} at the end")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * width for width in widths), *rows]:
        say("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
