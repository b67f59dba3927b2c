"""checkins.timetable.gtfs: rows as the csv module reads them, whichever way a block is split.

Plain blocks of lines are split with str methods and the csv module takes over from the first
block with a quote; these hold the two to the same rows, lines and limits."""

from __future__ import annotations

import csv
import io

import pytest

from checkins.timetable.gtfs import (
    BLOCK_CHARS,
    FeedError,
    GtfsSource,
    Limits,
    Problems,
    open_table,
)


def read(tmp_path, text: str, limits: Limits | None = None) -> list[tuple[int, list[str]]]:
    """Every row of a stops.txt holding ``text``, each with the line the table says it is on."""
    (tmp_path / "stops.txt").write_bytes(text.encode())
    with GtfsSource(tmp_path, limits) as source:
        table = open_table(source, "stops.txt", required=("stop_id",), problems=Problems())
        return [(table.line, row) for row in table.rows]


def csv_rows(text: str) -> list[list[str]]:
    """What the csv module makes of the same text (blank lines dropped, short rows padded)."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    width = len(rows[0])
    return [row + [""] * (width - len(row)) for row in rows[1:] if row and row != [""]]


def test_plain_lines_are_read_as_the_csv_module_reads_them(tmp_path):
    text = "stop_id,stop_name,x\r\nA,Alpha,1\r\n\r\nB,Beta\r\n  ,  ,  \nC,Gamma,3"
    assert [row for _, row in read(tmp_path, text)] == csv_rows(text)
    assert [line for line, _ in read(tmp_path, text)] == [2, 4, 5, 6]


def test_a_quote_after_many_blocks_of_plain_lines_is_read_with_its_line(tmp_path):
    plain = "".join(f"S{n},Stop {n}\n" for n in range(3 * BLOCK_CHARS // 12))
    # A quoted field holding a comma and a line break, then plain lines again.
    text = f'stop_id,stop_name\n{plain}Q,"Quoted, name\non two lines"\nZ,Last\n'
    rows = read(tmp_path, text)
    assert [row for _, row in rows] == csv_rows(text)
    lines = plain.count("\n") + 1
    assert rows[-2:] == [
        (lines + 2, ["Q", "Quoted, name\non two lines"]),
        (lines + 3, ["Z", "Last"]),
    ]


def test_a_line_split_across_blocks_is_one_row(tmp_path):
    long_name = "x" * (BLOCK_CHARS + 10)
    text = f"stop_id,stop_name\nA,{long_name}\nB,short\n"
    assert [row for _, row in read(tmp_path, text)] == [["A", long_name], ["B", "short"]]


@pytest.mark.parametrize("quoted", [False, True])
def test_the_row_limit_counts_rows_and_names_the_line_past_it(tmp_path, quoted):
    name = '"a\nb"' if quoted else "ab"
    text = "stop_id,stop_name\n" + "".join(f"S{n},{name}\n" for n in range(10))
    with pytest.raises(FeedError) as error:
        read(tmp_path, text, Limits(rows=9))
    line = 21 if quoted else 11  # the end of the 10th row; a quoted row takes two lines
    assert str(error.value) == (
        f"stops.txt, line {line}: more than the limit of 9 rows (TRAINY_IMPORT_MAX_ROWS)"
    )
    assert len(read(tmp_path, text, Limits(rows=10))) == 10
