"""Backfilled history is stored as live readings are (same series, same points), exactly once,
and a live simulator continues it without a seam."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from conftest import InfluxDatabase
from helpers import small_park

from collectors.history import HistoryWriter
from collectors.tagging import device_tags
from parktwin.config import Settings, load_settings
from parktwin.contract.quantities import QUANTITIES
from programs.demo.backfill import backfill, history_simulator, live_state
from simulators.park import ParkSimulator

pytestmark = pytest.mark.integration

DAY_MS = 86_400_000
# 2026-03-01 00:00 in Asia/Shanghai, the small park's zone: a local midnight.
START_MS = round(datetime.fromisoformat("2026-03-01T00:00:00+08:00").timestamp() * 1000)


def settings_for(db: InfluxDatabase) -> Settings:
    return load_settings(None, influx__url=db.url, influx__database=db.name)


def count_points(db: InfluxDatabase, park_id: str) -> int:
    """Points of the park: per device, the count of its most frequent field (every point of a
    device has the same fields), added up over devices and measurements."""
    total = 0
    for medium in {d.medium.value for d in small_park(park_id).devices}:
        query = f"SELECT count(*) FROM {medium} WHERE park = '{park_id}' GROUP BY device"
        for series in db.query(query):
            counts = series["values"][0][1:]  # type: ignore[index]
            total += max(int(c) for c in counts if c is not None)
    return total


async def run_backfill(park_id: str, db: InfluxDatabase, days: float) -> int:
    park = small_park(park_id)
    history = HistoryWriter(park, settings_for(db), arrival_ms=round(time.time() * 1000))
    try:
        simulator = history_simulator(park, START_MS)
        report = await backfill(simulator, history, START_MS + round(days * DAY_MS))
    finally:
        await history.aclose()
    return report.readings_stored


async def test_a_backfill_run_twice_stores_every_point_once(
    park_id: str, influxdb: InfluxDatabase
) -> None:
    stored = await run_backfill(park_id, influxdb, 2)
    assert stored > 0
    assert count_points(influxdb, park_id) == stored

    again = await run_backfill(park_id, influxdb, 2)
    assert again == stored  # the same readings written again...
    assert count_points(influxdb, park_id) == stored  # ...are the same points


async def test_backfilled_points_carry_the_live_series_tags(
    park_id: str, influxdb: InfluxDatabase
) -> None:
    park = small_park(park_id)
    await run_backfill(park_id, influxdb, 0.5)
    for device in park.devices:
        series = influxdb.query(
            f"SELECT * FROM {device.medium.value} WHERE device = '{device.id}' LIMIT 1"
        )
        assert series, device.id
        columns, row = series[0]["columns"], series[0]["values"][0]  # type: ignore[index]
        stored = dict(zip(columns, row, strict=True))  # type: ignore[arg-type]
        for key, value in device_tags(park, device.id).items():
            assert stored[key] == value
        # Only the device's own quantities, and no column that is not a tag or a quantity.
        tags = device_tags(park, device.id)
        fields = {c for c, v in stored.items() if v is not None} - {"time", *tags}
        assert fields and fields <= set(QUANTITIES)


def test_a_live_simulator_continues_the_history_without_a_meter_reset() -> None:
    park = small_park("handover")
    simulator = history_simulator(park, START_MS)
    last: dict[tuple[str, str], float] = {}
    end_ms = START_MS + DAY_MS
    for reading in simulator.advance(end_ms):
        for name, value in reading.values.items():
            if QUANTITIES[name].counter:
                last[(reading.device_id, name)] = value
    live = ParkSimulator.from_state(park, live_state(simulator))
    assert live.now_ms == end_ms
    first: dict[tuple[str, str], float] = {}
    for reading in live.advance(end_ms + 3_600_000):
        for name, value in reading.values.items():
            first.setdefault((reading.device_id, name), value)
    counters = [key for key in last if key in first]
    assert counters
    for key in counters:
        # Counters go on from the history's last value (a reset would start near zero).
        assert first[key] >= last[key], key
        assert first[key] - last[key] < 1000, key
