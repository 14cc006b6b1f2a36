"""Recorded real device messages, published through the real mosquitto, become exactly the
hand-written points in the real InfluxDB; what they do not say is dead-lettered with its
reason and counted in /metrics, and the collector goes on."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import InfluxDatabase, Mosquitto
from helpers import (
    Sent,
    collect_dead_letters,
    collector_settings,
    device_cases,
    devices_park,
    publish,
    running,
    wait_until,
)
from prometheus_client import CollectorRegistry

from collectors.metrics import CollectorMetrics
from collectors.service import Collector
from parktwin.metrics import render

pytestmark = pytest.mark.integration

MEASUREMENTS = ("electricity", "water", "air")


def stored(db: InfluxDatabase) -> dict[tuple[str, int], tuple[dict[str, float], dict[str, str]]]:
    """Every stored point by (device, time): its fields and its tags; a point twice fails."""
    points: dict[tuple[str, int], tuple[dict[str, float], dict[str, str]]] = {}
    for measurement in MEASUREMENTS:
        for series in db.query(f'SELECT * FROM "{measurement}" GROUP BY *'):
            tags: dict[str, str] = series["tags"]  # type: ignore[assignment]
            columns: list[str] = series["columns"]  # type: ignore[assignment]
            for row in series["values"]:  # type: ignore[union-attr]
                fields = {c: v for c, v in zip(columns[1:], row[1:], strict=True) if v is not None}
                key = (tags["device"], row[0])
                assert key not in points, f"{key} stored twice"
                points[key] = (fields, tags)
    return points


async def test_recorded_messages_are_stored_as_the_hand_written_readings(
    mosquitto: Mosquitto, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    park = devices_park()
    cases = device_cases()
    settings = collector_settings(
        mosquitto.port, tmp_path, {"api": "v1", "url": influxdb.url, "database": influxdb.name}
    )
    collector = Collector(park, settings)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CollectorMetrics(collector.stats, lambda: 0))
    dead: list[dict[str, Any]] = []
    ready = asyncio.Event()
    listening = asyncio.create_task(collect_dead_letters(settings.mqtt, park.park.id, ready, dead))
    await asyncio.wait_for(ready.wait(), 10)
    expected_points = sum(len(c.readings) for c in cases)
    expected_refusals = Counter(reason for c in cases for reason in c.refused)
    async with running(collector):
        before_ms = int(time.time() * 1000)
        await publish(settings.mqtt, park.park.id, [], [(c.topic, c.payload) for c in cases])
        await wait_until(lambda: collector.stats.messages_received >= len(cases), 30)
        await wait_until(lambda: collector.stats.readings_written >= expected_points, 30)
        after_ms = int(time.time() * 1000)
        await wait_until(lambda: len(dead) >= expected_refusals.total(), 10)
    listening.cancel()

    points = stored(influxdb)
    assert len(points) == expected_points
    for case in cases:
        for want in case.readings:
            if want.ts_ms is None:  # timed on arrival, and marked so
                (key,) = [k for k in points if k[0] == want.device]
                assert before_ms <= key[1] <= after_ms
                assert points[key][1]["ts_source"] == "arrival"
            else:
                key = (want.device, want.ts_ms)
                assert points[key][1].get("ts_source", "") == ""  # GROUP BY * shows ""
            assert points[key][0] == pytest.approx(want.values, rel=1e-12), case.sample
    assert collector.stats.rejected_by_reason == expected_refusals
    assert Counter(d["reason"] for d in dead) == expected_refusals
    assert {d["topic"] for d in dead} == {c.topic for c in cases if c.refused}
    metrics = render(registry).decode()
    for reason, count in expected_refusals.items():
        line = f'parktwin_collector_messages_rejected_total{{reason="{reason}"}} {count:.1f}'
        assert line in metrics


async def test_bad_mapped_messages_never_stall_the_collector(
    mosquitto: Mosquitto, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    park = devices_park()
    settings = collector_settings(
        mosquitto.port, tmp_path, {"api": "v1", "url": influxdb.url, "database": influxdb.name}
    )
    collector = Collector(park, settings)
    good = (
        "tele/DVES_EA9716/SENSOR",
        b'{"Time":"2026-01-01T08:00:00","ENERGY":{"Total":1.5,"Power":20}}',
    )
    bad = [
        ("tele/DVES_EA9716/SENSOR", b"{not json"),  # malformed_json
        ("tele/DVES_EA9716/SENSOR", b'{"Time":"2026-01-01T08:00:00"}'),  # missing values
        ("tele/DVES_EA9716/SENSOR", b'{"Time":"2026-01-01T08:00:00","ENERGY":{"Total":"1.5"}}'),
        ("shelly-x/events/rpc", b'{"src":"shelly-x","method":"NotifyEvent","params":{}}'),
        ("Advantech/74FE488E8B86/data", b'{"t":0,"q":192,"ai2":1}'),  # WISE without a clock
        ("tele/unknown/SENSOR", b'{"Time":"2026-01-01T08:00:00","ENERGY":{"Total":1}}'),
    ]
    native = Sent("main", 1767225600000, {"energy_import_kwh": 10.0, "power_kw": 5.0})
    async with running(collector):
        await publish(settings.mqtt, park.park.id, [native], [*bad, good])
        await wait_until(lambda: collector.stats.readings_written >= 2, 30)
    assert collector.stats.rejected_by_reason == Counter(
        {
            "malformed_json": 1,
            "missing_value": 3,  # energy and power of one message, power of the next
            "bad_value": 1,
            "no_mapping_matched": 1,
            "bad_timestamp": 1,
            "unknown_identity": 1,
        }
    )
    assert collector.stats.messages_rejected == len(bad)
    rows = influxdb.query("SELECT energy_kwh, power_kw FROM electricity WHERE device = 'plug-pow'")
    assert rows[0]["values"] == [[1767225600000, 1.5, 0.02]]
    rows = influxdb.query("SELECT energy_import_kwh FROM electricity WHERE device = 'main'")
    assert rows[0]["values"] == [[1767225600000, 10.0]]  # native messages beside mapped ones
