"""The collector stores every accepted reading exactly once, refuses bad ones without harm,
and acknowledges nothing before it is durable. Real mosquitto, InfluxDB and VictoriaMetrics; the
end-to-end cases also against aedes, a second MQTT v5 broker (docs/scaling.md, brokers)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from conftest import Aedes, InfluxDatabase, InfluxDB1, Mosquitto, VictoriaMetrics
from helpers import (
    BASE_TS_MS,
    Sent,
    collect_dead_letters,
    collector_settings,
    publish,
    readings_for,
    running,
    small_park,
    wait_until,
)

from collectors.service import Collector
from parktwin.contract import topics

pytestmark = pytest.mark.integration


def stored_in_influx(db: InfluxDatabase, measurements: tuple[str, ...]) -> Counter[tuple[str, int]]:
    """How often each (device, event time) is stored, across the given measurements."""
    found: Counter[tuple[str, int]] = Counter()
    for measurement in measurements:
        for series in db.query(f'SELECT * FROM "{measurement}" GROUP BY device'):
            device = series["tags"]["device"]  # type: ignore[index]
            for row in series["values"]:  # type: ignore[union-attr]
                found[(device, row[0])] += 1
    return found


def expected(readings: list[Sent]) -> Counter[tuple[str, int]]:
    return Counter({(r.device_id, r.ts_ms): 1 for r in readings})


MEASUREMENTS = ("electricity", "gas", "occupancy")


async def test_every_reading_is_stored_once_in_influxdb_v1(
    any_broker: Mosquitto | Aedes, influxdb: InfluxDatabase, park_id: str, tmp_path: Path
) -> None:
    park = small_park(park_id)
    readings = readings_for(park, 40)
    settings = collector_settings(
        any_broker.port, tmp_path, {"api": "v1", "url": influxdb.url, "database": influxdb.name}
    )
    collector = Collector(park, settings)
    async with running(collector):
        # Some readings twice: MQTT delivers at least once, the database keeps one.
        await publish(settings.mqtt, park_id, readings + readings[:25])
        await wait_until(lambda: collector.stats.readings_written >= len(readings) + 25, 30)
    assert stored_in_influx(influxdb, MEASUREMENTS) == expected(readings)
    rows = influxdb.query(
        "SELECT energy_kwh, power_kw FROM electricity WHERE device = 'm-plant' "
        "AND time = 1767225660000ms"
    )
    assert rows[0]["values"] == [[BASE_TS_MS + 60_000, 100.5, 30.0]]


async def test_readings_carry_the_topology_tags(
    mosquitto: Mosquitto, influxdb: InfluxDatabase, park_id: str, tmp_path: Path
) -> None:
    park = small_park(park_id)
    settings = collector_settings(
        mosquitto.port, tmp_path, {"api": "v1", "url": influxdb.url, "database": influxdb.name}
    )
    collector = Collector(park, settings)
    async with running(collector):
        await publish(settings.mqtt, park_id, readings_for(park, 1))
        await wait_until(lambda: collector.stats.readings_written >= len(park.devices), 30)
    series = influxdb.query("SELECT count(power_kw) FROM electricity GROUP BY *")
    tags = {s["tags"]["device"]: s["tags"] for s in series}  # type: ignore[index]
    assert tags["m-plant"] == {
        "building": "plant-1",
        "device": "m-plant",
        "enterprise": "acme",
        "kind": "sub_meter",
        "park": park_id,
        "zone": "prod",
    }
    assert tags["main"]["building"] == ""  # no building: the tag is absent, not empty text


async def test_every_reading_is_stored_once_through_the_v2_write_api(
    mosquitto: Mosquitto, victoria_metrics: VictoriaMetrics, park_id: str, tmp_path: Path
) -> None:
    park = small_park(park_id)
    readings = readings_for(park, 30)
    settings = collector_settings(
        mosquitto.port,
        tmp_path,
        {"api": "v2", "url": victoria_metrics.url, "token": "t0ken", "org": "o", "bucket": "b"},
    )
    collector = Collector(park, settings)
    async with running(collector):
        # No deliberate duplicates here: VictoriaMetrics' export shows raw samples until a
        # background merge deduplicates them, where InfluxDB overwrites at once (tested above).
        await publish(settings.mqtt, park_id, readings)
        await wait_until(lambda: collector.stats.readings_written >= len(readings), 30)
    found: Counter[tuple[str, int]] = Counter()
    # Every reading of these kinds has one of these fields; VM names series measurement_field.
    for name in ("electricity_power_kw", "gas_gas_m3", "occupancy_occupancy_persons"):
        for series in victoria_metrics.export(f'{{__name__="{name}",park="{park_id}"}}'):
            device = series["metric"]["device"]  # type: ignore[index]
            for ts in series["timestamps"]:  # type: ignore[union-attr]
                found[(device, ts)] += 1
    assert found == expected(readings)


async def test_bad_messages_go_to_the_dead_letter_topic_and_cost_no_good_reading(
    any_broker: Mosquitto | Aedes, influxdb: InfluxDatabase, park_id: str, tmp_path: Path
) -> None:
    park = small_park(park_id)
    good = readings_for(park, 5)
    bad = [
        (topics.telemetry(park_id, "m-plant"), b'{"v":1,"ts":176722'),
        (topics.telemetry(park_id, "ghost"), b'{"v":1,"ts":1767225600000,"values":{"power_kw":1}}'),
        (
            topics.telemetry(park_id, "m-plant"),
            b'{"v":1,"ts":1767225600000,"values":{"power_kw":"x"}}',
        ),
        (topics.telemetry(park_id, "occ-1"), b"\xff\x00\x01"),
    ]
    settings = collector_settings(
        any_broker.port, tmp_path, {"api": "v1", "url": influxdb.url, "database": influxdb.name}
    )
    letters: list[dict[str, object]] = []
    ready = asyncio.Event()
    listener = asyncio.create_task(collect_dead_letters(settings.mqtt, park_id, ready, letters))
    await ready.wait()
    collector = Collector(park, settings)
    async with running(collector):
        # Bad messages in the middle of the good ones.
        await publish(settings.mqtt, park_id, good[:10], extra=bad)
        await publish(settings.mqtt, park_id, good[10:])
        await wait_until(lambda: collector.stats.readings_written >= len(good), 30)
        await wait_until(lambda: len(letters) >= len(bad), 10)
    listener.cancel()
    assert stored_in_influx(influxdb, MEASUREMENTS) == expected(good)
    assert collector.stats.messages_rejected == len(bad)
    assert collector.stats.rejected_by_reason == Counter(
        {"malformed_json": 1, "unknown_device": 1, "bad_value": 1, "not_utf8": 1}
    )
    assert sorted(str(letter["reason"]) for letter in letters) == [
        "bad_value",
        "malformed_json",
        "not_utf8",
        "unknown_device",
    ]
    ghost = next(letter for letter in letters if letter["reason"] == "unknown_device")
    assert ghost["topic"] == topics.telemetry(park_id, "ghost")
    binary = next(letter for letter in letters if letter["reason"] == "not_utf8")
    assert binary["payload_base64"] == "/wAB"


async def test_messages_published_while_the_collector_is_down_arrive_when_it_returns(
    any_broker: Mosquitto | Aedes, influxdb: InfluxDatabase, park_id: str, tmp_path: Path
) -> None:
    park = small_park(park_id)
    readings = readings_for(park, 20)
    settings = collector_settings(
        any_broker.port, tmp_path, {"api": "v1", "url": influxdb.url, "database": influxdb.name}
    )
    async with running(Collector(park, settings)):
        await publish(settings.mqtt, park_id, readings[:30])
    await publish(settings.mqtt, park_id, readings[30:])  # nobody connected: the session queues
    again = Collector(park, settings)
    async with running(again):
        await wait_until(lambda: again.stats.readings_written >= len(readings) - 30, 30)
    assert stored_in_influx(influxdb, MEASUREMENTS) == expected(readings)


async def test_with_the_database_down_readings_are_spooled_then_replayed_in_full(
    mosquitto: Mosquitto, own_influxdb: InfluxDB1, park_id: str, tmp_path: Path
) -> None:
    park = small_park(park_id)
    readings = readings_for(park, 30)
    own_influxdb.create_database("park")
    own_influxdb.stop()
    settings = collector_settings(
        mosquitto.port,
        tmp_path,
        {"api": "v1", "url": own_influxdb.url, "database": "park", "timeout_s": 2.0},
    )
    collector = Collector(park, settings)
    async with running(collector):
        await publish(settings.mqtt, park_id, readings)
        # Acknowledged only once spooled: the broker has nothing left for us.
        await wait_until(lambda: collector.stats.readings_spooled >= len(readings), 30)
        own_influxdb.start()
        await wait_until(lambda: collector.stats.readings_replayed >= len(readings), 60)
    assert collector.stats.readings_written == 0
    db = InfluxDatabase(own_influxdb, "park")
    assert stored_in_influx(db, MEASUREMENTS) == expected(readings)
    assert collector.spool_pending_lines == 0


async def test_a_shared_subscription_splits_the_stream_without_loss_or_duplicates(
    mosquitto: Mosquitto, influxdb: InfluxDatabase, park_id: str, tmp_path: Path
) -> None:
    park = small_park(park_id)
    readings = readings_for(park, 50)
    influx = {"api": "v1", "url": influxdb.url, "database": influxdb.name}
    first = Collector(
        park, collector_settings(mosquitto.port, tmp_path / "a", influx, mqtt__shared_group="g")
    )
    second = Collector(
        park, collector_settings(mosquitto.port, tmp_path / "b", influx, mqtt__shared_group="g")
    )
    async with running(first), running(second):
        await publish(first.settings.mqtt, park_id, readings)
        await wait_until(
            lambda: first.stats.readings_written + second.stats.readings_written >= len(readings),
            30,
        )
    assert first.stats.messages_received > 0
    assert second.stats.messages_received > 0
    assert first.stats.messages_received + second.stats.messages_received == len(readings)
    assert stored_in_influx(influxdb, MEASUREMENTS) == expected(readings)


def test_a_batch_is_spooled_in_parts_that_each_fit() -> None:
    from collectors.store import split_by_size

    lines = [f"m,device=d{i} v={i} {i}" for i in range(100)]
    parts = split_by_size(lines, 200)
    assert [line for part in parts for line in part] == lines
    assert all(sum(len(x) + 1 for x in part) <= 200 for part in parts)
    assert split_by_size(["x" * 500], 200) == [["x" * 500]]  # one line is never split
    assert split_by_size([], 200) == []
    # A batch that fits even at four bytes a character is one part without measuring: the
    # same parts as measured line by line.
    wide = ["m,device=d\u00e9 v=1 1", "m,device=\U0001f600 v=2 2"]
    for size in (8, 30, 60, 200):
        assert split_by_size(wide, size) == measured_parts(wide, size)


def measured_parts(lines: list[str], max_bytes: int) -> list[list[str]]:
    """``split_by_size`` as specified: each line measured in UTF-8 bytes, plus its newline."""
    parts: list[list[str]] = []
    size = 0
    for line in lines:
        length = len(line.encode()) + 1
        if not parts or (parts[-1] and size + length > max_bytes):
            parts.append([])
            size = 0
        parts[-1].append(line)
        size += length
    return parts
