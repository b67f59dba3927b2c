"""Export benchmark: on a traveller with 10,000 journeys, the CSV export of 1,000 and 10,000 rows
streamed (time and peak memory: it must not grow with the rows), the PDF of 1,000 rows (under
3 s) and the XLSX of 10,000 rows. Prints figures; not a test.

Run with PostgreSQL of the services harness up:

    eval "$(scripts/services env)"
    .venv/bin/python bench/exports.py              # ~1 min: 3 runs of each
    .venv/bin/python bench/exports.py --runs 5     # median and worst of 5

Trainy runs against the benchmark database (default postgres://trainy:trainy@127.0.0.1:5432/
trainy_bench, created and migrated here), never the dev or test database. The traveller is the
user bench-exports; their 10,000 journeys are made once (ten a day from 1 January 2023) and kept
for later runs. Every measurement runs in a fresh Python process of its own, so that its peak
resident memory (VmHWM) is that export's alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from timetable import ROOT, prepare_django, say, verdict

USERNAME = "bench-exports"
JOURNEYS = 10_000
PER_DAY = 10
FIRST_DAY = date(2023, 1, 1)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TARGETS = {"pdf": 3.0}
# "Roughly constant": 10,000 rows may take this much more memory than 1,000 at the most.
RSS_SLACK_MB = 20.0


def default_url() -> str:
    return os.environ.get(
        "BENCH_DATABASE_URL", "postgres://trainy:trainy@127.0.0.1:5432/trainy_bench"
    )


# --- The traveller -------------------------------------------------------------------------------


def ensure_traveller() -> None:
    """The user bench-exports with exactly JOURNEYS journeys, PER_DAY a day from FIRST_DAY: a
    range of N / PER_DAY days then holds N journeys. Made once, kept afterwards."""
    from checkins.models import CheckIn, Mode, Purpose
    from trainy.accounts.models import User

    user, _ = User.objects.get_or_create(
        username=USERNAME, defaults={"display_name": "Bench Exports", "email": "bench@example.org"}
    )
    if CheckIn.objects.filter(user=user).count() == JOURNEYS:
        say(f"traveller {USERNAME}: {JOURNEYS:,} journeys (kept from an earlier run)")
        return
    CheckIn.objects.filter(user=user).delete()
    say(f"traveller {USERNAME}: making {JOURNEYS:,} journeys")
    modes = [Mode.LONG_DISTANCE, Mode.REGIONAL, Mode.SUBURBAN, Mode.SUBWAY, Mode.TRAM, Mode.BUS]
    purposes = [Purpose.BUSINESS, Purpose.PRIVATE, Purpose.COMMUTE]
    rows = []
    for index in range(JOURNEYS):
        day = FIRST_DAY + timedelta(days=index // PER_DAY)
        slot = index % PER_DAY
        abroad = index % 7 == 0
        zone = NEW_YORK if abroad else BERLIN
        # Noon in Berlin minus a bit: every journey departs on its own day in Berlin too.
        departure = datetime(day.year, day.month, day.day, 5 + slot, 7 * slot % 60, tzinfo=zone)
        if abroad:
            departure = datetime(day.year, day.month, day.day, 1, 10, tzinfo=BERLIN)
            departure = departure.astimezone(NEW_YORK)
        minutes = 20 + index % 90
        late = index % 4 == 0
        rows.append(
            CheckIn(
                user=user,
                mode=modes[index % len(modes)],
                line_name=f"RE {index % 97}",
                trip_id=f"trip-{index}",
                operator_name="Bench Transit Company",
                origin_name=f"Station {index % 400}",
                origin_lat=52.5 + (index % 100) / 1000,
                origin_lon=13.4 + (index % 50) / 1000,
                destination_name=f"Station {(index + 17) % 400}",
                destination_lat=52.6 + (index % 100) / 1000,
                destination_lon=13.2 + (index % 50) / 1000,
                departure_planned=departure,
                arrival_planned=departure + timedelta(minutes=minutes),
                departure_real=departure + timedelta(minutes=2) if late else None,
                arrival_real=departure + timedelta(minutes=minutes + 4) if late else None,
                message=f"Journey {index}, with a status message." if index % 3 == 0 else "",
                purpose=purposes[index % len(purposes)],
                distance_m=1_000 * minutes + index % 1000,
                duration_s=60 * minutes,
                ticket_price=Decimal("3.40") + index % 50 if index % 2 else None,
                cost_centre=f"KST-{index % 12:04d}" if index % 3 == 0 else "",
                time_zone=zone.key,
            )
        )
    CheckIn.objects.bulk_create(rows, batch_size=2_000)


# --- One measurement, in a process of its own --------------------------------------------------


def vm_kb(field: str) -> int:
    """VmRSS (now) or VmHWM (the peak so far) of this process, in kB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def child(kind: str, rows: int) -> dict[str, Any]:
    """Make one export of ``rows`` journeys; report its time, bytes and memory."""
    from django.db import connection
    from django.http import StreamingHttpResponse

    from checkins.selectors import JourneyFilter
    from stats.exports import ExportOptions
    from stats.exports.columns import DEFAULT_COLUMNS
    from stats.exports.responses import file_response
    from stats.exports.selectors import export_source
    from trainy.accounts.models import User

    owner = User.objects.get(username=USERNAME)
    end = FIRST_DAY + timedelta(days=rows // PER_DAY - 1)
    criteria = JourneyFilter(start=FIRST_DAY, end=end, zone=BERLIN)
    options = ExportOptions(format=kind, criteria=criteria, columns=DEFAULT_COLUMNS)
    # Everything imported and connected before the baseline is taken.
    connection.ensure_connection()
    import openpyxl  # noqa: F401
    import reportlab.platypus  # noqa: F401

    from stats.exports.pdf import register_fonts

    register_fonts()
    baseline = vm_kb("VmRSS")
    started = time.perf_counter()
    source = export_source(owner=owner, options=options)
    count = source.count()
    # The view's own response: a StreamingHttpResponse for CSV, read chunk by chunk the way
    # the server sends it, each chunk dropped at once.
    response = file_response(source, owner.username)
    first = None
    size = 0
    chunks: Iterable[bytes] = (
        response.streaming_content  # type: ignore[assignment]
        if isinstance(response, StreamingHttpResponse)
        else [response.content]
    )
    for chunk in chunks:
        if first is None:
            first = time.perf_counter() - started
        size += len(chunk)
    seconds = time.perf_counter() - started
    return {
        "kind": kind,
        "rows": count,
        "seconds": seconds,
        "first_byte": first or seconds,
        "bytes": size,
        "baseline_mb": baseline / 1024,
        "peak_mb": vm_kb("VmHWM") / 1024,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure(url: str, kind: str, rows: int) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--rows", str(rows),
         "--database-url", url],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"the {kind} export of {rows} rows failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


@dataclass
class Figures:
    kind: str
    rows: int
    runs: list[dict[str, Any]]

    @property
    def seconds(self) -> float:
        return statistics.median(run["seconds"] for run in self.runs)

    @property
    def worst(self) -> float:
        return max(run["seconds"] for run in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(run["peak_mb"] for run in self.runs)

    @property
    def growth_mb(self) -> float:
        return max(run["peak_mb"] - run["baseline_mb"] for run in self.runs)

    def line(self) -> str:
        run = self.runs[0]
        return (
            f"{self.kind.upper():>5} {self.rows:>6,} rows: median {self.seconds:6.2f} s "
            f"(worst {self.worst:.2f} s), first bytes after {run['first_byte'] * 1000:6.0f} ms, "
            f"{run['bytes'] / 1e6:6.2f} MB, peak RSS {self.peak_mb:6.1f} MB "
            f"(+{self.growth_mb:5.1f} MB over the process before the export; "
            f"ru_maxrss {run['maxrss_mb']:.1f} MB)"
        )


def bench(url: str, kind: str, rows: int, runs: int) -> Figures:
    figures = Figures(kind, rows, [measure(url, kind, rows) for _ in range(runs)])
    if figures.runs[0]["rows"] != rows:
        raise SystemExit(f"expected {rows} journeys in the range, found {figures.runs[0]['rows']}")
    say("  " + figures.line())
    return figures


# --- Main ----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--database-url", default=default_url())
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per measurement")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        os.environ["DATABASE_URL"] = args.database_url
        os.environ["DEBUG"] = "false"
        os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 50)
        os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        os.environ["DJANGO_SETTINGS_MODULE"] = "trainy.settings"
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        print(json.dumps(child(args.child, args.rows)))
        return

    say(f"database {args.database_url.rsplit('/', 1)[-1]}; {args.runs} fresh processes each")
    prepare_django(args.database_url)
    ensure_traveller()
    say("CSV, streamed (StreamingHttpResponse over a server-side cursor)")
    csv_small = bench(args.database_url, "csv", 1_000, args.runs)
    csv_large = bench(args.database_url, "csv", 10_000, args.runs)
    say("PDF (reportlab, A4 landscape, the default columns)")
    pdf = bench(args.database_url, "pdf", 1_000, args.runs)
    say("XLSX (openpyxl write-only)")
    xlsx = bench(args.database_url, "xlsx", 10_000, args.runs)

    extra = csv_large.peak_mb - csv_small.peak_mb
    constant = extra <= RSS_SLACK_MB
    say()
    say(f"{'figure':<44} {'value':>22}   {'target':<32} met")
    rows = [
        ("CSV 1,000 rows: time (median)", f"{csv_small.seconds:.2f} s", "", None),
        ("CSV 10,000 rows: time (median)", f"{csv_large.seconds:.2f} s", "", None),
        ("CSV 1,000 rows: peak RSS", f"{csv_small.peak_mb:.1f} MB", "", None),
        (
            "CSV 10,000 rows: peak RSS",
            f"{csv_large.peak_mb:.1f} MB ({extra:+.1f})",
            f"≤ 1,000 rows' + {RSS_SLACK_MB:.0f} MB (constant)",
            constant,
        ),
        ("PDF 1,000 rows: time (median)", f"{pdf.seconds:.2f} s", "< 3 s", pdf.worst < 3.0),
        ("PDF 1,000 rows: peak RSS", f"{pdf.peak_mb:.1f} MB", "", None),
        ("XLSX 10,000 rows: time (median)", f"{xlsx.seconds:.2f} s", "", None),
        ("XLSX 10,000 rows: peak RSS", f"{xlsx.peak_mb:.1f} MB", "", None),
    ]
    for name, value, target, ok in rows:
        say(f"{name:<44} {value:>22}   {target:<32} {verdict(ok)}")


if __name__ == "__main__":
    main()
