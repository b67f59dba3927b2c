"""The readers on mangled exports: any value anywhere in a real export's structure gives either
a FormatError for the whole file or a reading whose journeys fit Trainy's columns; never
another exception (which would be a 500 on the import page)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkins.imports.formats import (
    EARLIEST,
    MAX_DISTANCE_M,
    MAX_LINE,
    MAX_MESSAGE,
    MAX_NAME,
    MAX_SOURCE_ID,
    FormatError,
    read_export,
)

FIXTURES = Path(__file__).parent / "fixtures"
DOCUMENTS = {
    name: json.loads((FIXTURES / name).read_text())
    for name in ("traewelling.json", "travelynx-history.json", "travelynx-account.json")
}

# Values a broken or hostile export might hold anywhere.
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=300)
    | st.sampled_from(["2026-13-40T25:61:00+01:00", "1e400", "-1", "0", "x" * 5000]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``value`` a value can be put."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths(child, (*prefix, index))
    return found


def put(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


def check(reading_bytes: bytes) -> None:
    try:
        reading = read_export(reading_bytes, max_journeys=100)
    except FormatError as error:
        assert str(error)
        return
    for journey in reading.journeys:
        assert journey.departure_planned >= EARLIEST
        assert journey.departure_planned <= journey.arrival_planned
        assert journey.departure_planned.tzinfo is not None
        assert 0 < len(journey.source_id) <= MAX_SOURCE_ID
        assert len(journey.line_name) <= MAX_LINE and len(journey.journey_number) <= MAX_LINE
        assert 0 < len(journey.origin_name) <= MAX_NAME
        assert 0 < len(journey.destination_name) <= MAX_NAME
        assert len(journey.operator_name) <= MAX_NAME and len(journey.message) <= MAX_MESSAGE
        assert journey.distance_m is None or 0 <= journey.distance_m <= MAX_DISTANCE_M
    for problem in reading.problems:
        assert problem.reason


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), name=st.sampled_from(sorted(DOCUMENTS)))
def test_any_value_anywhere_in_a_json_export(data, name):
    document = DOCUMENTS[name]
    path = data.draw(st.sampled_from(paths(document)))
    check(json.dumps(put(document, path, data.draw(VALUES))).encode())


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(["traewelling-old.csv", "traewelling-new.csv", "travelynx-history.csv"]),
    line=st.integers(min_value=0, max_value=4),
    column=st.integers(min_value=0, max_value=20),
    value=st.text(max_size=300),
)
def test_any_text_in_any_field_of_a_csv_export(name, line, column, value):
    text = (FIXTURES / name).read_bytes().decode()
    lines = text.split("\n")
    line = min(line, len(lines) - 1)
    fields = lines[line].split(",")
    fields[min(column, len(fields) - 1)] = value
    lines[line] = ",".join(fields)
    check("\n".join(lines).encode())


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes(content):
    check(content)
