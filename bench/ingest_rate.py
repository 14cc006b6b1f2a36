"""Ingest rate of the collector, against a bare paho-mqtt consumer measured in the same run.

Both drain the same backlog from a persistent session on a real mosquitto: N messages of the
demo park's shape are queued while the consumer is away, then it connects and the clock runs
until the last one is handled. The bare consumer only decodes the JSON (stdlib json, as a first
consumer would); the collector validates, tags, writes to a real InfluxDB 1.x and acknowledges
after each batch is durable. Absolute rates drift on shared machines; the ratio is the figure.

    .venv/bin/python bench/ingest_rate.py --messages 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import threading
import time
import uuid
from pathlib import Path

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from servers import InfluxDB1, Mosquitto

from collectors.service import Collector
from parktwin.config import load_settings
from parktwin.contract import topics
from parktwin.park.bundled import demo_park_path
from parktwin.park.loader import load_park
from parktwin.park.model import Park

BASE_TS_MS = 1_767_225_600_000


def payloads(park: Park, count: int) -> list[tuple[str, bytes]]:
    """``count`` valid sub-meter readings spread over the park's electricity sub-meters."""
    meters = [d.id for d in park.devices if d.kind.value == "sub_meter"]
    out = []
    for i in range(count):
        device = meters[i % len(meters)]
        ts = BASE_TS_MS + (i // len(meters)) * 1000
        body = {"v": 1, "ts": ts, "values": {"energy_kwh": 1000.0 + i, "power_kw": 42.5}}
        out.append((topics.telemetry(park.park.id, device), orjson.dumps(body)))
    return out


def connect(port: int, client_id: str, clean: bool, inflight: int = 20) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    client.max_inflight_messages_set(inflight)
    client.max_queued_messages_set(0)

    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    props.ReceiveMaximum = 20000
    client.connect("127.0.0.1", port, clean_start=clean, properties=props)
    return client


def register_session(port: int, client_id: str, subscription: str) -> None:
    """Create a persistent session with its subscription, then leave."""
    client = connect(port, client_id, True)
    done = threading.Event()
    client.on_subscribe = lambda *a: done.set()
    client.loop_start()
    client.subscribe(subscription, qos=1)
    done.wait(10)
    client.disconnect()
    client.loop_stop()


def publish_backlog(port: int, messages: list[tuple[str, bytes]]) -> None:
    client = connect(port, f"pub-{uuid.uuid4().hex[:6]}", True, inflight=1000)
    client.loop_start()
    # Message ids wrap at 65,535: keep fewer than that outstanding.
    for start in range(0, len(messages), 50_000):
        infos = [client.publish(t, d, qos=1) for t, d in messages[start : start + 50_000]]
        for info in infos:
            info.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()


def bare_consumer(port: int, client_id: str, count: int) -> float:
    """Seconds for a bare paho consumer to receive and json-decode ``count`` messages."""
    received = 0
    done = threading.Event()

    def on_message(client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        nonlocal received
        json.loads(message.payload)
        received += 1
        if received >= count:
            done.set()

    client = connect(port, client_id, False)
    client.on_message = on_message
    start = time.perf_counter()
    client.loop_start()
    done.wait(600)
    elapsed = time.perf_counter() - start
    client.disconnect()
    client.loop_stop()
    return elapsed


async def collector_drain(
    park: Park, port: int, influx: InfluxDB1, client_id: str, count: int, spool: Path
) -> float:
    settings = load_settings(
        None,
        mqtt__port=port,
        mqtt__client_id=client_id,
        influx__url=influx.url,
        influx__database="bench",
        spool__folder=spool,
        collector__max_future_s=1e9,
    )
    collector = Collector(park, settings)
    stop = asyncio.Event()
    start = time.perf_counter()
    task = asyncio.create_task(collector.run(stop))
    while collector.stats.readings_stored < count and not task.done():
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - start
    stop.set()
    await task
    assert collector.stats.messages_rejected == 0, collector.stats.rejected_by_reason
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    args = parser.parse_args()
    park = load_park(demo_park_path())
    backlog = payloads(park, args.messages)
    subscription = topics.telemetry_filter(park.park.id)
    with tempfile.TemporaryDirectory() as folder:
        broker = Mosquitto.create(Path(folder) / "mqtt")
        influx = InfluxDB1.create(Path(folder) / "influx")
        broker.start()
        influx.start()
        try:
            register_session(broker.port, "bare", subscription)
            publish_backlog(broker.port, backlog)
            bare_s = bare_consumer(broker.port, "bare", args.messages)

            register_session(broker.port, "collector", subscription)
            publish_backlog(broker.port, backlog)
            collector_s = asyncio.run(
                collector_drain(
                    park, broker.port, influx, "collector", args.messages, Path(folder) / "spool"
                )
            )
        finally:
            broker.stop()
            influx.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    bare_rate, collector_rate = args.messages / bare_s, args.messages / collector_s
    print(f"messages                       {args.messages}")
    print(f"bare paho consumer (json only) {bare_rate:10.0f} msg/s")
    print(f"collector → InfluxDB 1.x       {collector_rate:10.0f} msg/s (stored and acknowledged)")
    print(f"ratio collector / bare         {collector_rate / bare_rate:10.2f}")
    print(f"peak RSS of this process       {rss_mb:10.0f} MB")


if __name__ == "__main__":
    main()
