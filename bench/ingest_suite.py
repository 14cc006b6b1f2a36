"""The ingest benchmarks on real servers: throughput against baselines, latency, an outage,
and collectors sharing one subscription. Each function returns rows for the report.

Throughput is measured on a backlog: the consumer subscribes, is frozen (SIGSTOP) while N
messages are published, then thawed with the clock started; the broker has kept every message
for it (in flight up to its Receive Maximum, the rest queued in its session). The run ends when
the consumer exits after N messages (the baselines, the naive collector after N writes) or when
InfluxDB holds N points (parktwin's collector; or the line sink has counted N distinct points,
none twice, when the collector writes to the sink). CPU and peak RSS are the consumer process's
own; a drain that stores also reports the storing process's CPU over the same interval
(``store_cpu_s_per_1000``: influxd, or the line sink given by ``store_pid``), which is what
bounds the rate into InfluxDB on two shared cores, and every row the load average at its start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from consumers import Consumer, end_session, start_collector, start_line_sink
from influx_count import StoredCounter
from line_sink import SinkCounter
from load import backlog, publish_all, publish_paced, tasmota_backlog
from procstat import cpu_seconds, memory_mb
from servers import InfluxDB1, Mosquitto, free_port
from sparkplug_load import sparkplug_backlog

from parktwin.contract import topics
from parktwin.park.model import Park

Row = dict[str, Any]


@dataclass
class Bench:
    """The servers and the park every ingest benchmark uses."""

    folder: Path
    broker: Mosquitto
    influx: InfluxDB1
    park_id: str
    park_file: Path
    devices: list[str]

    @property
    def subscription(self) -> str:
        return topics.telemetry_filter(self.park_id)

    def collector(
        self, database: str, client_id: str, group: str | None = None, url: str | None = None
    ) -> Consumer:
        """A collector writing to ``database`` of InfluxDB, or of the server at ``url``."""
        return start_collector(
            self.folder / "consumers",
            self.park_file,
            self.broker.port,
            url or self.influx.url,
            database,
            client_id,
            group,
        )

    def line_sink(self) -> tuple[Consumer, SinkCounter]:
        """A fresh line sink (bench/line_sink.py) and its counter."""
        port = free_port()
        sink = start_line_sink(self.folder / "consumers", port)
        sink.wait_ready()
        return sink, SinkCounter(f"http://127.0.0.1:{port}")

    def counter(self, database: str, sent_ms: list[int], margin: int = 2_000) -> StoredCounter:
        return StoredCounter(self.influx.url, database, sent_ms, margin)


def wait_stored(
    counter: StoredCounter | SinkCounter, count: int, timeout_s: float, every_s: float = 0.1
) -> int:
    """Poll InfluxDB until ``count`` points are stored (or the time is up); the exact count."""
    deadline = time.monotonic() + timeout_s
    while counter.count() < count and time.monotonic() < deadline:
        time.sleep(every_s)
    stored = counter.exact()
    while stored < count and time.monotonic() < deadline:
        time.sleep(0.5)
        stored = counter.exact()
    return stored


def received(consumer: Consumer) -> int:
    """Messages a collector took in, from the summary it prints when it stops."""
    found = re.search(r"messages received (\d+)", consumer.stdout.read_text())
    if found is None:
        raise RuntimeError(f"{consumer.name} printed no summary:\n{consumer.output()}")
    return int(found.group(1))


def stop(consumer: Consumer) -> None:
    """SIGTERM, then wait for the collector to acknowledge its last batch and leave."""
    consumer.process.terminate()
    consumer.process.wait(60)


def wait_exit(consumer: Consumer, timeout_s: float) -> tuple[float, float]:
    """Wait for the consumer to exit; its total CPU seconds (from wait4) and peak RSS in MB.

    The peak comes from VmHWM read while it runs (every 20 ms, and its last growth may be
    missed): wait4's ru_maxrss is no use, Linux carries the forking parent's peak over exec.
    """
    pid, deadline = consumer.process.pid, time.monotonic() + timeout_s
    peak_mb, checks = 0.0, 0
    while time.monotonic() < deadline:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            consumer.process.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime, peak_mb
        if checks % 10 == 0:
            with contextlib.suppress(OSError, KeyError):
                peak_mb = max(peak_mb, memory_mb(pid)["VmHWM"])
        checks += 1
        time.sleep(0.002)
    consumer.process.kill()
    raise RuntimeError(f"{consumer.name} did not finish in {timeout_s} s:\n{consumer.output()}")


def drain(
    bench: Bench,
    name: str,
    start: Callable[[], Consumer],
    count: int,
    database: str | None = None,
    mapped: bool = False,
    properties: bytes = b"\x00",
    sparkplug: Park | None = None,
    sink: SinkCounter | None = None,
    store_pid: int | None = None,
) -> Row:
    """Time one consumer over a backlog of ``count`` messages (see the module's docstring).

    With ``database``, the run ends when InfluxDB holds ``count`` points (or ``sink`` has
    counted them, when the consumer writes to the line sink); otherwise when the consumer exits.
    ``mapped``: the backlog is Tasmota messages (a mapping of the park file) instead of
    parktwin's own. ``properties``: the v5 property list every message carries (none).
    ``sparkplug`` (the park, with ``database``): the backlog is Sparkplug B DDATA of the park's
    edge nodes, whose births the collector takes (and stores) before it is frozen, untimed.
    ``store_pid``: the process that stores the points (default: InfluxDB's, when ``database``).
    """
    consumer = start()
    consumer.wait_ready()
    pid = consumer.process.pid
    base_ms = int(time.time() * 1000) - 3_600_000
    before_ms: list[int] = []  # event times of the readings stored before the backlog
    before_messages = 0
    if sparkplug is not None:
        assert database is not None, "a Sparkplug drain is counted in InfluxDB"
        load = sparkplug_backlog(sparkplug, bench.devices, count, base_ms)
        asyncio.run(publish_all(bench.broker.port, load.births, f"bench-pub-{name}-births"))
        before_ms, before_messages = load.birth_ts_ms, len(load.births)
        if wait_stored(bench.counter(database, before_ms), len(before_ms), 120) != len(before_ms):
            raise RuntimeError(f"{name}: the births' readings were not stored")
    os.kill(pid, signal.SIGSTOP)
    if sparkplug is not None:
        messages, sent_ms = load.data, before_ms + load.data_ts_ms
    elif mapped:
        messages, sent_ms = tasmota_backlog(bench.devices, count, base_ms)
    else:
        messages = backlog(bench.park_id, bench.devices, count, base_ms)
        sent_ms = list(range(base_ms, base_ms + count))
    asyncio.run(publish_all(bench.broker.port, messages, f"bench-pub-{name}", properties))
    del messages
    if store_pid is None and database is not None:
        store_pid = bench.influx.process.pid if bench.influx.process else None
    store_before = cpu_seconds(store_pid) if store_pid is not None else 0.0
    load_1min = os.getloadavg()[0]
    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    os.kill(pid, signal.SIGCONT)
    if database is None:
        cpu_total, peak_mb = wait_exit(consumer, 600)
        elapsed = time.perf_counter() - started
        stored = store_cpu = None
    else:
        counter = sink if sink is not None else bench.counter(database, sent_ms)
        stored = wait_stored(counter, len(before_ms) + count, 600) - len(before_ms)
        elapsed = time.perf_counter() - started
        cpu_total, peak_mb = cpu_seconds(pid), memory_mb(pid)["VmHWM"]
        store_cpu = cpu_seconds(store_pid) - store_before if store_pid is not None else None
        stop(consumer)
        end_session(bench.broker.port, consumer.name)
        if received(consumer) != before_messages + count:
            raise RuntimeError(
                f"{name} received {received(consumer)} of {before_messages + count} messages"
            )
    if stored is not None and stored != count:
        raise RuntimeError(f"{name}: {stored} of {count} points stored")
    if sink is not None and (repeated := sink.report()["repeated"]):
        raise RuntimeError(f"{name}: {repeated} points written more than once")
    return {
        "consumer": name,
        "messages": count,
        "seconds": elapsed,
        "msg_per_s": count / elapsed,
        "cpu_s_per_1000": (cpu_total - cpu_before) / count * 1000,
        "store_cpu_s_per_1000": None if store_cpu is None else store_cpu / count * 1000,
        "peak_rss_mb": peak_mb,
        "load_1min": load_1min,
    }


class Poller:
    """Counts InfluxDB's points every ``every_s`` in a thread: (wall ms after the answer, count)."""

    def __init__(self, counter: StoredCounter, every_s: float = 0.1) -> None:
        self.samples: list[tuple[float, int]] = []
        self._counter, self._every_s = counter, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            count = self._counter.count()
            self.samples.append((time.time() * 1000, count))
            self._stop.wait(self._every_s)


def arrival_latencies(sent_ms: list[int], samples: list[tuple[float, int]]) -> np.ndarray:
    """Seconds from each message's send time to the first poll that counted it.

    The k-th message published is taken to be the k-th point stored: true for one publisher and
    one collector, which keep the broker's order. Rounded up to the poll interval.
    """
    times = np.array([t for t, _ in samples])
    counts = np.maximum.accumulate(np.array([c for _, c in samples]))
    index = np.searchsorted(counts, np.arange(1, len(sent_ms) + 1), side="left")
    if index.max() >= len(times):
        raise RuntimeError("not every message was stored before polling stopped")
    return (times[index] - np.array(sent_ms)) / 1000


def latency(bench: Bench, rate: float, seconds: float) -> Row:
    """Publish-to-queryable latency of the collector under a steady ``rate``."""
    database = f"latency_{rate:.0f}"
    consumer = bench.collector(database, f"bench-latency-{rate:.0f}")
    consumer.wait_ready()
    pid = consumer.process.pid
    cpu_before = cpu_seconds(pid)
    sent: list[int] = []
    counter = bench.counter(database, sent)
    with Poller(counter) as poller:
        asyncio.run(
            publish_paced(
                bench.broker.port, bench.park_id, bench.devices, rate, seconds, "pub-lat", sent
            )
        )
        stored = wait_stored(counter, len(sent), 60)
        time.sleep(0.3)  # one more poll after the last point
    cpu = cpu_seconds(pid) - cpu_before
    memory = memory_mb(pid)
    stop(consumer)
    lat = arrival_latencies(sent, poller.samples)
    return {
        "rate_msg_per_s": rate,
        "achieved_msg_per_s": len(sent) / ((sent[-1] - sent[0]) / 1000),
        "messages": len(sent),
        "stored": stored,
        "p50_s": float(np.percentile(lat, 50)),
        "p99_s": float(np.percentile(lat, 99)),
        "max_s": float(lat.max()),
        "cpu_s_per_1000": cpu / len(sent) * 1000,
        "peak_rss_mb": memory["VmHWM"],
    }


def outage(bench: Bench, rate: float, before_s: float, outage_s: float, after_s: float) -> Row:
    """The collector's RSS before, during and after an InfluxDB outage at a steady ``rate``."""
    database = "outage"
    consumer = bench.collector(database, "bench-outage")
    consumer.wait_ready()
    pid = consumer.process.pid
    samples: list[tuple[float, float]] = []
    total_s = before_s + outage_s + after_s

    async def scenario() -> list[int]:
        publishing = asyncio.create_task(
            publish_paced(
                bench.broker.port, bench.park_id, bench.devices, rate, total_s, "pub-out", []
            )
        )
        start = time.monotonic()
        down = up = False
        while not publishing.done():
            now = time.monotonic() - start
            samples.append((now, memory_mb(pid)["VmRSS"]))
            if not down and now >= before_s:
                down = True
                await asyncio.to_thread(bench.influx.stop)
            elif not up and now >= before_s + outage_s:
                up = True
                await asyncio.to_thread(bench.influx.start)
            await asyncio.sleep(0.5)
        return await publishing

    sent = asyncio.run(scenario())
    finished = time.monotonic()
    stored = wait_stored(bench.counter(database, sent), len(sent), 120, every_s=0.5)
    catch_up_s = time.monotonic() - finished
    memory = memory_mb(pid)
    stop(consumer)

    def phase(lo: float, hi: float) -> float:
        return max(rss for t, rss in samples if lo <= t < hi)

    return {
        "rate_msg_per_s": rate,
        "outage_s": outage_s,
        "messages": len(sent),
        "stored": stored,
        "rss_before_mb": phase(0, before_s),
        "rss_during_mb": phase(before_s, before_s + outage_s),
        "rss_after_mb": max(phase(before_s + outage_s, total_s + 1), memory["VmRSS"]),
        "peak_rss_mb": memory["VmHWM"],
        "catch_up_s": catch_up_s,
    }


def shared(bench: Bench, processes: int, count: int) -> Row:
    """``processes`` collectors on one MQTT v5 shared subscription draining one backlog."""
    database = f"shared{processes}"
    consumers = [
        bench.collector(database, f"bench-shared-{i}", group="bench") for i in range(processes)
    ]
    for consumer in consumers:
        consumer.wait_ready()
    for consumer in consumers:
        os.kill(consumer.process.pid, signal.SIGSTOP)
    base_ms = int(time.time() * 1000) - 7_200_000
    messages = backlog(bench.park_id, bench.devices, count, base_ms)
    asyncio.run(publish_all(bench.broker.port, messages, "bench-pub-shared"))
    del messages
    cpu_before = [cpu_seconds(c.process.pid) for c in consumers]
    started = time.perf_counter()
    for consumer in consumers:
        os.kill(consumer.process.pid, signal.SIGCONT)
    # Two collectors write interleaved halves: allow for a batch and a window each out of order.
    counter = bench.counter(database, list(range(base_ms, base_ms + count)), margin=50_000)
    stored = wait_stored(counter, count, 600)
    elapsed = time.perf_counter() - started
    cpu = sum(cpu_seconds(c.process.pid) for c in consumers) - sum(cpu_before)
    peak = max(memory_mb(c.process.pid)["VmHWM"] for c in consumers)
    for consumer in consumers:
        stop(consumer)
    per_process = [received(c) for c in consumers]
    return {
        "processes": processes,
        "messages": count,
        "stored": stored,
        "received": sum(per_process),
        "split": "/".join(str(n) for n in per_process),
        "lost": count - stored,
        "duplicated": sum(per_process) - count,
        "seconds": elapsed,
        "msg_per_s": count / elapsed,
        "cpu_s_per_1000": cpu / count * 1000,
        "peak_rss_mb": peak,
    }
