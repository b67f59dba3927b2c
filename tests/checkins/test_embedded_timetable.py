"""The embedded default (SQLite, no services) imports and serves the timetable too: this is
what `make run` does with its demo feed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import DB_FEED, ROOT


def manage(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "true",
        "TRAINY_DATA_DIR": str(tmp_path),
        "LOG_LEVEL": "warning",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_the_demo_and_a_real_feed_import_and_answer_on_sqlite(tmp_path):
    assert manage(tmp_path, "migrate", "-v0").returncode == 0
    demo = manage(tmp_path, "load_demo")
    assert demo.returncode == 0, demo.stderr
    assert "Demo timetable loaded" in demo.stdout

    board = manage(tmp_path, "departures", "BHF", "--at", "2031-05-05T07:55", "--json")
    assert board.returncode == 0, board.stderr
    first = json.loads(board.stdout)[0]
    assert (first["line"], first["departure"]) == ("ICE 1003", "2031-05-05T08:00:00+02:00")

    real = manage(tmp_path, "import_gtfs", str(DB_FEED), "--name", "db-fv", "-v0")
    assert real.returncode == 0, real.stderr
    board = manage(tmp_path, "departures", "8011160", "--at", "2019-06-03T08:00", "--json")
    assert json.loads(board.stdout)[0]["line"] == "NJ 470"
