"""A broker with stock limits drops messages without telling the subscriber; the devices'
sequence numbers let the collector and the twin count what never arrived, and the broker's
CONNACK limits are warned about at start-up. Real mosquitto, real InfluxDB."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from conftest import InfluxDatabase, Mosquitto
from helpers import BASE_TS_MS, collector_settings, running, small_park, wait_until
from prometheus_client import CollectorRegistry

from collectors.metrics import CollectorMetrics
from collectors.service import Collector
from parktwin.config import MqttSettings, load_settings
from parktwin.contract import topics
from parktwin.metrics import render
from parktwin.mqtt import make_client
from twin.service.service import TwinService

pytestmark = pytest.mark.integration


@pytest.fixture
def stock_mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """mosquitto at its stock in-flight limit (20) and a queue of 10 messages per session
    (Debian's default is 1,000: the same behaviour, sooner)."""
    server = Mosquitto.create(
        tmp_path / "stock", "max_inflight_messages 20\nmax_queued_messages 10\n"
    )
    server.start()
    yield server
    server.kill()


def numbered(park_id: str, device: str, seqs: range | list[int]) -> list[tuple[str, bytes]]:
    topic = topics.telemetry(park_id, device)
    return [
        (topic, orjson.dumps({"v": 1, "ts": BASE_TS_MS + s * 1000, "seq": s,
                              "values": {"power_kw": 1.0}}))
        for s in seqs
    ]  # fmt: skip


async def publish_all(mqtt: MqttSettings, messages: list[tuple[str, bytes]]) -> None:
    async with make_client(mqtt, f"pub-{uuid.uuid4().hex[:8]}") as client:
        for topic, payload in messages:
            await client.publish(topic, payload, qos=1)


async def test_a_stock_broker_drops_while_the_collector_is_away_and_the_gap_is_counted(
    stock_mosquitto: Mosquitto,
    influxdb: InfluxDatabase,
    park_id: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    park = small_park(park_id)
    settings = collector_settings(
        stock_mosquitto.port, tmp_path, {"api": "v1", "url": influxdb.url,
                                         "database": influxdb.name},
    )  # fmt: skip
    mqtt = MqttSettings(host="127.0.0.1", port=stock_mosquitto.port)
    async with running(Collector(park, settings)):
        pass  # the persistent session now exists, and keeps 10 messages while we are away
    await publish_all(mqtt, numbered(park_id, "m-plant", range(1, 61)))  # all confirmed
    collector = Collector(park, settings)
    async with running(collector):
        await wait_until(lambda: collector.stats.messages_received >= 10, 30)
        await publish_all(mqtt, numbered(park_id, "m-plant", [61]))
        await wait_until(lambda: collector.stats.sequences.devices["m-plant"].highest == 61, 30)
    received = collector.stats.messages_received
    assert received < 61  # the broker dropped what its queue could not hold, and said nothing
    assert collector.stats.sequences.missing_by_device() == {"m-plant": 61 - received}
    # ... which /metrics shows, and the broker's stock limits were warned about at start-up.
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CollectorMetrics(collector.stats, lambda: 0))
    metrics = render(registry).decode()
    assert f'parktwin_collector_sequence_missing{{device="m-plant"}} {61 - received}.0' in metrics
    assert "parktwin_collector_mqtt_broker_limit_warnings 1.0" in metrics
    assert any("Receive Maximum 20" in r.getMessage() for r in caplog.records)
    assert collector.stats.mqtt.broker_warnings


async def test_the_deploy_settings_announce_no_limit_that_loses_data(
    mosquitto: Mosquitto, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    settings = collector_settings(
        mosquitto.port, tmp_path, {"api": "v1", "url": influxdb.url, "database": influxdb.name}
    )
    collector = Collector(small_park("quiet"), settings)
    async with running(collector):
        pass
    assert collector.stats.mqtt.broker_warnings == []


async def test_the_twin_counts_each_devices_missing_numbers_in_its_device_table(
    mosquitto: Mosquitto, influxdb: InfluxDatabase, park_id: str, tmp_path: Path
) -> None:
    park = small_park(park_id)
    twin = TwinService(
        park,
        load_settings(
            None,
            mqtt__port=mosquitto.port,
            influx__url=influxdb.url,
            influx__database=influxdb.name,
            twin__client_id=f"twin-{uuid.uuid4().hex[:6]}",
            twin__checkpoint_folder=tmp_path,
            twin__tick_s=0.2,
            collector__max_future_s=1e9,
            api__port=0,
        ),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(twin.run(stop))
    await wait_until(lambda: twin.intake.connected, 30)
    mqtt = MqttSettings(host="127.0.0.1", port=mosquitto.port)
    await publish_all(mqtt, numbered(park_id, "m-plant", [1, 2, 5, 6, 3]))
    await publish_all(mqtt, numbered(park_id, "m-flats", [40, 41]))
    await wait_until(lambda: twin.stats.readings_ingested >= 7, 30)
    await asyncio.sleep(0.5)  # a tick
    state = twin.state()
    assert state is not None
    devices = state["devices"]
    missing = dict(zip(devices["ids"], devices["sequence_missing"], strict=True))
    assert (missing["m-plant"], missing["m-flats"], missing["main"]) == (1, 0, 0)
    metrics = render(twin.registry).decode()
    assert 'parktwin_twin_sequence_missing{device="m-plant"} 1.0' in metrics
    assert "parktwin_twin_sequence_gaps_total 1.0" in metrics
    stop.set()
    await asyncio.wait_for(task, 60)
