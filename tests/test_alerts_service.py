"""Alerts inside the twin service, on real mosquitto, InfluxDB and an HTTP receiver: an active
alert is retained on MQTT and cleared on resolve, both changes are points of the ``alerts``
measurement Grafana annotates with, and the receiver gets one firing and one resolution."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import InfluxDatabase, Mosquitto
from helpers import HOUR, MINUTE, Receiver, Sent, alert_park, local_ms, publish, wait_until

from alerts.service import alert_topic
from parktwin.config import load_settings
from parktwin.mqtt import make_client
from programs.wiring import attach_alerts
from twin.service.service import TwinService

pytestmark = pytest.mark.integration

START = local_ms("2026-03-03T09:00")
DEMAND = (
    '    - {id: plant-demand, kind: demand, place: "building:plant-1", limit_kw: 400,'
    " window_s: 600, for_s: 0, clear_for_s: 0, severity: critical}\n"
)


def readings(start_ms: int, end_ms: int, kw: float, energy_kwh: float) -> tuple[list[Sent], float]:
    out = []
    for t in range(start_ms, end_ms, 5 * MINUTE):
        energy_kwh += kw * 5 * MINUTE / HOUR
        out.append(Sent("m-plant", t, {"energy_kwh": energy_kwh, "power_kw": kw}))
    return out, energy_kwh


@contextlib.asynccontextmanager
async def running(service: TwinService) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    await wait_until(lambda: service.intake.connected or task.done(), 30)
    if task.done():
        task.result()
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def feed(service: TwinService, settings: Any, park_id: str, sent: list[Sent]) -> None:
    """Publish a quarter of an hour at a time, each seen by a tick, as devices do live (the
    engine samples the twin once a tick: a backlog taken in one tick is one step to it)."""
    for i in range(0, len(sent), 3):
        chunk = sent[i : i + 3]
        await publish(settings.mqtt, park_id, chunk)
        last_ms, ticks = chunk[-1].ts_ms, service.stats.ticks
        await wait_until(lambda: (service.twin.watermark_ms or 0) >= last_ms, 30)  # noqa: B023
        await wait_until(lambda: service.stats.ticks >= ticks + 2, 30)  # noqa: B023


async def retained(settings: Any, topic: str) -> bytes | None:
    """The retained payload of a topic, or None when there is none."""
    async with make_client(settings.mqtt, f"late-{uuid.uuid4().hex[:6]}") as client:
        await client.subscribe(topic, qos=1)
        try:
            async with asyncio.timeout(1.0):
                message = await anext(aiter(client.messages))
        except TimeoutError:
            return None
    assert isinstance(message.payload, bytes)
    return message.payload


async def test_an_alert_is_retained_written_for_grafana_and_delivered_once_each_way(
    mosquitto: Mosquitto, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    park = alert_park(DEMAND, park_id=f"al{uuid.uuid4().hex[:8]}")
    receiver = await Receiver().start()
    settings = load_settings(
        None,
        mqtt__port=mosquitto.port,
        influx__url=influxdb.url,
        influx__database=influxdb.name,
        twin__client_id=f"twin-{uuid.uuid4().hex[:6]}",
        twin__checkpoint_folder=tmp_path / "twin",
        twin__tick_s=0.2,
        twin__rebuild_from_history=False,
        collector__max_future_s=1e9,
        api__port=0,
        alerts={"folder": tmp_path / "alerts", "receivers": {"ops": {"url": receiver.url}}},
    )
    service = TwinService(park, settings)
    alerts = attach_alerts(service)
    fingerprint = alerts.engine.watches[0].fingerprint
    topic = alert_topic(park.park.id, fingerprint)
    try:
        async with running(service):
            high, energy = readings(START, START + HOUR, 500.0, 0.0)
            await feed(service, settings, park.park.id, high)
            await wait_until(lambda: len(receiver.requests) == 1, 30)
            firing = orjson.loads(await retained(settings, topic) or b"null")
            assert firing["state"] == "firing" and firing["fingerprint"] == fingerprint
            low, _ = readings(START + HOUR, START + 2 * HOUR, 100.0, energy)
            await feed(service, settings, park.park.id, low)
            await wait_until(lambda: len(receiver.requests) == 2, 30)
            await asyncio.sleep(1.0)  # more ticks: no more messages
            assert await retained(settings, topic) is None  # cleared by the empty message
            await wait_until(lambda: alerts.outbox.count("_influxdb") == 0, 30)
    finally:
        await receiver.stop()
    assert [orjson.loads(r.body)["state"] for r in receiver.requests] == ["firing", "resolved"]
    points = influxdb.query(
        'SELECT "summary", "value", "limit", "kind" FROM "alerts" GROUP BY "park", "rule", '
        '"severity", "place", "state"'
    )
    by_state = {series["tags"]["state"]: series for series in points}  # type: ignore[index]
    assert set(by_state) == {"firing", "resolved"}
    tags = by_state["firing"]["tags"]
    assert tags == {
        "park": park.park.id,
        "rule": "plant-demand",
        "severity": "critical",
        "place": "plant-1",
        "state": "firing",
    }
    _, summary, value, limit, kind = by_state["firing"]["values"][0]  # type: ignore[index]
    assert "above the 400 kW limit" in summary
    assert value == pytest.approx(500.0) and limit == 400.0 and kind == "demand"
