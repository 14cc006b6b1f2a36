"""Simulated devices for the ingest benchmarks: a backlog at full speed, or a steady rate.

Messages go round-robin over the park's devices, one sub-meter reading each, and every message
has its own event time, so that InfluxDB keeps each one as a separate point and a count of the
stored points shows any loss. Publishing uses the simulator's own QoS 1 client (every message is
acknowledged by the broker before it counts), which is several times faster than the consumers
measured, so it never sets the pace.
"""

from __future__ import annotations

import asyncio
import time

import orjson

from parktwin.config import MqttSettings
from parktwin.contract import topics
from simulators.publisher import open_publisher

WINDOW = 1000


def message(park_id: str, device: str, ts_ms: int, k: int) -> tuple[str, bytes]:
    """One sub-meter reading: a counter that grows with ``k`` and a power gauge."""
    body = {"v": 1, "ts": ts_ms, "values": {"energy_kwh": 1000.0 + k * 0.001, "power_kw": 42.5}}
    return topics.telemetry(park_id, device), orjson.dumps(body)


def backlog(park_id: str, devices: list[str], count: int, base_ms: int) -> list[tuple[str, bytes]]:
    """``count`` readings, one millisecond apart from ``base_ms`` on."""
    return [message(park_id, devices[k % len(devices)], base_ms + k, k) for k in range(count)]


def tasmota_message(device: str, ts_s: int, k: int) -> tuple[str, bytes]:
    """The same reading as a Tasmota plug sends it: tele/<topic>/SENSOR, local time, W."""
    when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts_s + 8 * 3600))  # Asia/Shanghai
    body = {
        "Time": when,
        "ENERGY": {
            "TotalStartTime": "2025-01-01T00:00:00",
            "Total": 1000.0 + k * 0.001,
            "Yesterday": 1.2,
            "Today": 0.4,
            "Power": 42500,
            "ApparentPower": 43000,
            "ReactivePower": 5000,
            "Factor": 0.99,
            "Voltage": 230,
            "Current": 0.18,
        },
    }
    return f"tele/tas-{device}/SENSOR", orjson.dumps(body)


def tasmota_backlog(
    devices: list[str], count: int, base_ms: int
) -> tuple[list[tuple[str, bytes]], list[int]]:
    """``count`` Tasmota messages round-robin over the devices, and each one's event time.

    Tasmota's time has whole seconds: each round over the devices takes the next second, so
    every message is still a point of its own.
    """
    base_s = base_ms // 1000
    messages, sent_ms = [], []
    for k in range(count):
        ts_s = base_s + k // len(devices)
        messages.append(tasmota_message(devices[k % len(devices)], ts_s, k))
        sent_ms.append(ts_s * 1000)
    return messages, sent_ms


async def publish_all(
    port: int, messages: list[tuple[str, bytes]], client_id: str, properties: bytes = b"\x00"
) -> None:
    """Publish every message as fast as the broker acknowledges them, each with ``properties``
    (a v5 property list as sent; none by default)."""
    settings = MqttSettings(port=port)
    async with open_publisher(settings, client_id, window=WINDOW) as publisher:
        for topic, payload in messages:
            if not publisher.has_room():
                await publisher.wait_for_room()
            publisher.publish(topic, payload, properties=properties)
        await publisher.drain(timeout_s=300)


async def publish_paced(
    port: int,
    park_id: str,
    devices: list[str],
    rate: float,
    seconds: float,
    client_id: str,
    sent_ms: list[int],
) -> list[int]:
    """Publish ``rate`` messages a second for ``seconds``, each stamped with its send time (ms
    since the epoch, the device's clock); appends those send times to ``sent_ms`` as it goes
    (so that a poller can follow) and returns it."""
    settings = MqttSettings(port=port)
    total = int(rate * seconds)
    loop = asyncio.get_running_loop()
    async with open_publisher(settings, client_id, window=WINDOW) as publisher:
        start = loop.time()
        k = 0
        while k < total:
            due = min(total, int((loop.time() - start) * rate) + 1)
            while k < due:
                if not publisher.has_room():
                    await publisher.wait_for_room()
                now_ms = int(time.time() * 1000)
                publisher.publish(*message(park_id, devices[k % len(devices)], now_ms, k))
                sent_ms.append(now_ms)
                k += 1
            await asyncio.sleep(0.005)
        await publisher.drain(timeout_s=300)
    return sent_ms
