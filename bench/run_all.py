"""Every throughput, latency, memory and scaling figure of docs/performance.md, in one run.

Starts mosquitto and InfluxDB 1.x on loopback, a 10,000-device park (electricity sub-meters),
and measures in the same run:
  - backlog drain: parktwin's collector (``python -m programs collect``), the same collector
    on Tasmota messages through a mapping (issue #15: at most 2x a native message) and on
    Sparkplug B DDATA by alias after the edge nodes' births (issue #20: the same 2x), a bare
    paho consumer (JSON only: the issue's ceiling for Python), the same on parktwin's own MQTT
    client (a tighter ceiling), ``mosquitto_sub`` to /dev/null (the broker's ceiling) and a
    naive collector (one InfluxDB write per message), with the ratios between them; the
    collector and the bare consumer on parktwin's client again with MQTT v5 properties on every
    message (content type, payload format, a user property, as devices set them), against their
    plain drain; the collector writing to a sink that only counts lines (bench/line_sink.py:
    what the collector controls, without InfluxDB's work on the same cores), and both collector
    drains against ``mosquitto_sub``'s (issue #20: >= 0.5x, <= 0.006 CPU s per 1,000 messages);
  - publish-to-queryable latency at a steady rate;
  - the collector's RSS before, during and after an InfluxDB outage;
  - collectors on one MQTT v5 shared subscription (no reading lost or duplicated);
  - the twin service's whole tick (ingest, snapshot, outputs) at 1,000, 10,000 and 100,000
    devices, without and with the demo park's example tariff, against ingest + snapshot;
  - the twin's rebuild from InfluxDB with no checkpoint over 90 days of the demo park, against
    its bare statements answered and parsed (issue #20; ``bench/rebuild.py``; --skip-rebuild).
Prints tables and writes them as CSV to bench/results/ (git-ignored).

    .venv/bin/python bench/run_all.py [--messages 200000] [--latency-rates 15000] [--skip-twin]
    .venv/bin/python bench/run_all.py [--skip-rebuild] [--rebuild-days 365]
    .venv/bin/python bench/run_all.py --mapped-only --skip-twin --messages 50000
    .venv/bin/python bench/run_all.py --drain-only --skip-twin --messages 100000
    .venv/bin/python bench/run_all.py --collector-drain-only --skip-twin --messages 100000
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ingest_suite
import rebuild
import twin_tick
from bench_park import write_park_file
from consumers import start_bare, start_bare_wire, start_mosquitto_sub, start_naive
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from servers import InfluxDB1, Mosquitto

RESULTS = Path(__file__).resolve().parent / "results"
DEVICES = 10_000


def v5_properties() -> bytes:
    """What a device's message may carry (MQTT v5 3.3.2.3): payload format UTF-8, a content
    type, a user property (mosquitto forwards them to the subscriber), as paho packs them."""
    properties = Properties(PacketTypes.PUBLISH)
    properties.PayloadFormatIndicator = 1
    properties.ContentType = "application/json"
    properties.UserProperty = ("site", "north")
    return bytes(properties.pack())


def print_table(title: str, rows: Sequence[dict[str, Any]]) -> None:
    """Rows of one section as an aligned text table."""
    if not rows:
        return
    columns = list(rows[0])
    cells = [[fmt(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print(f"\n{title}")
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)), flush=True)


def fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


def write_csv(path: Path, sections: dict[str, list[dict[str, Any]]]) -> None:
    """One CSV row per (section, row, metric): long format, so sections may differ in columns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as file:
        out = csv.writer(file)
        out.writerow(["section", "row", "metric", "value"])
        for section, rows in sections.items():
            for i, row in enumerate(rows):
                for metric, value in row.items():
                    out.writerow([section, i, metric, value])


def ingest(args: argparse.Namespace, folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Every ingest benchmark on one broker and one InfluxDB."""
    broker = Mosquitto.create(folder / "mqtt")
    influx = InfluxDB1.create(folder / "influx")
    park = write_park_file(folder / "park.yaml", DEVICES, mapped=True, sparkplug=True)
    devices = [d.id for d in park.devices if d.kind.value == "sub_meter"]
    broker.start()
    influx.start()
    bench = ingest_suite.Bench(folder, broker, influx, park.park.id, folder / "park.yaml", devices)
    sub, port, n = bench.subscription, broker.port, args.messages
    v5 = v5_properties()
    out: dict[str, list[dict[str, Any]]] = {}
    try:
        consumers = folder / "consumers"
        if args.collector_drain_only:
            return collector_drain_only(bench, n)
        collectors = [
            ingest_suite.drain(
                bench,
                "collector",
                lambda: bench.collector("throughput", "bench-collector"),
                n,
                "throughput",
            ),
            ingest_suite.drain(
                bench,
                "collector_mapped",
                lambda: bench.collector("mapped", "bench-collector-mapped"),
                n,
                "mapped",
                mapped=True,
            ),
            ingest_suite.drain(
                bench,
                "collector_sparkplug",
                lambda: bench.collector("sparkplug", "bench-collector-sparkplug"),
                n,
                "sparkplug",
                sparkplug=park,
            ),
        ]
        # Issue #15's target: a mapped (Tasmota) message costs at most 2x a native one.
        native_row, mapped_row, sparkplug_row = collectors
        out["mapped"] = [
            {
                "native_msg_per_s": native_row["msg_per_s"],
                "mapped_msg_per_s": mapped_row["msg_per_s"],
                "time_ratio": native_row["msg_per_s"] / mapped_row["msg_per_s"],
                "cpu_ratio": mapped_row["cpu_s_per_1000"] / native_row["cpu_s_per_1000"],
                "target": "<= 2",
            }
        ]
        print_table("mapped (Tasmota) against native messages, same run", out["mapped"])
        # Issue #20: a Sparkplug B DDATA (one reading by alias) against a native message.
        out["sparkplug"] = [
            {
                "native_msg_per_s": native_row["msg_per_s"],
                "sparkplug_msg_per_s": sparkplug_row["msg_per_s"],
                "time_ratio": native_row["msg_per_s"] / sparkplug_row["msg_per_s"],
                "cpu_ratio": sparkplug_row["cpu_s_per_1000"] / native_row["cpu_s_per_1000"],
                "target": "<= 2",
            }
        ]
        print_table("Sparkplug B DDATA against native messages, same run", out["sparkplug"])
        if args.mapped_only:
            out["throughput"] = collectors
            print_table("backlog drain", collectors)
            return out
        drains = [
            *collectors,
            ingest_suite.drain(bench, "bare_paho", lambda: start_bare(consumers, port, sub, n), n),
            ingest_suite.drain(
                bench, "bare_wire", lambda: start_bare_wire(consumers, port, sub, n), n
            ),
            ingest_suite.drain(
                bench,
                "bare_wire_v5_props",
                lambda: start_bare_wire(consumers, port, sub, n),
                n,
                properties=v5,
            ),
            ingest_suite.drain(
                bench,
                "collector_v5_props",
                lambda: bench.collector("throughput_v5", "bench-collector-v5"),
                n,
                "throughput_v5",
                properties=v5,
            ),
            ingest_suite.drain(
                bench, "mosquitto_sub", lambda: start_mosquitto_sub(consumers, port, sub, n), n
            ),
            ingest_suite.drain(
                bench,
                "naive",
                lambda: start_naive(consumers, port, sub, args.naive_messages, influx.url, "naive"),
                args.naive_messages,
            ),
        ]
        drains.append(drain_to_sink(bench, n))
        rate = {row["consumer"]: row["msg_per_s"] for row in drains}
        cpu = {row["consumer"]: row["cpu_s_per_1000"] for row in drains}
        for row in drains:
            row["vs_bare"] = row["msg_per_s"] / rate["bare_paho"]
            row["collector_vs_this"] = rate["collector"] / row["msg_per_s"]
            plain = row["consumer"].removesuffix("_v5_props")
            row["vs_plain"] = row["msg_per_s"] / rate[plain]
            # Per CPU second of the consumer: what the properties cost it, whatever the broker
            # and the publisher take of the shared cores (they bound msg/s on a 2-core machine).
            row["cpu_vs_plain"] = cpu[plain] / row["cpu_s_per_1000"]
        out["throughput"] = drains
        print_table("backlog drain (points/s = msg/s: one reading a message)", drains)
        out["drain_vs_broker"] = against_broker(drains)
        print_table(
            "collector drain vs mosquitto_sub (issue #20), same run", out["drain_vs_broker"]
        )
        if args.drain_only:
            return out
        out["latency"] = [
            ingest_suite.latency(bench, rate, args.latency_s)
            for rate in sorted({args.rate, *args.latency_rates})
        ]
        print_table("publish to queryable", out["latency"])
        out["outage"] = [ingest_suite.outage(bench, args.rate, 10, args.outage_s, 10)]
        print_table("InfluxDB outage", out["outage"])
        shared = [ingest_suite.shared(bench, p, n) for p in (1, 2)]
        for row in shared:
            row["vs_one"] = row["msg_per_s"] / shared[0]["msg_per_s"]
        out["shared"] = shared
        print_table("shared subscription", shared)
    finally:
        broker.stop()
        influx.stop()
    return out


def collector_drain_only(bench: ingest_suite.Bench, count: int) -> dict[str, list[dict[str, Any]]]:
    """Issue #20's rows alone: the collector into InfluxDB and into the line sink,
    ``mosquitto_sub`` and the bare consumer on parktwin's client, in that order."""
    consumers, port, sub = bench.folder / "consumers", bench.broker.port, bench.subscription
    drains = [
        ingest_suite.drain(
            bench,
            "collector",
            lambda: bench.collector("throughput", "bench-collector"),
            count,
            "throughput",
        ),
        drain_to_sink(bench, count),
        ingest_suite.drain(
            bench,
            "mosquitto_sub",
            lambda: start_mosquitto_sub(consumers, port, sub, count),
            count,
        ),
        ingest_suite.drain(
            bench, "bare_wire", lambda: start_bare_wire(consumers, port, sub, count), count
        ),
    ]
    print_table("backlog drain (points/s = msg/s: one reading a message)", drains)
    out = {"throughput": drains, "drain_vs_broker": against_broker(drains)}
    print_table("collector drain vs mosquitto_sub (issue #20)", out["drain_vs_broker"])
    return out


def drain_to_sink(bench: ingest_suite.Bench, count: int) -> dict[str, Any]:
    """The collector's drain into the line sink (bench/line_sink.py) instead of InfluxDB: what
    the collector controls, without the database's work on the same cores (issue #20)."""
    sink, counter = bench.line_sink()
    try:
        return ingest_suite.drain(
            bench,
            "collector_sink",
            lambda: bench.collector("sink", "bench-collector-sink", url=counter.url),
            count,
            "sink",
            sink=counter,
            store_pid=sink.process.pid,
        )
    finally:
        sink.process.terminate()
        sink.process.wait(10)


def against_broker(drains: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue #20's row: the collector's drain (into InfluxDB, and into the line sink) against
    ``mosquitto_sub``'s in the same run; the targets are >= 0.5x and <= 0.006 CPU s/1,000."""
    by_name = {row["consumer"]: row for row in drains}
    broker = by_name["mosquitto_sub"]
    return [
        {
            "row": f"{name} vs mosquitto_sub",
            "msg_per_s": by_name[name]["msg_per_s"],
            "mosquitto_sub_msg_per_s": broker["msg_per_s"],
            "ratio": by_name[name]["msg_per_s"] / broker["msg_per_s"],
            "cpu_s_per_1000": by_name[name]["cpu_s_per_1000"],
            "store_cpu_s_per_1000": by_name[name]["store_cpu_s_per_1000"],
            "load_1min": by_name[name]["load_1min"],
            "target": ">= 0.5x, <= 0.006 CPU s",
        }
        for name in ("collector", "collector_sink")
    ]


def twin(sizes: list[int]) -> list[dict[str, Any]]:
    """The twin service's whole tick (issue #20), without and with the demo park's tariff."""
    rows = []
    for kind in twin_tick.PARKS:
        for size in sizes:
            r = twin_tick.measure(size, 5, kind)
            rows.append(r)
    twin_tick.linearity(rows)
    table = [
        {
            "park": r["park"],
            "devices": r["devices"],
            "ingest_snapshot_ms": r["tick_s"] * 1000,  # the same-run reference
            "outputs_ms": r["outputs_s"] * 1000,
            "service_tick_ms": r["service_s"] * 1000,  # the figure
            "service_vs_reference": r["service_s"] / r["tick_s"],
            "per_device_us": r["per_device_us"],
            "per_device_vs_1000": r["vs_1000"],
            "per_device_vs_10000": r["vs_10000"],
            "before_json_form_ms": r["json_form_s"] * 1000,  # the service tick before issue #20
            "baseline_ms": r["baseline_s"] * 1000,
            "gc_ms": r["gc_s"] * 1000,  # the garbage collector's CPU a tick, readings' making too
        }
        for r in rows
    ]
    print_table("twin service tick (CPU ms, median of 5; reference: ingest + snapshot)", table)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000, help="backlog per consumer")
    parser.add_argument("--naive-messages", type=int, default=3_000)
    parser.add_argument("--rate", type=float, default=5_000, help="msg/s for latency, outage")
    parser.add_argument("--latency-s", type=float, default=20)
    parser.add_argument(
        "--latency-rates", type=float, nargs="*", default=[15_000], help="more rates, for headroom"
    )
    parser.add_argument("--outage-s", type=float, default=60)
    parser.add_argument("--twin-sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--skip-twin", action="store_true")
    parser.add_argument("--skip-rebuild", action="store_true", help="no twin rebuild (minutes)")
    parser.add_argument("--rebuild-days", type=int, default=90, help="history the rebuild reads")
    parser.add_argument("--rebuild-rounds", type=int, default=2)
    parser.add_argument(
        "--mapped-only",
        action="store_true",
        help="only the collector on native, mapped (Tasmota) and Sparkplug B messages, and ratios",
    )
    parser.add_argument("--drain-only", action="store_true", help="only the backlog drains")
    parser.add_argument(
        "--collector-drain-only",
        action="store_true",
        help="only issue #20's drains: the collector into InfluxDB and into the line sink, "
        "mosquitto_sub, the bare consumer on parktwin's client",
    )
    args = parser.parse_args()
    started = time.monotonic()
    print(
        f"{platform.node()}: {os.cpu_count()} CPUs, {platform.machine()}, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="parktwin-bench-") as folder:
        sections = ingest(args, Path(folder))
    if not args.skip_twin:
        sections["twin_tick"] = twin(args.twin_sizes)
    if not (args.skip_rebuild or args.mapped_only or args.drain_only or args.collector_drain_only):
        rows = asyncio.run(rebuild.measure(args.rebuild_days, args.rebuild_rounds))
        print_table("twin rebuild from InfluxDB, no checkpoint (issue #20)", rows)
        sections["twin_rebuild"] = rows
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"run_all-{stamp}.csv"
    write_csv(path, sections)
    print(f"\n{time.monotonic() - started:.0f} s; CSV: {path}")


if __name__ == "__main__":
    main()
