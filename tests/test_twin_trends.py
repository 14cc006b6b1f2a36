"""The view's trend line is the least-squares line of the whole periods; the twin's rebuild reads
history in day-long pieces cut on bucket boundaries, hour buckets only where they are local
hours."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest
from helpers import small_park

from parktwin.park.loader import parse_park
from twin.service.history import CHUNK_MS, coarse_s, day_chunks
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


def test_old_history_is_thinned_per_hour_only_where_hours_are_local_hours() -> None:
    day = round(datetime.fromisoformat("2026-03-01T00:00:00+00:00").timestamp() * 1000)
    shanghai = small_park("tz")  # Asia/Shanghai: UTC+8
    assert coarse_s(shanghai, day, day + CHUNK_MS, 900) == 3600
    kolkata = parse_park(
        shanghai.model_dump_json().replace("Asia/Shanghai", "Asia/Kolkata"), "kolkata"
    )
    assert coarse_s(kolkata, day, day + CHUNK_MS, 900) == 900  # UTC+5:30
