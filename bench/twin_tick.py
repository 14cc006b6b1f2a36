"""The twin service's whole tick as the park grows, without and with tariffs (issue #20).

A synthetic park of N devices (sub-meters, people counters, gas meters, PV inverters, one grid
meter; 20 devices a building, 5 buildings an enterprise, 10 zones) receives one round of
readings per tick, one event-time minute apart, and optionally the demo park's example tariff.
Each tick is timed, in CPU seconds of this process, as:

- **ingest + snapshot** (``Twin.ingest`` + ``Twin.snapshot``): the reference, measured in the
  same run on the same readings;
- **outputs**: what ``TwinService._tick`` does with the snapshot but for its I/O
  (``twin/service/tick_outputs.py``: the KPI summary and its retained JSON, the KPI points to
  write, the state kept for the HTTP API);
- the **service tick**: the two together, the figure the issue's targets are about;
- the **service tick before issue #20**, for comparison, on a twin of its own after the
  first (so that neither's garbage is collected in the other's time): ingest, snapshot, its
  JSON form (``to_dict``), ``kpi_summary`` of it and every KPI point from it;
- a plain Python **baseline** loop that only steps each counter and sums per building.

Linearity is the service tick's time per device against the 1,000- and 10,000-device parks'.
By default every tick is an event-time minute apart and every device reads in each, so each
tick writes the full set of KPI points and formats every place row anew: the worst case.
``--parts 12`` spreads the readings over twelve 5 s ticks a minute (the service's default
``tick_s`` with devices reading each minute): ticks between two minutes write only what
changed, and place rows that did not change keep their text.

    .venv/bin/python bench/twin_tick.py [--sizes 1000 10000 100000] [--ticks 5]
        [--parks plain tariff] [--parts 1] [--no-json-form] [--gc ROUNDS] [--decoding]

``--decoding`` instead times, per tick, what ``TwinService._handle`` does before ``Twin.ingest``:
each device's telemetry message (topic and ``parktwin/1`` payload) made into checked readings
by the collectors' ``MessageRouter`` alone (as ``programs/wiring.py`` gives the service) and by
the service's way (``twin/service/native_readings.py`` first), in alternate order, beside
ingest + snapshot and the outputs of the same readings in the same run.

``--gc ROUNDS`` instead compares, in alternate rounds, the garbage collector's runs and CPU time
a tick (over the whole loop, the readings' making included, and inside the service tick) and the
process's resident memory, under the service's setting (``twin/service/garbage.py``) and under
the one before (state frozen, default thresholds).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from bench_park import priced_from_2024, synthetic_park

from collectors.routing import MessageRouter
from parktwin.config import CollectorSettings
from parktwin.contract import topics
from parktwin.contract.payload import encode
from parktwin.contract.reading import Reading
from parktwin.park.bundled import demo_park_path
from parktwin.park.loader import load_park
from parktwin.park.model import Park
from parktwin.validation import Limits
from twin.service.garbage import service_collection
from twin.service.kpi_lines import KpiLines
from twin.service.native_readings import NativeReadings
from twin.service.tick_outputs import TickOutputs
from twin.state.summary import kpi_summary
from twin.state.twin import Twin

T0_MS = 1_709_568_000_000  # 2024-03-05 00:00 Asia/Shanghai
TICK_MS = 60_000
PARKS = ("plain", "tariff")


def round_of_readings(
    park: Park, tick: int, rng: np.random.Generator, parts: int = 1
) -> list[Reading]:
    """One reading per device at the tick's time; counters grow, people counters wander.

    With ``parts`` > 1, ticks are ``TICK_MS / parts`` apart and each reads every ``parts``-th
    device in turn: every device still reads once a minute, spread over the minute's ticks.
    """
    ts = T0_MS + tick * TICK_MS // parts
    devices = park.devices[tick % parts :: parts]
    steps = rng.uniform(0, 2, len(devices)).tolist()
    readings = []
    for device, step in zip(devices, steps, strict=True):
        value = tick * 10.0 + step
        if device.kind == "grid_main_meter":
            values = {"energy_import_kwh": value, "energy_export_kwh": 0.0, "power_kw": step}
        elif device.kind == "occupancy_counter":
            values = {"occupancy_persons": float(int(step * 20))}
        elif device.kind == "gas_meter":
            values = {"gas_m3": value}
        else:
            values = {"energy_kwh": value, "power_kw": step}
        readings.append(Reading(device.id, ts, values))
    return readings


def baseline(readings: list[Reading], last: dict[str, float], building_of: dict[str, str]) -> None:
    """The plain loop: counter steps per device, summed per building in a dict."""
    totals: dict[str, float] = {}
    for reading in readings:
        value = reading.values.get("energy_kwh")
        if value is None:
            continue
        previous = last.get(reading.device_id)
        last[reading.device_id] = value
        if previous is not None:
            step = value - previous if value >= previous else value
            building = building_of.get(reading.device_id, "")
            totals[building] = totals.get(building, 0.0) + step


def bench_park(devices: int, kind: str) -> Park:
    """The synthetic park, with the demo park's example tariff for ``kind`` "tariff" (valid
    from 2024, the ticks' year, so that every reading is priced: ``priced_from_2024``)."""
    park = synthetic_park(devices)
    if kind == "tariff":
        tariffs = priced_from_2024(load_park(demo_park_path()).tariffs)
        park = park.model_copy(update={"tariffs": tariffs})
    return park


def json_form_tick(park: Park, ticks: int, parts: int = 1) -> list[float]:
    """CPU seconds of each tick as the service ran it before issue #20, on a twin of its own:
    ingest, snapshot, its JSON form, ``kpi_summary`` of it and every KPI point from it."""
    twin, rng, lines = Twin(park), np.random.default_rng(1), KpiLines(park)
    twin.ingest(round_of_readings(park, 0, rng))
    gc.collect()
    gc.freeze()
    times = []
    try:
        for tick in range(1, ticks + 1):
            readings = round_of_readings(park, tick, rng, parts)
            t = time.process_time()
            twin.ingest(readings)
            snapshot = twin.snapshot()
            state = snapshot.to_dict()
            state["kpis"] = kpi_summary(park, state)
            lines(snapshot, state)
            times.append(time.process_time() - t)
    finally:
        gc.unfreeze()
    return times


class CollectionWatch:
    """The garbage collector's runs by generation and their CPU seconds, over the whole loop
    (readings made, as the intake's decoding makes them, and the tick) and inside the tick."""

    def __init__(self) -> None:
        self.runs = [0, 0, 0]
        self.cpu_s = [0.0, 0.0, 0.0]
        self.in_tick_s = 0.0
        self.in_tick = False
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.process_time()
            return
        spent = time.process_time() - self._started
        self.runs[info["generation"]] += 1
        self.cpu_s[info["generation"]] += spent
        if self.in_tick:
            self.in_tick_s += spent


@contextlib.contextmanager
def frozen_only() -> Iterator[None]:
    """The service's garbage collection before issue #20's second pass: state frozen after
    start-up, CPython's default thresholds."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


COLLECTIONS = {"service": service_collection, "frozen only": frozen_only}


def rss_mb() -> float:
    """This process's resident memory now, in MB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def measure(
    devices: int,
    ticks: int,
    kind: str = "plain",
    json_form: bool = True,
    parts: int = 1,
    collection: str = "service",
) -> dict[str, Any]:
    """Median CPU seconds per tick of each part, for one park size and kind (``parts``: as
    ``round_of_readings`` takes it; ``collection``: a key of ``COLLECTIONS``)."""
    park = bench_park(devices, kind)
    started = time.perf_counter()
    twin = Twin(park)
    build_s = time.perf_counter() - started
    rng = np.random.default_rng(1)
    readings = round_of_readings(park, 0, rng)
    twin.ingest(readings)  # first values: no deltas yet
    building_of = {d.id: d.building or "" for d in park.devices}
    last: dict[str, float] = {}
    baseline(readings, last, building_of)
    del readings
    outputs = TickOutputs(park)  # the service keeps one from tick to tick
    clock = time.process_time
    tick_s, out_s, base_s, loop_s, written, rss = [], [], [], [], [], []
    watch = CollectionWatch()
    # As the service does once started (twin/service/garbage.py), or as it did before.
    with COLLECTIONS[collection]():
        gc.callbacks.append(watch)
        try:
            for tick in range(1, ticks + 1):
                # Made tick by tick, as the service's readings arrive: only one round is alive.
                looped = clock()
                readings = round_of_readings(park, tick, rng, parts)
                watch.in_tick = True
                t = clock()
                twin.ingest(readings)
                snapshot = twin.snapshot()
                tick_s.append(clock() - t)
                t = clock()
                output = outputs(snapshot, {})
                out_s.append(clock() - t)
                watch.in_tick = False
                loop_s.append(clock() - looped)
                written.append(len(output.lines))
                t = clock()
                baseline(readings, last, building_of)
                base_s.append(clock() - t)
                del readings  # the service's readings go once ingested
                rss.append(rss_mb())
        finally:
            gc.callbacks.remove(watch)
    service_s = [a + b for a, b in zip(tick_s, out_s, strict=True)]
    del twin, outputs, output, snapshot
    before = json_form_tick(park, ticks, parts) if json_form else [math.nan]
    return {
        "park": kind if parts == 1 else f"{kind}, 1/{parts} a tick",
        "devices": devices,
        "collection": collection,
        "build_s": build_s,
        "tick_s": statistics.median(tick_s),
        "outputs_s": statistics.median(out_s),
        "service_s": statistics.median(service_s),
        "loop_s": statistics.median(loop_s),
        "json_form_s": statistics.median(before),
        "baseline_s": statistics.median(base_s),
        "points": statistics.median(written),
        "gc_runs": [runs / ticks for runs in watch.runs],
        "gc_s": sum(watch.cpu_s) / ticks,
        "gc_full_s": watch.cpu_s[2] / ticks,
        "gc_in_tick_s": watch.in_tick_s / ticks,
        "rss_mb": (rss[0], rss[-1]),
    }


def decoding(devices: int, ticks: int, kind: str = "plain") -> dict[str, Any]:
    """Median CPU seconds a tick of the messages' decoding into checked readings (the service's
    ``_handle`` before ``Twin.ingest``): the decoder's general path alone, and the service's
    way (``NativeReadings`` first, the decoder for what it leaves), in alternate order, which
    must give the same readings; then ingest + snapshot and the outputs of them."""
    park = bench_park(devices, kind)
    twin, outputs, rng = Twin(park), TickOutputs(park), np.random.default_rng(1)
    limits = Limits.from_settings(CollectorSettings())
    router, native = MessageRouter(park, limits), NativeReadings(park, limits)
    clock = time.process_time
    general_s, service_s, tick_s, out_s = [], [], [], []

    def general_way(messages: list[tuple[str, bytes]], arrival_ms: int) -> list[Reading]:
        readings: list[Reading] = []
        for topic, payload in messages:
            readings.extend(router.readings(topic, payload, arrival_ms, []))
        return readings

    def service_way(messages: list[tuple[str, bytes]], arrival_ms: int) -> list[Reading]:
        readings: list[Reading] = []
        for topic, payload in messages:
            if (reading := native.reading(topic, payload, arrival_ms)) is not None:
                readings.append(reading)
            else:
                readings.extend(router.readings(topic, payload, arrival_ms, []))
        return readings

    with service_collection():
        for tick in range(ticks + 1):
            messages = [
                (topics.telemetry(park.park.id, r.device_id), encode(r))
                for r in round_of_readings(park, tick, rng)
            ]
            arrival_ms = T0_MS + tick * TICK_MS
            made: dict[str, list[Reading]] = {}
            spent: dict[str, float] = {}
            ways = {"general": general_way, "service": service_way}
            for name in list(ways) if tick % 2 else list(ways)[::-1]:
                t = clock()
                made[name] = ways[name](messages, arrival_ms)
                spent[name] = clock() - t
            readings = made["service"]
            assert readings == made["general"] and len(readings) == len(messages)
            del made
            t = clock()
            twin.ingest(readings)
            snapshot = twin.snapshot()
            ingested = clock() - t
            t = clock()
            outputs(snapshot, {})
            if tick:  # tick 0 gives each counter its first value: no deltas yet
                general_s.append(spent["general"])
                service_s.append(spent["service"])
                tick_s.append(ingested)
                out_s.append(clock() - t)
            del messages, readings
    return {
        "park": kind,
        "devices": devices,
        "general_s": statistics.median(general_s),
        "decode_s": statistics.median(service_s),
        "tick_s": statistics.median(tick_s),
        "outputs_s": statistics.median(out_s),
    }


def decoding_table(results: list[dict[str, Any]]) -> str:
    """The ``--decoding`` figures as a Markdown table (milliseconds of CPU, medians)."""
    lines = [
        "| park | devices | decoder alone | with the shortcut | decoder / shortcut | per message"
        " (decoder, shortcut) | ingest + snapshot (reference) | outputs | shortcut / reference |",
        "| --- |" + " ---: |" * 8,
    ]
    for r in results:
        lines.append(
            f"| {r['park']} | {r['devices']:,} | {r['general_s'] * 1000:,.1f} ms"
            f" | {r['decode_s'] * 1000:,.1f} ms | {r['general_s'] / r['decode_s']:.2f}x"
            f" | {r['general_s'] / r['devices'] * 1e6:.2f} / "
            f"{r['decode_s'] / r['devices'] * 1e6:.2f} µs | {r['tick_s'] * 1000:,.1f} ms"
            f" | {r['outputs_s'] * 1000:,.1f} ms | {r['decode_s'] / r['tick_s']:.2f}x |"
        )
    return "\n".join(lines)


def collection_rounds(devices: int, ticks: int, kind: str, rounds: int) -> list[dict[str, Any]]:
    """``measure`` with each garbage collection setting in turn, ``rounds`` times (alternated,
    so that both see the same load)."""
    return [
        measure(devices, ticks, kind, json_form=False, collection=collection)
        for _ in range(rounds)
        for collection in COLLECTIONS
    ]


def collection_table(results: list[dict[str, Any]]) -> str:
    """The garbage collector's share per tick under each setting (CPU ms, per tick)."""
    lines = [
        "| park | devices | collection | runs a tick (young, middle, full)"
        " | GC a tick, whole loop | of it full | GC in the service tick | service tick"
        " | whole loop | RSS first → last tick |",
        "| --- | ---: | --- | --- |" + " ---: |" * 6,
    ]
    for r in results:
        runs = ", ".join(f"{x:.1f}" for x in r["gc_runs"])
        lines.append(
            f"| {r['park']} | {r['devices']:,} | {r['collection']} | {runs}"
            f" | {r['gc_s'] * 1000:.1f} ms | {r['gc_full_s'] * 1000:.1f} ms"
            f" | {r['gc_in_tick_s'] * 1000:.1f} ms | {r['service_s'] * 1000:.1f} ms"
            f" | {r['loop_s'] * 1000:.1f} ms | {r['rss_mb'][0]:.0f} → {r['rss_mb'][1]:.0f} MB |"
        )
    return "\n".join(lines)


def linearity(results: list[dict[str, Any]]) -> None:
    """Add each row's service tick per device against its park's 1,000 and 10,000 devices."""
    for r in results:
        r["per_device_us"] = r["service_s"] / r["devices"] * 1e6
    for r in results:
        for size in (1_000, 10_000):
            same = [x for x in results if x["park"] == r["park"] and x["devices"] == size]
            r[f"vs_{size}"] = r["per_device_us"] / same[0]["per_device_us"] if same else math.nan


def table(results: list[dict[str, Any]]) -> str:
    """The figures as a Markdown table (milliseconds of CPU, medians)."""
    lines = [
        "| park | devices | ingest + snapshot (reference) | outputs | **service tick** |"
        " service / reference | per device | vs 1,000 | vs 10,000 | service tick before (JSON form)"
        " | before / now | KPI points | baseline loop |",
        "| --- |" + " ---: |" * 12,
    ]
    for r in results:
        lines.append(
            f"| {r['park']} | {r['devices']:,} | {r['tick_s'] * 1000:,.1f} ms"
            f" | {r['outputs_s'] * 1000:,.1f} ms | **{r['service_s'] * 1000:,.1f} ms**"
            f" | {r['service_s'] / r['tick_s']:.2f}x | {r['per_device_us']:.2f} µs"
            f" | {r['vs_1000']:.2f}x | {r['vs_10000']:.2f}x | {r['json_form_s'] * 1000:,.1f} ms"
            f" | {r['json_form_s'] / r['service_s']:.2f}x | {r['points']:,.0f}"
            f" | {r['baseline_s'] * 1000:,.1f} ms |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--ticks", type=int, default=5)
    parser.add_argument("--parks", nargs="+", choices=PARKS, default=list(PARKS))
    parser.add_argument(
        "--parts",
        type=int,
        default=1,
        help="ticks a minute, each reading 1/parts of the devices (12: the service's 5 s tick)",
    )
    parser.add_argument(
        "--no-json-form", action="store_true", help="leave out the service tick of before"
    )
    parser.add_argument(
        "--gc",
        type=int,
        metavar="ROUNDS",
        default=0,
        help="instead: the garbage collector's share under the service's setting and the one"
        " before, in ROUNDS alternate rounds",
    )
    parser.add_argument(
        "--decoding",
        action="store_true",
        help="instead: the messages' decoding into readings beside ingest + snapshot",
    )
    args = parser.parse_args()
    print(
        f"{platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}, "
        f"load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    if args.decoding:
        decoded = []
        for kind in args.parks:
            for size in args.sizes:
                decoded.append(decoding(size, args.ticks, kind))
                print(f"{kind:6} {size:>7} devices, load {os.getloadavg()[0]:.1f}", flush=True)
        print(decoding_table(decoded))
        return
    if args.gc:
        rounds = []
        for kind in args.parks:
            for size in args.sizes:
                for r in collection_rounds(size, args.ticks, kind, args.gc):
                    rounds.append(r)
                    print(
                        f"{kind:6} {size:>7} devices, {r['collection']}: GC "
                        f"{r['gc_s'] * 1000:.1f} ms a tick, whole loop {r['loop_s'] * 1000:.1f}"
                        f" ms, load {os.getloadavg()[0]:.1f}",
                        flush=True,
                    )
        print(collection_table(rounds))
        return
    results = []
    for kind in args.parks:
        for size in args.sizes:
            r = measure(size, args.ticks, kind, not args.no_json_form, args.parts)
            results.append(r)
            print(
                f"{kind:6} {size:>7} devices: build {r['build_s']:.2f} s, ingest + snapshot "
                f"{r['tick_s'] * 1000:.1f} ms, outputs {r['outputs_s'] * 1000:.1f} ms, service "
                f"tick {r['service_s'] * 1000:.1f} ms, before (JSON form) "
                f"{r['json_form_s'] * 1000:.1f} ms, baseline {r['baseline_s'] * 1000:.1f} ms, "
                f"GC {r['gc_s'] * 1000:.1f} ms a tick ({r['gc_in_tick_s'] * 1000:.1f} in it), "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    linearity(results)
    print(table(results))


if __name__ == "__main__":
    main()
