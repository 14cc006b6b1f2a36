"""What mosquitto's autosave costs the publish rate, against its default (every 30 minutes).

mosquitto keeps sessions and queued messages in memory and writes them all to its persistence
file at ``autosave_interval`` (seconds, or changes with ``autosave_on_changes true``); a crash
loses what changed since the last save, messages it had already confirmed included
(docs/reliability.md). This measures the simulator's publisher (QoS 1, every message PUBACKed)
against brokers that differ only in their autosave settings, with a persistent session whose
client is away, so that every message is queued and every save writes the whole queue: the
worst case, a collector down while the devices go on. Rounds alternate between the settings in
the same run; the ratio of medians to the default is the figure.

    .venv/bin/python bench/broker_autosave.py --seconds 5 --rounds 3
    .venv/bin/python bench/broker_autosave.py --crash --rounds 3   # what a SIGKILL loses
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from conftest import Mosquitto  # noqa: E402
from ingest_rate import payloads  # noqa: E402

from parktwin.config import MqttSettings  # noqa: E402
from parktwin.contract import topics  # noqa: E402
from parktwin.park.bundled import demo_park_path  # noqa: E402
from parktwin.park.loader import load_park  # noqa: E402
from parktwin.wire.subscriber import open_subscriber  # noqa: E402
from simulators.publisher import open_publisher  # noqa: E402

# name -> the lines that set it (after the base configuration; the last setting wins)
SETTINGS = {
    "default (1800 s)": "autosave_interval 1800\n",
    "every 1 s": "autosave_interval 1\n",
    "every 5 s": "autosave_interval 5\n",
    "every 10,000 changes": "autosave_on_changes true\nautosave_interval 10000\n",
}


def register_session(port: int, park_id: str) -> None:
    """A persistent session subscribed to the park's telemetry, whose client then leaves: made
    as the collectors make theirs (clean start off; mosquitto 2.0.11 does not restore, after a
    restart, a session whose last CONNECT had clean start on)."""

    async def register() -> None:
        settings = MqttSettings(port=port, session_expiry_s=3600)
        async with open_subscriber(settings, "away-collector") as session:
            await session.subscribe([topics.telemetry_filter(park_id)], 1, 10)

    asyncio.run(register())


async def publish_rate(port: int, messages: list[tuple[str, bytes]], seconds: float) -> float:
    async with open_publisher(MqttSettings(port=port), "bench-autosave", window=1000) as out:
        began = time.perf_counter()
        while time.perf_counter() - began < seconds:
            for _ in range(200):
                if not out.has_room():
                    await out.wait_for_room()
                topic, payload = messages[out.sent % len(messages)]
                out.publish(topic, payload)
            await asyncio.sleep(0)
        await out.drain()
        return out.published / (time.perf_counter() - began)


async def publish_until_killed(
    broker: Mosquitto, messages: list[tuple[str, bytes]], kill_after_s: float
) -> int:
    """Publish as fast as confirmed until the broker is SIGKILLed; messages it confirmed."""
    confirmed = 0
    try:
        async with open_publisher(MqttSettings(port=broker.port), "bench-crash") as out:
            began = time.perf_counter()
            killed = False
            while True:
                for _ in range(200):
                    if not out.has_room():
                        await out.wait_for_room()
                    topic, payload = messages[out.sent % len(messages)]
                    out.publish(topic, f"{out.sent}".encode() + payload[:0])
                confirmed = out.published
                await asyncio.sleep(0)
                if not killed and time.perf_counter() - began > kill_after_s:
                    await asyncio.to_thread(broker.kill)
                    killed = True
    except Exception:  # the connection to the killed broker fails: that is the point
        pass
    return confirmed


async def delivered_after_restart(port: int) -> int:
    got: set[bytes] = set()
    settings = MqttSettings(port=port, session_expiry_s=3600)
    async with open_subscriber(settings, "away-collector") as session:
        while True:
            try:
                async with asyncio.timeout(2):
                    burst = await session.next_burst()
            except TimeoutError:
                return len(got)
            got.update(m.payload for m in burst)
            session.ack([m.mid for m in burst])


def crash_loss(settings: str, messages: list[tuple[str, bytes]], park_id: str) -> tuple[int, int]:
    """(confirmed, delivered after a restart) when mosquitto is SIGKILLed while a device
    publishes and the collector is away."""
    with tempfile.TemporaryDirectory(prefix="autosave-crash-") as folder:
        broker = Mosquitto.create(Path(folder), settings)
        broker.start()
        try:
            register_session(broker.port, park_id)
            confirmed = asyncio.run(publish_until_killed(broker, messages, 3.5))
            broker.start()
            return confirmed, asyncio.run(delivered_after_restart(broker.port))
        finally:
            broker.kill()


def one_run(
    settings: str, messages: list[tuple[str, bytes]], park_id: str, seconds: float
) -> float:
    with tempfile.TemporaryDirectory(prefix="autosave-") as folder:
        broker = Mosquitto.create(Path(folder), settings)
        broker.start()
        try:
            register_session(broker.port, park_id)
            return asyncio.run(publish_rate(broker.port, messages, seconds))
        finally:
            broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--crash", action="store_true", help="Measure what a SIGKILL loses.")
    args = parser.parse_args()
    park = load_park(demo_park_path())
    messages = payloads(park, 20_000)
    if args.crash:
        for name in ("default (1800 s)", "every 1 s"):
            for _ in range(args.rounds):
                confirmed, delivered = crash_loss(SETTINGS[name], messages, park.park.id)
                print(
                    f"{name:22} SIGKILL after 3.5 s: {confirmed:,} confirmed to the device, "
                    f"{delivered:,} delivered after the restart, {confirmed - delivered:,} lost"
                )
        return
    rates: dict[str, list[float]] = {name: [] for name in SETTINGS}
    for _ in range(args.rounds):
        for name, settings in SETTINGS.items():
            rates[name].append(one_run(settings, messages, park.park.id, args.seconds))
    baseline = statistics.median(rates["default (1800 s)"])
    for name, found in rates.items():
        middle = statistics.median(found)
        print(
            f"{name:22} {middle:9,.0f} msg/s (median of {args.rounds}; all: "
            f"{', '.join(f'{r:,.0f}' for r in found)}), ratio {middle / baseline:.2f}"
        )


if __name__ == "__main__":
    main()
