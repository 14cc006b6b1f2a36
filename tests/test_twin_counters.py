"""Counters become consumption once: resets, gaps, duplicates, late readings, local midnight."""

from __future__ import annotations

import random
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parktwin.contract.reading import Reading
from parktwin.park.loader import parse_park
from parktwin.park.model import Park
from parktwin.periods import Calendar, Granularity, split
from twin.model.counters import NEVER, advance
from twin.state.twin import Twin

SHANGHAI = ZoneInfo("Asia/Shanghai")


def one_meter_park(timezone: str = "Asia/Shanghai") -> Park:
    return parse_park(
        f"""
park: {{id: p, name: P, timezone: {timezone}, location: {{latitude: 0, longitude: 0}}}}
zones: [{{id: z, name: Z, type: production}}]
devices:
  - {{id: grid, kind: grid_main_meter, zone: z, interval_s: 1}}
  - {{id: m, kind: sub_meter, zone: z, interval_s: 60}}
"""
    )


def local_ms(*parts: int, tz: ZoneInfo = SHANGHAI) -> int:
    return int(datetime(*parts, tzinfo=tz).timestamp() * 1000)


def meter(ts_ms: int, kwh: float) -> Reading:
    return Reading("m", ts_ms, {"energy_kwh": kwh})


def day_total(twin: Twin) -> float:
    return twin.snapshot().flows.get("m", "energy_kwh", "day")


def test_a_reading_at_235959_and_one_at_000000_land_on_different_days() -> None:
    calendar = Calendar(SHANGHAI)
    before, after = local_ms(2024, 3, 5, 23, 59, 59), local_ms(2024, 3, 6, 0, 0, 0)
    assert calendar.label(Granularity.DAY, calendar.start_of(Granularity.DAY, before)) == (
        "2024-03-05"
    )
    assert calendar.label(Granularity.DAY, calendar.start_of(Granularity.DAY, after)) == (
        "2024-03-06"
    )
    # Local midnight is 16:00 UTC the day before, not UTC midnight.
    assert calendar.start_of(Granularity.DAY, after) == after
    assert datetime.fromtimestamp(after / 1000, ZoneInfo("UTC")).hour == 16


def test_consumption_is_split_at_local_midnight_in_proportion_to_time() -> None:
    twin = Twin(one_meter_park())
    twin.ingest([meter(local_ms(2024, 3, 5, 23, 59, 0), 100)])
    twin.ingest([meter(local_ms(2024, 3, 5, 23, 59, 59), 101)])  # (23:59:00, 23:59:59]: old day
    twin.ingest([meter(local_ms(2024, 3, 6, 0, 0, 1), 103)])  # 2 kWh over 2 s: 1 each side
    snap = twin.snapshot()
    assert snap.periods["day"].label == "2024-03-06"
    assert snap.flows.get("m", "energy_kwh", "day") == pytest.approx(1.0)
    assert snap.flows.get("m", "energy_kwh", "month") == pytest.approx(3.0)  # March holds both
    ledger = twin.state.ledger.periods[Granularity.DAY]
    assert ledger[local_ms(2024, 3, 5)][0 + 2] == pytest.approx(2.0)  # flow 2: m|energy_kwh


def test_an_interval_ending_exactly_at_midnight_belongs_to_the_old_day() -> None:
    twin = Twin(one_meter_park())
    twin.ingest([meter(local_ms(2024, 3, 5, 23, 0), 10)])
    twin.ingest([meter(local_ms(2024, 3, 6, 0, 0), 15)])
    assert day_total(twin) == 0  # the new day has no energy yet
    twin.ingest([meter(local_ms(2024, 3, 6, 1, 0), 18)])
    assert day_total(twin) == pytest.approx(3)


def test_a_year_boundary_cuts_month_and_year_too() -> None:
    twin = Twin(one_meter_park())
    twin.ingest([meter(local_ms(2023, 12, 31, 23, 0), 0)])
    twin.ingest([meter(local_ms(2024, 1, 1, 1, 0), 20)])  # 10 before and 10 after midnight
    snap = twin.snapshot()
    assert snap.periods["year"].label == "2024"
    assert snap.flows.get("m", "energy_kwh", "year") == pytest.approx(10)
    assert snap.flows.get("m", "energy_kwh", "day") == pytest.approx(10)
    assert snap.flows.get("m", "energy_kwh", "hour") == 0  # 01:00-02:00 has nothing yet


def test_days_follow_daylight_saving_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    calendar = Calendar(berlin)
    start = local_ms(2024, 3, 31, tz=berlin)
    end = calendar.shift(Granularity.DAY, start, 1)
    assert end - start == 23 * 3_600_000  # the spring-forward day is 23 hours long
    bounds = calendar.boundaries(Granularity.HOUR, start, end)
    assert len(bounds) == 24  # 23 hours, plus the start of the next day


def test_split_keeps_the_total() -> None:
    calendar = Calendar(SHANGHAI)
    t0 = np.asarray([local_ms(2024, 3, 5, 10, 30)], dtype=np.int64)
    t1 = np.asarray([local_ms(2024, 3, 8, 10, 30)], dtype=np.int64)  # a 3-day gap
    bounds = calendar.boundaries(Granularity.DAY, int(t0[0]), int(t1[0]))
    pieces = split(bounds, t0, t1, np.asarray([72.0]))
    # 13.5 h on the 5th, 24 h on the 6th and 7th, 10.5 h on the 8th: 1 kWh per hour.
    assert pieces.amount.tolist() == pytest.approx([13.5, 24, 24, 10.5])
    assert pieces.amount.sum() == pytest.approx(72)


def test_reset_counts_the_new_meter_from_zero() -> None:
    twin = Twin(one_meter_park())
    day = local_ms(2024, 3, 5)
    for minute, kwh in ((0, 500), (1, 510), (2, 4), (3, 9)):
        twin.ingest([meter(day + minute * 60_000, kwh)])
    # 10 before the replacement, 4 read on the new meter, 5 after.
    assert day_total(twin) == pytest.approx(19)
    assert twin.snapshot().ingest.counter_resets == 1


def test_duplicates_and_late_readings_are_never_counted_twice() -> None:
    day = local_ms(2024, 3, 5)
    readings = [meter(day + m * 60_000, 100 + 2 * m) for m in range(10)]
    in_order = Twin(one_meter_park())
    in_order.ingest(readings)
    noisy = Twin(one_meter_park())
    noisy.ingest(readings[:5])
    noisy.ingest([readings[4], readings[2], readings[4]])  # duplicate, late, duplicate
    noisy.ingest(readings[5:] + readings[:3])
    assert day_total(noisy) == pytest.approx(day_total(in_order)) == pytest.approx(18)
    stats = noisy.snapshot().ingest
    assert stats.duplicate_values == 2
    assert stats.out_of_order_values == 4


def test_batching_does_not_change_the_result() -> None:
    day = local_ms(2024, 3, 5)
    readings = [meter(day + m * 60_000, 3.0 * m) for m in range(30)]
    random.Random(7).shuffle(readings)
    whole = Twin(one_meter_park())
    whole.ingest(readings)
    one_by_one = Twin(one_meter_park())
    for reading in readings:
        one_by_one.ingest([reading])
    assert day_total(whole) == pytest.approx(day_total(one_by_one))
    assert whole.snapshot().ingest == one_by_one.snapshot().ingest


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(st.floats(min_value=0, max_value=50), min_size=2, max_size=25),
    order=st.randoms(use_true_random=False),
    repeats=st.integers(min_value=0, max_value=5),
)
def test_any_arrival_order_counts_at_most_the_true_consumption(
    steps: list[float], order: random.Random, repeats: int
) -> None:
    """Shuffled, repeated readings of a growing counter: never negative, never above the truth,
    and exact when they come in order."""
    day = local_ms(2024, 3, 5)
    values = np.cumsum(steps).tolist()
    readings = [meter(day + i * 60_000, v) for i, v in enumerate(values)]
    noisy = readings + [order.choice(readings) for _ in range(repeats)]
    order.shuffle(noisy)
    twin = Twin(one_meter_park())
    twin.ingest(noisy)
    total = day_total(twin)
    assert 0 <= total <= values[-1] - values[0] + 1e-6
    exact = Twin(one_meter_park())
    exact.ingest(readings + readings)
    assert day_total(exact) == pytest.approx(values[-1] - values[0])


def test_advance_accepts_only_times_beyond_the_channels_running_maximum() -> None:
    last_ts = np.asarray([NEVER, 100], dtype=np.int64)
    last_value = np.asarray([0.0, 5.0])
    step = advance(
        np.asarray([1, 0, 1, 1, 0], dtype=np.int64),
        np.asarray([90, 10, 100, 120, 10], dtype=np.int64),
        np.asarray([1.0, 2.0, 3.0, 7.0, 9.0]),
        last_ts,
        last_value,
    )
    assert step.channel.tolist() == [0, 1]
    assert step.ts_ms.tolist() == [10, 120]
    assert step.prev_ts_ms.tolist() == [NEVER, 100]
    assert step.prev_value.tolist() == [0.0, 5.0]
    assert (step.duplicates, step.out_of_order) == (2, 1)
