"""Does a webhook receiver that hangs, or is down, slow the collectors? It must not.

The default deployment (``parktwin run``) runs the collector and the twin in one process and
one event loop. Here both drain the same backlog of demo-park readings from their persistent
sessions on a real mosquitto, the collector writing to a real InfluxDB 1.x, while the twin ticks
and its alert rules fire (a demand rule per building with a limit every building exceeds). The
clock runs until the collector has stored every reading. After a warm-up run, three runs, each
with fresh sessions:

- no receiver: alerts go only to InfluxDB (the baseline);
- a receiver that accepts connections and never answers (each request waits out its timeout);
- a receiver that is down (connections refused, retried with backoff).

    .venv/bin/python bench/alerts_isolation.py [--messages 200000] [--reverse]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from ingest_rate import payloads, publish_backlog, register_session
from servers import InfluxDB1, Mosquitto

from collectors.service import Collector
from parktwin.config import load_settings
from parktwin.contract import topics
from parktwin.park.alerts import AlertSettings, DemandRule
from parktwin.park.bundled import demo_park_path
from parktwin.park.loader import load_park
from parktwin.park.model import Park
from programs.wiring import attach_alerts
from twin.service.service import TwinService


def hanging_receiver() -> tuple[int, socket.socket]:
    """A TCP port that accepts connections and never answers (a thread holds them open)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1024)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            held.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    return int(server.getsockname()[1]), server


def down_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def with_alerts(park: Park) -> Park:
    """The demo park with a demand rule on every building, set low enough to fire."""
    rules = [
        DemandRule(
            kind="demand",
            id=f"demand-{b.id}",
            place=f"building:{b.id}",
            limit_kw=0.001,
            window_s=60,
            for_s=0,
            clear_for_s=0,
        )
        for b in park.buildings
    ]
    return park.model_copy(update={"alerts": AlertSettings(rules=rules)})


async def drain(
    park: Park, broker: Mosquitto, influx: InfluxDB1, folder: Path, url: str | None, count: int
) -> dict[str, Any]:
    run = uuid.uuid4().hex[:6]
    receivers = {"ops": {"url": url, "timeout_s": 10.0}} if url else {}
    settings = load_settings(
        None,
        mqtt__port=broker.port,
        mqtt__client_id=f"collector-{run}",
        influx__url=influx.url,
        influx__database="bench",
        spool__folder=folder / "spool",
        collector__max_future_s=1e9,
        twin__client_id=f"twin-{run}",
        twin__checkpoint_folder=folder / "twin",
        # Ticks often enough that the alerts fire while the collector drains (about 5 s).
        twin__tick_s=0.25,
        twin__rebuild_from_history=False,
        api__port=0,
        alerts={"folder": folder / "alerts", "receivers": receivers},
    )
    subscription = topics.telemetry_filter(park.park.id)
    register_session(broker.port, f"collector-{run}", subscription)
    register_session(broker.port, f"twin-{run}-{park.park.id}", subscription)
    publish_backlog(broker.port, payloads(park, count))
    collector = Collector(park, settings)
    twin = TwinService(park, settings)
    alerts = attach_alerts(twin)
    stop = asyncio.Event()
    start = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        group.create_task(collector.run(stop))
        group.create_task(twin.run(stop, serve_api=False))
        while collector.stats.readings_stored < count:
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - start
        # Let the twin catch up and fire, so each run's alerts are counted alike.
        while twin.stats.readings_ingested < count:
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.0)
        stop.set()
    stats = alerts.dispatcher.stats
    return {
        "rate": count / elapsed,
        "fired": sum(1 for _ in alerts.engine.active()),
        "attempts": stats.attempts,
        "delivered": stats.delivered,
        "webhook_pending": alerts.outbox.count("ops"),
        "reconnects": collector.intake.reconnects + twin.intake.reconnects,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--reverse", action="store_true", help="run the cases in reverse order")
    args = parser.parse_args()
    park = with_alerts(load_park(demo_park_path()))
    hang_port, hang_socket = hanging_receiver()
    cases = {
        "no webhook receiver (baseline)": None,
        "receiver hangs (10 s timeout)": f"http://127.0.0.1:{hang_port}/hook",
        "receiver down (refused)": f"http://127.0.0.1:{down_port()}/hook",
    }
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        broker = Mosquitto.create(Path(folder) / "mqtt")
        influx = InfluxDB1.create(Path(folder) / "influx")
        broker.start()
        influx.start()
        try:
            # A first run is slower whatever its case (new database, cold caches): warm up.
            asyncio.run(drain(park, broker, influx, Path(folder) / "warm-up", None, 50_000))
            order = list(cases.items())[:: -1 if args.reverse else 1]
            for i, (name, url) in enumerate(order):
                results[name] = asyncio.run(
                    drain(park, broker, influx, Path(folder) / f"run{i}", url, args.messages)
                )
        finally:
            broker.stop()
            influx.stop()
            hang_socket.close()
    baseline = results["no webhook receiver (baseline)"]["rate"]
    print(f"messages {args.messages}, demo park, {len(park.alerts.rules)} demand rules")
    print(
        f"{'case':34} {'msg/s':>8} {'vs base':>8} {'alerts':>7} {'attempts':>9} {'pending':>8}"
        f" {'MQTT reconnects':>16}"
    )
    for name, r in results.items():
        print(
            f"{name:34} {r['rate']:8.0f} {r['rate'] / baseline:8.2f} {r['fired']:7d}"
            f" {r['attempts']:9d} {r['webhook_pending']:8d} {r['reconnects']:16d}"
        )


if __name__ == "__main__":
    main()
