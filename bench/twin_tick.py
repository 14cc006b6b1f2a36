"""Cost of a twin tick (one reading per device, then a snapshot) as the park grows.

A synthetic park of N devices (sub-meters, people counters, gas meters, PV inverters, one grid
meter; 20 devices a building, 5 buildings an enterprise, 10 zones) receives one round of
readings per tick. Each tick is timed as ``Twin.ingest`` + ``Twin.snapshot`` and, apart, the
rest of what the twin service does with every snapshot (``twin/service/service.py``, ``_tick``):
``TwinSnapshot.to_dict`` (the snapshot keeps its per-device columns as arrays and makes the
lists there), then the KPI summary and the KPI line-protocol points. The service tick is the
sum of the three: the CPU time a tick costs the service, less its I/O. The baseline, measured
in the same run on the same readings, is a plain Python loop doing the least a twin must: per
device the step from the last counter value, added up per building in a dict. Linearity is
the ratio to the 1,000-device figure.

    .venv/bin/python bench/twin_tick.py [--sizes 1000 10000 100000] [--ticks 5]
        [--write docs/performance.md]
"""

from __future__ import annotations

import argparse
import gc
import platform
import re
import statistics
import textwrap
import time
from pathlib import Path

import numpy as np
from bench_park import synthetic_park

from parktwin.contract.reading import Reading
from parktwin.park.model import Park
from twin.service.kpi_lines import KpiLines
from twin.state.summary import kpi_summary
from twin.state.twin import Twin

T0_MS = 1_709_568_000_000  # 2024-03-05 00:00 Asia/Shanghai
TICK_MS = 60_000


def round_of_readings(park: Park, tick: int, rng: np.random.Generator) -> list[Reading]:
    """One reading per device at the tick's time; counters grow, people counters wander."""
    ts = T0_MS + tick * TICK_MS
    steps = rng.uniform(0, 2, len(park.devices)).tolist()
    readings = []
    for device, step in zip(park.devices, steps, strict=True):
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


def measure(devices: int, ticks: int) -> dict[str, float]:
    """Median seconds per tick of the twin and of the baseline, for one park size."""
    park = synthetic_park(devices)
    started = time.perf_counter()
    twin = Twin(park)
    build_s = time.perf_counter() - started
    rng = np.random.default_rng(1)
    readings = round_of_readings(park, 0, rng)
    twin.ingest(readings)  # first values: no deltas yet
    building_of = {d.id: d.building or "" for d in park.devices}
    last: dict[str, float] = {}
    baseline(readings, last, building_of)
    # As the service does once started (twin/service/service.py): what lives as long as the twin is
    # kept out of the garbage collector's generations.
    gc.collect()
    gc.freeze()
    full_gc: list[float] = []
    gc_started = [0.0]

    def watch(phase: str, info: dict[str, int]) -> None:
        if info["generation"] == 2:
            if phase == "start":
                gc_started[0] = time.perf_counter()
            else:
                full_gc.append(time.perf_counter() - gc_started[0])

    points = KpiLines(park)  # the service keeps one from tick to tick
    tick_s, dict_s, kpi_s, base_s = [], [], [], []
    gc.callbacks.append(watch)
    try:
        for tick in range(1, ticks + 1):
            # Made tick by tick, as the service's readings arrive: only one round is alive.
            readings = round_of_readings(park, tick, rng)
            t = time.perf_counter()
            twin.ingest(readings)
            snap = twin.snapshot()
            tick_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            state = snap.to_dict()
            dict_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            # What TwinService._tick does with the snapshot, but for publishing and writing.
            state["kpis"] = kpi_summary(park, state)
            points(snap, state)
            kpi_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            baseline(readings, last, building_of)
            base_s.append(time.perf_counter() - t)
    finally:
        gc.callbacks.remove(watch)
        gc.unfreeze()
    service_s = [a + b + c for a, b, c in zip(tick_s, dict_s, kpi_s, strict=True)]
    return {
        "devices": devices,
        "build_s": build_s,
        "tick_s": statistics.median(tick_s),
        "to_dict_s": statistics.median(dict_s),
        "kpis_s": statistics.median(kpi_s),
        "service_s": statistics.median(service_s),
        "baseline_s": statistics.median(base_s),
        "full_gcs": len(full_gc),
        "full_gc_s": statistics.median(full_gc) if full_gc else 0.0,
    }


def table(results: list[dict[str, float]]) -> str:
    """The figures as a Markdown table."""
    first = results[0]
    lines = [
        "| devices | tick (ingest + snapshot) | per device | vs 1,000 devices, per device |"
        " `to_dict` | KPI summary + lines | service tick | baseline loop | tick / baseline |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        per_device = r["tick_s"] / r["devices"]
        linear = per_device / (first["tick_s"] / first["devices"])
        lines.append(
            f"| {int(r['devices']):,} | {r['tick_s'] * 1000:,.1f} ms | {per_device * 1e6:.1f} µs"
            f" | {linear:.2f}x | {r['to_dict_s'] * 1000:,.1f} ms | {r['kpis_s'] * 1000:,.1f} ms"
            f" | {r['service_s'] * 1000:,.1f} ms | {r['baseline_s'] * 1000:,.1f} ms"
            f" | {r['tick_s'] / r['baseline_s']:.1f}x |"
        )
    return "\n".join(lines)


def write_section(path: Path, body: str) -> None:
    """Replace (or append) the ``## Twin tick`` section of the performance notes."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    section = f"## Twin tick\n\n{body.strip()}\n"
    pattern = re.compile(r"^## Twin tick\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--ticks", type=int, default=5)
    parser.add_argument("--write", type=Path, help="update this file's '## Twin tick' section")
    args = parser.parse_args()
    results = []
    for size in args.sizes:
        result = measure(size, args.ticks)
        results.append(result)
        print(
            f"{size:>7} devices: build {result['build_s']:.2f} s, tick "
            f"{result['tick_s'] * 1000:.1f} ms, to_dict {result['to_dict_s'] * 1000:.1f} ms, "
            f"KPIs {result['kpis_s'] * 1000:.1f} ms, service tick "
            f"{result['service_s'] * 1000:.1f} ms, baseline {result['baseline_s'] * 1000:.1f} ms, "
            f"{result['full_gcs']} full GCs of {result['full_gc_s'] * 1000:.1f} ms",
            flush=True,
        )
    print(table(results))
    if args.write:
        machine = (
            f"{platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}"
        )
        intro = (
            "`.venv/bin/python bench/twin_tick.py --write docs/performance.md` feeds a synthetic "
            "park (20 devices a building: sub-meters, some below a parent meter, people counters, "
            "gas meters, PV inverters) one reading per device a minute and times, as the median of "
            f"{args.ticks} ticks, `Twin.ingest` + `Twin.snapshot` (all KPIs of the current hour, "
            "day, month and year for every building, zone and enterprise), and apart what the twin "
            "service does with each snapshot: `to_dict` (where the per-device columns become "
            "lists), the KPI summary and the KPI line-protocol points; the service tick is the sum "
            "of the three, I/O left out. The baseline is a plain "
            "Python loop over the same readings that only steps each counter and sums per building "
            "in a dict: it computes a small fraction of the twin's figures and is there to show "
            "what the per-reading Python work alone costs. Linearity is the tick's time per "
            "device against the 1,000-device park's."
        )
        body = f"{textwrap.fill(intro, 100)}\n\n{table(results)}\n\nMeasured on {machine}."
        write_section(args.write, body)


if __name__ == "__main__":
    main()
