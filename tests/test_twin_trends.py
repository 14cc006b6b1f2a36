"""The view's trend line is the least-squares line of the whole periods; thinned history (the
reports') is read in day-long pieces cut on bucket boundaries."""

from __future__ import annotations

import itertools

import pytest

from twin.service.history import CHUNK_MS, day_chunks
from twin.state.trends import linear_trend


def test_the_trend_of_a_straight_line_is_that_line() -> None:
    trend = linear_trend([100.0, 110.0, 120.0, 130.0])
    assert trend is not None
    assert trend["start"] == pytest.approx(100.0)
    assert trend["end"] == pytest.approx(130.0)
    assert trend["slope_pct_per_period"] == pytest.approx(100 * 10 / 115)


def test_a_trend_needs_three_values_and_a_flat_series_has_none_to_speak_of() -> None:
    assert linear_trend([1.0, 2.0]) is None
    flat = linear_trend([5.0, 5.0, 5.0])
    assert flat is not None and flat["slope_pct_per_period"] == pytest.approx(0.0)


def test_history_is_read_in_day_pieces_that_cover_the_range_on_bucket_boundaries() -> None:
    since, until = 1_767_225_600_123, 1_767_225_600_123 + 3 * CHUNK_MS + 5_000
    pieces = day_chunks(since, until, 900)
    assert pieces[0][0] == since and pieces[-1][1] == until
    assert all(a < b for a, b in pieces)
    assert all(b == c for (_, b), (c, _) in itertools.pairwise(pieces))
    assert all(b % (900 * 1000) == 0 for _, b in pieces[:-1])  # cut where GROUP BY time() cuts
    assert all(b - a <= CHUNK_MS for a, b in pieces)
