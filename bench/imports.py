"""Import benchmark: a traveller's history of --journeys (20,000) journeys in each of the peers'
export formats, imported by ``journeys_import`` as ``manage.py import_journeys`` does; then the
Trainy archive of one of those travellers made and imported by another (the move to another
Trainy); beside the ceiling of the same rows bulk-inserted alone, in one run. Prints figures;
not a test.

    eval "$(scripts/services env)"
    .venv/bin/python bench/imports.py                     # ~2 min
    .venv/bin/python bench/imports.py --journeys 5000     # shorter

The files are written here from the formats as ../shared/PEERS.md describes them: journeys one
after the other (none overlaps), between real stations of the DB Fernverkehr 2019 feed (names
and coordinates from its stops.txt), Travelynx's JSON with three stopovers each. One in twenty
is a real ride of that feed's trips in 2019, which the import finds in the local timetable (the
feed is imported into the benchmark's database first if it is not there): the table says how
many it found. Everything
goes to the benchmark's own database (trainy_bench) and MongoDB database (trainy_bench_imports,
dropped at the start), for one user per format (bench-importer-<format>), whose journeys from
earlier runs are deleted first. Each import is timed from the file's bytes to the documents stored
(the commit's callbacks run), which is what a traveller waits for.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pymongo
from checkin import BENCH_NAME, harness_url
from timetable import (
    DB,
    GTFS_DIR,
    add_database_argument,
    prepare_django,
    say,
    trainy_import,
    verdict,
)

MONGO_DB = f"{BENCH_NAME}_imports"
TARGET_SECONDS = 60  # the issue's: 20,000 journeys in under a minute
BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2020, 1, 1, 6, 0, tzinfo=UTC)


def stations() -> list[tuple[str, float, float]]:
    with (GTFS_DIR / DB / "gtfs" / "stops.txt").open(encoding="utf-8-sig") as file:
        return [(row["stop_name"], float(row["stop_lat"]), float(row["stop_lon"]))
                for row in csv.DictReader(file)]  # fmt: skip


def plan(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """``count`` journeys one after the other: a year of real rides of the 2019 feed (one in
    twenty), then journeys between its stations from 2020, each as long as a train at 60 to 120
    km/h takes between them (so none is refused as too fast), 1 to 20 hours apart."""
    places = stations()
    journeys = rides(count // 20, rng)
    for n, journey in enumerate(journeys):
        journey["n"] = n + 1
    moment = START
    for n in range(len(journeys), count):
        origin, middle, destination = rng.sample(places, 3)
        km = math.dist(origin[1:], destination[1:]) * 111  # near enough for a duration
        minutes = max(20, round(km / rng.uniform(60, 120) * 60))
        journeys.append({
            "n": n + 1, "origin": origin, "middle": middle, "destination": destination,
            "departure": moment, "arrival": moment + timedelta(minutes=minutes),
            "delay": rng.choice([0, 0, 60, 180, 600]), "distance": round(km * 1200),
            "line": rng.choice(["ICE", "IC", "RE", "S"]), "number": str(rng.randint(1, 9999)),
        })  # fmt: skip
        moment += timedelta(minutes=minutes + rng.randint(60, 1200))
    return journeys


def feed_table(name: str) -> list[dict[str, str]]:
    with (GTFS_DIR / DB / "gtfs" / name).open(encoding="utf-8-sig") as file:
        return list(csv.DictReader(file))


def rides(count: int, rng: random.Random) -> list[dict[str, Any]]:
    """Up to ``count`` real rides of the DB Fernverkehr 2019 feed, as its timetable has them (a
    trip on a day it runs, from one of its stops to another two or more stops later), at most
    three a day and none overlapping the one before: what a traveller's year on those trains
    looks like in a history of many years. The import finds them in the local timetable."""
    places = {row["stop_id"]: (row["stop_name"], float(row["stop_lat"]), float(row["stop_lon"]))
              for row in feed_table("stops.txt")}  # fmt: skip
    lines = {row["route_id"]: row["route_long_name"] or row["route_short_name"]
             for row in feed_table("routes.txt")}  # fmt: skip
    stops: dict[str, list[tuple[str, int, str]]] = {}
    for row in feed_table("stop_times.txt"):
        stops.setdefault(row["trip_id"], []).append(
            (
                row["stop_id"],
                int(row["stop_sequence"]),
                row["departure_time"] or row["arrival_time"],
            )
        )
    days: dict[str, list[str]] = {}
    for row in feed_table("calendar_dates.txt"):
        if row["exception_type"] == "1":
            days.setdefault(row["date"], []).append(row["service_id"])
    trips_of: dict[str, list[dict[str, str]]] = {}
    for row in feed_table("trips.txt"):
        if len(stops.get(row["trip_id"], ())) >= 3:
            trips_of.setdefault(row["service_id"], []).append(row)

    def at(day: str, clock: str) -> datetime:
        hours, minutes, seconds = (int(part) for part in clock.split(":"))
        noon = datetime(int(day[:4]), int(day[4:6]), int(day[6:]), 12, tzinfo=BERLIN)
        # GTFS's zero is noon less 12 hours of elapsed time (not of the wall clock: DST days).
        return (
            noon.astimezone(UTC)
            - timedelta(hours=12)
            + timedelta(hours=hours, minutes=minutes, seconds=seconds)
        )

    found: list[dict[str, Any]] = []
    for day in sorted(days):
        running = [trip for service in days[day] for trip in trips_of.get(service, ())]
        end = None
        for trip in sorted(rng.sample(running, min(3, len(running))), key=lambda t: t["trip_id"]):
            calls = sorted(stops[trip["trip_id"]], key=lambda call: call[1])
            first = rng.randrange(len(calls) - 2)
            last = rng.randrange(first + 2, len(calls))
            departure, arrival = at(day, calls[first][2]), at(day, calls[last][2])
            if (end is not None and departure < end) or arrival <= departure:
                continue
            end = arrival
            kind, _, number = lines[trip["route_id"]].partition(" ")
            origin, middle, destination = (places[calls[i][0]] for i in (first, first + 1, last))
            found.append({
                "origin": origin, "middle": middle, "destination": destination,
                "departure": departure, "arrival": arrival, "delay": rng.choice([0, 60, 300]),
                "distance": 0, "line": kind, "number": number or kind,
            })  # fmt: skip
            if len(found) == count:
                return found
    return found


def iso(moment: datetime) -> str:
    return moment.astimezone(BERLIN).isoformat()


def traewelling_json(journeys: list[dict[str, Any]]) -> bytes:
    def stop(
        place: tuple[str, float, float], event: str, planned: datetime, real: datetime
    ) -> dict[str, Any]:
        name, lat, lon = place
        return {"station": {"name": name, "latitude": lat, "longitude": lon},
                f"{event}Planned": iso(planned), f"{event}Real": iso(real)}  # fmt: skip

    data = [
        {"status": {
            "id": j["n"], "body": f"Journey {j['n']}", "business": j["n"] % 3,
            "visibility": j["n"] % 5, "user": {"username": "bench-importer"},
            "checkin": {
                "lineName": f"{j['line']} {j['number']}", "journeyNumber": j["number"],
                "category": {"ICE": "nationalExpress", "IC": "national", "RE": "regional",
                             "S": "suburban", "Bus": "bus"}.get(j["line"], "national"),
                "distance": j["distance"], "operator": {"name": "DB"},
                "origin": stop(j["origin"], "departure", j["departure"],
                               j["departure"] + timedelta(seconds=j["delay"])),
                "destination": stop(j["destination"], "arrival", j["arrival"],
                                    j["arrival"] + timedelta(seconds=j["delay"])),
            },
        }, "trip": {}}
        for j in journeys
    ]  # fmt: skip
    meta = {"user": {"username": "bench-importer"}, "exportedAt": iso(START)}
    return json.dumps({"meta": meta, "data": data}).encode()


def traewelling_csv(journeys: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["status_id", "journey_type", "line_name", "journey_number", "origin_name",
                     "origin_coordinates", "departure_planned", "departure_real",
                     "destination_name", "destination_coordinates", "arrival_planned",
                     "arrival_real", "duration", "distance", "points", "body", "travel_type",
                     "operator", "trwl:seat"])  # fmt: skip
    for j in journeys:
        delay = timedelta(seconds=j["delay"])
        writer.writerow([
            j["n"], "regional", f"{j['line']} {j['number']}", j["number"], j["origin"][0],
            f"{j['origin'][1]},{j['origin'][2]}", iso(j["departure"]),
            iso(j["departure"] + delay), j["destination"][0],
            f"{j['destination'][1]},{j['destination'][2]}", iso(j["arrival"]),
            iso(j["arrival"] + delay), 60, j["distance"], 5, f"Journey {j['n']}", "BUSINESS",
            "DB", "42",
        ])  # fmt: skip
    return out.getvalue().encode()


def travelynx_json(journeys: list[dict[str, Any]]) -> bytes:
    def epoch(moment: datetime) -> int:
        return int(moment.timestamp())

    rows = []
    for j in reversed(journeys):  # newest first, as Travelynx writes it
        middle_time = j["departure"] + (j["arrival"] - j["departure"]) / 2
        route = [
            [j["origin"][0], 1, {"sched_dep": epoch(j["departure"]), "lat": j["origin"][1],
                                 "lon": j["origin"][2]}],
            [j["middle"][0], 2, {"sched_arr": epoch(middle_time), "sched_dep": epoch(middle_time),
                                 "lat": j["middle"][1], "lon": j["middle"][2]}],
            [j["destination"][0], 3, {"sched_arr": epoch(j["arrival"]),
                                      "lat": j["destination"][1], "lon": j["destination"][2]}],
        ]  # fmt: skip
        rows.append({
            "id": j["n"], "type": j["line"], "line": None, "no": j["number"],
            "from_name": j["origin"][0], "from_latlon": [j["origin"][1], j["origin"][2]],
            "to_name": j["destination"][0],
            "to_latlon": [j["destination"][1], j["destination"][2]],
            "sched_dep_ts": epoch(j["departure"]),
            "rt_dep_ts": epoch(j["departure"]) + j["delay"],
            "sched_arr_ts": epoch(j["arrival"]), "rt_arr_ts": epoch(j["arrival"]) + j["delay"],
            "distance": j["distance"], "route": route, "messages": [],
            "user_data": {"comment": f"Journey {j['n']}"}, "visibility": 100,
            "effective_visibility": 100,
        })  # fmt: skip
    return json.dumps(rows).encode()


def travelynx_csv(journeys: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["type", "line", "number", "departure stop name", "departure stop id",
                     "arrival stop name", "arrival stop id", "scheduled departure",
                     "real-time departure", "scheduled arrival", "real-time arrival", "operator",
                     "operators", "carriage type", "comment", "id"])  # fmt: skip

    def local(moment: datetime) -> str:
        return moment.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M:%S")

    for j in reversed(journeys):
        delay = timedelta(seconds=j["delay"])
        writer.writerow([
            j["line"], "", j["number"], j["origin"][0], 1, j["destination"][0], 3,
            local(j["departure"]), local(j["departure"] + delay), local(j["arrival"]),
            local(j["arrival"] + delay), "DB", "DB", "", f"Journey {j['n']}", j["n"],
        ])  # fmt: skip
    return out.getvalue().encode()


WRITERS = {
    "traewelling-json": traewelling_json,
    "traewelling-csv": traewelling_csv,
    "travelynx-json": travelynx_json,
    "travelynx-csv": travelynx_csv,
}


def importer(name: str) -> Any:
    """The format's benchmark user, without journeys from earlier runs (the rows deleted in one
    statement: nothing else refers to them, and the model's delete would collect 20,000 rows
    one by one; their documents went with the benchmark's document database)."""
    from django.db import connection

    from checkins.models import CheckIn
    from trainy.accounts.models import User

    user, _ = User.objects.get_or_create(username=f"bench-importer-{name}")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {CheckIn._meta.db_table} WHERE user_id = %s", [user.pk])  # noqa: S608
    return user


def importer_of(name: str) -> Any:
    """The format's benchmark user as the import left it."""
    from trainy.accounts.models import User

    return User.objects.get(username=f"bench-importer-{name}")


def timed_import(user: Any, data: bytes, dry_run: bool) -> tuple[float, Any]:
    """Seconds from the file's bytes to the import's end: its transaction committed and the
    documents stored (they are written as the transaction commits)."""
    from checkins.services.imports import journeys_import

    began = time.perf_counter()
    result = journeys_import(user=user, data=data, dry_run=dry_run)
    return time.perf_counter() - began, result


def ceiling(user: Any, journeys: int) -> float:
    """The same number of journey rows bulk-inserted alone (no file, no checks, no
    documents): the floor under any import."""
    from checkins.models import CheckIn

    rows = [
        CheckIn(user=user, line_name="ICE 1", origin_name="A", destination_name="B",
                departure_planned=START + timedelta(hours=3 * n),
                arrival_planned=START + timedelta(hours=3 * n + 1), enriched_at=START)
        for n in range(journeys)
    ]  # fmt: skip
    began = time.perf_counter()
    for start in range(0, len(rows), 1000):
        CheckIn.objects.bulk_create(rows[start : start + 1000])
    return time.perf_counter() - began


def timed_archive(user: Any) -> tuple[float, bytes]:
    """Seconds to write the traveller's Trainy archive (every journey with its document, the
    CSV, the README) as the archive task does; the ZIP's bytes."""
    from stats.exports.archive import archive_write

    out = io.BytesIO()
    began = time.perf_counter()
    archive_write(user, out, lambda done: None)
    return time.perf_counter() - began, out.getvalue()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_database_argument(parser, "Trainy's benchmark database (created and migrated if missing)")
    parser.add_argument("--journeys", type=int, default=20_000, help="journeys per file")
    parser.add_argument("--seed", type=int, default=20261207)
    args = parser.parse_args(argv)
    # A document database of the benchmark's own, emptied first: deleting earlier runs'
    # documents one batch at a time costs minutes on the SQLite-backed FerretDB, dropping none.
    mongo_url = harness_url("MONGO_URL")
    os.environ["MONGO_DB"] = MONGO_DB
    pymongo.MongoClient(mongo_url).drop_database(MONGO_DB)
    prepare_django(args.database_url)
    from checkins.timetable.selectors import active_versions

    if not active_versions(DB):  # the rides are found in it
        say(f"importing the {DB} timetable")
        trainy_import(DB, GTFS_DIR / DB / "gtfs")
    journeys = plan(args.journeys, random.Random(args.seed))  # noqa: S311 (not secrets)
    real = sum(1 for journey in journeys if journey["departure"] < START)
    say(f"== {args.journeys:,} journeys per file ({real:,} real rides of {DB}), one file per "
        f"format, {os.cpu_count()} cores")  # fmt: skip
    rows: list[tuple[str, ...]] = []
    for name, write in WRITERS.items():
        data = write(journeys)
        user = importer(name)
        dry, checked = timed_import(user, data, dry_run=True)
        seconds, result = timed_import(user, data, dry_run=False)
        again, repeat = timed_import(user, data, dry_run=False)
        ok = len(result.new) == args.journeys and not result.refused
        ok = ok and repeat.duplicates == args.journeys and not repeat.new
        rows.append((
            name, f"{len(data) / 2**20:,.1f} MB", f"{dry:.1f} s", f"{seconds:.1f} s",
            f"{args.journeys / seconds:,.0f}/s", f"{again:.1f} s",
            f"{len(result.new):,} new ({result.matched:,} found in the timetable), "
            f"{len(result.refused)} refused",
            verdict(ok and seconds < TARGET_SECONDS * args.journeys / 20_000),
        ))  # fmt: skip
        say(f"  {name}: dry run {dry:.1f} s, import {seconds:.1f} s, again {again:.1f} s "
            f"({repeat.duplicates:,} duplicates)")  # fmt: skip
        del checked
    # The archive of one of those travellers (every journey with its document), then that
    # archive imported by another traveller: the move to another Trainy.
    made, archive = timed_archive(importer_of("travelynx-json"))
    per_10k = made * 10_000 / args.journeys
    restored, result = timed_import(importer("trainy-archive"), archive, dry_run=False)
    ok = len(result.new) == args.journeys and not result.refused
    rows.append((
        "Trainy archive (made, then imported)", f"{len(archive) / 2**20:,.1f} MB",
        f"made in {made:.1f} s ({per_10k:.1f} s per 10,000)", f"{restored:.1f} s",
        f"{args.journeys / restored:,.0f}/s", "–",
        f"{len(result.new):,} new, {len(result.refused)} refused",
        verdict(ok and restored < TARGET_SECONDS * args.journeys / 20_000),
    ))  # fmt: skip
    say(f"  archive: made in {made:.1f} s, {len(archive) / 2**20:,.1f} MB; imported in "
        f"{restored:.1f} s")  # fmt: skip
    floor = ceiling(importer("ceiling"), args.journeys)
    importer("ceiling")
    rows.append(("ceiling: rows bulk-inserted alone", "–", "–", f"{floor:.1f} s",
                 f"{args.journeys / floor:,.0f}/s", "–", "–", "–"))  # fmt: skip
    say()
    header = ("format", "file", "dry run", "import", "rate", "again (all duplicates)", "result",
              f"< {TARGET_SECONDS} s per 20,000")  # fmt: skip
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for line in [header, tuple("-" * width for width in widths), *rows]:
        say("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)))


if __name__ == "__main__":
    main()
