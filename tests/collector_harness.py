"""Helpers for collector tests: publish known readings, run a collector until a condition holds."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from collectors.service import Collector
from parktwin.config import MqttSettings, Settings, load_settings
from parktwin.contract import topics
from parktwin.mqtt import make_client
from parktwin.park.model import Park

BASE_TS_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@dataclass(frozen=True)
class Sent:
    """A reading the test published."""

    device_id: str
    ts_ms: int
    values: dict[str, float]


def readings_for(park: Park, count: int, step_ms: int = 60_000) -> list[Sent]:
    """``count`` readings per electricity/gas/occupancy device, a minute apart."""
    values = {
        "grid_main_meter": lambda i: {"energy_import_kwh": 1000.0 + i, "power_kw": 50.0},
        "sub_meter": lambda i: {"energy_kwh": 100.0 + i * 0.5, "power_kw": 30.0},
        "pv_inverter": lambda i: {"energy_kwh": 10.0 + i, "power_kw": 5.5},
        "gas_meter": lambda i: {"gas_m3": 5.0 + i, "flow_m3_h": 1.25},
        "occupancy_counter": lambda i: {"occupancy_persons": float(i % 40)},
    }
    return [
        Sent(device.id, BASE_TS_MS + i * step_ms, values[device.kind.value](i))
        for device in park.devices
        for i in range(count)
    ]


def payload_of(sent: Sent) -> bytes:
    return orjson.dumps({"v": 1, "ts": sent.ts_ms, "values": sent.values})


async def publish(
    mqtt: MqttSettings,
    park_id: str,
    readings: Iterable[Sent],
    extra: Iterable[tuple[str, bytes]] = (),
) -> None:
    """Publish readings (and raw extra messages) with QoS 1, each confirmed by the broker."""
    async with make_client(mqtt, f"pub-{uuid.uuid4().hex[:8]}") as client:
        for sent in readings:
            await client.publish(topics.telemetry(park_id, sent.device_id), payload_of(sent), qos=1)
        for topic, data in extra:
            await client.publish(topic, data, qos=1)


def collector_settings(
    mqtt_port: int, spool: Path, influx: dict[str, Any], **overrides: Any
) -> Settings:
    """Settings for a test collector with its own session and spool."""
    options: dict[str, Any] = {
        "mqtt__host": "127.0.0.1",
        "mqtt__port": mqtt_port,
        "mqtt__client_id": f"collector-{uuid.uuid4().hex[:8]}",
        "spool__folder": spool,
        "collector__flush_interval_s": 0.1,
        "collector__max_future_s": 10 * 365 * 86400.0,
        "collector__retry_initial_s": 0.1,
        "collector__retry_max_s": 1.0,
    }
    options |= {f"influx__{k}": v for k, v in influx.items()}
    options |= overrides
    return load_settings(None, **options)


@contextlib.asynccontextmanager
async def running(collector: Collector) -> AsyncIterator[asyncio.Task[Any]]:
    """Run a collector in the background; stop it (cleanly) on leaving."""
    stop = asyncio.Event()
    task = asyncio.create_task(collector.run(stop))
    try:
        await wait_until(lambda: collector.intake.connected or task.done(), 15)
        if task.done():
            task.result()
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def wait_until(condition: Callable[[], bool], timeout_s: float) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout_s``."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.05)


async def collect_dead_letters(
    mqtt: MqttSettings, park_id: str, ready: asyncio.Event, into: list[dict[str, Any]]
) -> None:
    """Subscribe to the park's dead-letter topic and append what arrives."""
    async with make_client(mqtt, f"dlq-{uuid.uuid4().hex[:8]}") as client:
        await client.subscribe(topics.dead_letter(park_id), qos=1)
        ready.set()
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            into.append(orjson.loads(message.payload))
