"""How far a departure board looks again when its first window left it short: far enough for
the rest at the rate the first window saw, never past a day (the board correctness tests in
test_departures_correctness.py check the boards themselves)."""

from __future__ import annotations

from checkins.timetable.selectors import FIRST_WINDOW_S, FULL_WINDOW_S, next_window

HOUR = 3600


def test_a_board_one_short_looks_at_least_twice_as_far():
    assert next_window(FIRST_WINDOW_S, 19, 20) == 2 * FIRST_WINDOW_S


def test_the_shorter_a_board_fell_the_further_it_looks():
    # 12 of 20 in two hours: 30 at that rate take five; the window grows by whole factors.
    assert next_window(2 * HOUR, 12, 20) == 6 * HOUR
    assert next_window(2 * HOUR, 3, 20) == 20 * HOUR
    assert next_window(2 * HOUR, 12, 20) < next_window(2 * HOUR, 6, 20)


def test_an_empty_window_looks_over_the_whole_day_and_never_further():
    assert next_window(FIRST_WINDOW_S, 0, 20) == FULL_WINDOW_S
    assert next_window(2 * HOUR, 1, 20) == FULL_WINDOW_S
    assert next_window(FULL_WINDOW_S // 2, 19, 20) == FULL_WINDOW_S
