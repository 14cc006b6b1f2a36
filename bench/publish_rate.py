"""Simulator publish rate against a local mosquitto, next to a bare paho baseline.

    .venv/bin/python bench/publish_rate.py [--seconds 10] [--window 1000]

Starts mosquitto on a free loopback port (the test suite's Mosquitto class), then measures for
about ``--seconds`` each:
  generator  readings/s of the pure generator (no broker), encoding included;
  baseline   a bare paho loop publishing pre-encoded simulator payloads at QoS 1 with the same
             window of unacknowledged messages (the ceiling of paho's v5 client on this machine);
  publisher  the simulator's own MQTT client (``simulators.publisher``) on the same pre-encoded
             payloads, QoS 1, same window: its ceiling without the generator;
  simulator  ``run_simulator`` at speed 0: generation, encoding and QoS 1 publishing, every
             message PUBACKed before it is counted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from conftest import Mosquitto  # noqa: E402

from parktwin.config import MqttSettings  # noqa: E402
from parktwin.park.loader import load_park  # noqa: E402
from parktwin.park.model import Park  # noqa: E402
from simulators.park import ParkSimulator  # noqa: E402
from simulators.publisher import open_publisher  # noqa: E402
from simulators.run import SimulatorOptions, run_simulator  # noqa: E402
from simulators.stream import TelemetryStream  # noqa: E402

DEMO_PARK = ROOT / "parktwin/park/examples/demo-park.yaml"
START = datetime(2026, 1, 12)


def start_ms(park: Park) -> int:
    return round(START.replace(tzinfo=park.timezone).timestamp() * 1000)


def generator_rate(park: Park, seconds: float) -> tuple[float, list[tuple[str, bytes]]]:
    """Readings/s of the pure generator, and the messages it made (the baseline's payloads)."""
    stream = TelemetryStream(ParkSimulator(park, 1, start_ms(park)))
    messages: list[tuple[str, bytes]] = []
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        until = stream.simulator.now_ms + 600_000
        messages.extend((m.topic, m.payload) for m in stream.advance(until))
    return len(messages) / (time.perf_counter() - began), messages


def paho_baseline(
    port: int, messages: list[tuple[str, bytes]], window: int, seconds: float
) -> float:
    """Messages/s of a bare paho v5 loop at QoS 1 with at most ``window`` unacknowledged."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, "baseline", protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(0)
    acked = [0]
    client.on_publish = lambda *_: acked.__setitem__(0, acked[0] + 1)
    client.connect("127.0.0.1", port)
    while not client.is_connected():
        client.loop(0.1)
    sent = 0
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        while sent - acked[0] < window:
            topic, payload = messages[sent % len(messages)]
            client.publish(topic, payload, 1)
            sent += 1
        client.loop(0.01)
    while acked[0] < sent:
        client.loop(0.01)
    rate = sent / (time.perf_counter() - began)
    client.disconnect()
    return rate


async def publisher_rate(
    port: int, messages: list[tuple[str, bytes]], window: int, seconds: float
) -> float:
    """Messages/s of the simulator's publisher alone, every one PUBACKed, same window."""
    async with open_publisher(MqttSettings(port=port), "bench-publisher", window=window) as out:
        began = time.perf_counter()
        while time.perf_counter() - began < seconds:
            for _ in range(200):  # as run_simulator: back to the event loop every 200 messages
                if not out.has_room():
                    await out.wait_for_room()
                topic, payload = messages[out.sent % len(messages)]
                out.publish(topic, payload)
            await asyncio.sleep(0)
        await out.drain()
        return out.published / (time.perf_counter() - began)


def simulator_rate(park: Park, port: int, window: int, seconds: float) -> float:
    options = SimulatorOptions(
        park=park,
        mqtt=MqttSettings(port=port),
        start=START.replace(tzinfo=park.timezone),
        speed=0.0,
        duration_s=seconds,
        window=window,
    )
    report = asyncio.run(run_simulator(options))
    return report.rate_msg_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--window", type=int, default=1000)
    parser.add_argument("--park", type=Path, default=DEMO_PARK)
    args = parser.parse_args()
    park = load_park(args.park)
    print(f"python {platform.python_version()}, {os.cpu_count()} cpus, {platform.processor()}")
    print(f"park {park.park.id}: {len(park.devices)} devices; window {args.window}")
    generated, messages = generator_rate(park, min(args.seconds, 5.0))
    print(f"generator   {generated:10,.0f} readings/s (no broker)")
    with tempfile.TemporaryDirectory() as folder:
        broker = Mosquitto.create(Path(folder))
        broker.start()
        try:
            baseline = paho_baseline(broker.port, messages, args.window, args.seconds)
            print(f"baseline    {baseline:10,.0f} msg/s (bare paho, QoS 1, pre-encoded)")
            lean = asyncio.run(publisher_rate(broker.port, messages, args.window, args.seconds))
            print(
                f"publisher   {lean:10,.0f} msg/s (simulators.publisher, QoS 1, pre-encoded)"
                f"  {lean / baseline:5.2f} x baseline"
            )
            simulated = simulator_rate(park, broker.port, args.window, args.seconds)
            print(
                f"simulator   {simulated:10,.0f} msg/s (run_simulator, speed 0, QoS 1)"
                f"      {simulated / baseline:5.2f} x baseline"
            )
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
