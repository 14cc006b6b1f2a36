"""What-if over a year of the demo park: how long one scenario takes, end to end.

Starts its own InfluxDB 1.x in a temporary folder, stores a synthetic year of the bundled demo
park's meters (every counter device, one reading each ``--interval-min`` minutes; the shapes are
simple daily curves, the volume is what matters), then times, in the same run:

- baseline: the history statements alone (the InfluxQL of the twin's rebuild, for the media
  what-if counts, month by
  month), answered and parsed: the floor any what-if over this year pays;
- what-if: ``whatif.run.compare`` with one example scenario, end to end (the same queries,
  counting, the changes, the KPIs of baseline and scenario).

Run: .venv/bin/python bench/whatif_year.py [--interval-min 30] [--scenario FILE] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import InfluxDB1

from collectors.tagging import series_keys
from parktwin.config import InfluxSettings
from parktwin.contract.quantities import DeviceKind
from parktwin.influx.influxql import query
from parktwin.park.bundled import demo_park_path
from parktwin.park.loader import load_park
from parktwin.park.model import Park
from parktwin.periods import Calendar, Granularity
from whatif.examples import example_paths
from whatif.history import counted_statements
from whatif.loader import load_scenario, parse_scenario
from whatif.run import compare

YEAR_FROM = "2026-01-01T00:00"  # the demo park's example tariff is valid from 2026
YEAR_TO = "2027-01-01T00:00"

# A counter per device kind and its mean rate per hour (simple, assumed: the volume matters).
COUNTERS: dict[DeviceKind, list[tuple[str, float]]] = {
    DeviceKind.GRID_MAIN_METER: [("energy_import_kwh", 4000.0), ("energy_export_kwh", 0.0)],
    DeviceKind.SUB_METER: [("energy_kwh", 150.0)],
    DeviceKind.PV_INVERTER: [("energy_kwh", 0.0)],  # from capacity and the hour
    DeviceKind.BATTERY: [("energy_charge_kwh", 60.0), ("energy_discharge_kwh", 54.0)],
    DeviceKind.EV_CHARGER: [("energy_kwh", 5.0)],
    DeviceKind.GAS_METER: [("gas_m3", 40.0)],
    DeviceKind.HEAT_METER: [("heat_gj", 0.5)],
    DeviceKind.WATER_METER: [("water_m3", 8.0)],
    DeviceKind.FUEL_METER: [("diesel_kg", 1.0)],
    DeviceKind.STACK_MONITOR: [("co2_kg", 80.0)],
}


def year_lines(park: Park, interval_min: int) -> tuple[list[str], int]:
    """Line protocol of a year of every counter device, and the number of readings."""
    tz = ZoneInfo(park.park.timezone)
    start = int(datetime.fromisoformat(YEAR_FROM).replace(tzinfo=tz).timestamp() * 1000)
    end = int(datetime.fromisoformat(YEAR_TO).replace(tzinfo=tz).timestamp() * 1000)
    ts = np.arange(start, end + 1, interval_min * 60_000, dtype=np.int64)
    hour = ((ts // 3_600_000) + 8) % 24 + (ts % 3_600_000) / 3_600_000  # Shanghai, UTC+8
    day = np.clip(np.sin((hour - 6) / 12 * math.pi), 0, None)
    load_shape = 0.6 + 0.4 * day
    step_h = interval_min / 60
    keys = series_keys(park)
    lines: list[str] = []
    readings = 0
    for device in park.devices:
        counters = COUNTERS.get(device.kind)
        if not counters:
            continue
        fields = []
        for name, rate in counters:
            if device.kind is DeviceKind.PV_INVERTER:
                per_step = (device.capacity_kwp or 100) * 0.8 * day * step_h
            else:
                per_step = rate * load_shape * step_h
            values = 1000.0 + np.concatenate(([0.0], np.cumsum(per_step[1:])))
            fields.append((name, values))
        key = keys[device.id]
        for i in range(len(ts)):
            body = ",".join(f"{name}={values[i]:.3f}" for name, values in fields)
            lines.append(f"{key} {body} {ts[i]}")
        readings += len(ts)
    return lines, readings


def write(url: str, database: str, lines: list[str], chunk: int = 50_000) -> None:
    for i in range(0, len(lines), chunk):
        body = "\n".join(lines[i : i + chunk]).encode()
        request = urllib.request.Request(
            f"{url}/write?db={database}&precision=ms", data=body, method="POST"
        )
        with urllib.request.urlopen(request, timeout=300) as response:
            response.read()


async def queries_only(settings: InfluxSettings, park: Park, start: int, end: int) -> int:
    """The history statements of the year, month by month, answered and parsed: rows."""
    calendar = Calendar(park.timezone)
    months = calendar.boundaries(Granularity.MONTH, start, end)
    rows = 0
    async with aiohttp.ClientSession() as session:
        for since, until in zip(months[:-1].tolist(), months[1:].tolist(), strict=True):
            for statement in counted_statements(park, since, until, 3600):
                rows += sum(len(s.values) for s in await query(session, settings, statement))
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval-min", type=int, default=30)
    parser.add_argument("--scenario", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    park = load_park(demo_park_path())
    scenario_path = args.scenario or example_paths()[0]
    load_scenario(scenario_path, park)  # valid as it ships, before the year is stored
    with tempfile.TemporaryDirectory() as folder:
        server = InfluxDB1.create(Path(folder))
        server.start()
        try:
            server.create_database("bench")
            settings = InfluxSettings(url=server.url, database="bench", timeout_s=600)
            began = time.perf_counter()
            lines, readings = year_lines(park, args.interval_min)
            write(server.url, "bench", lines)
            print(
                f"stored a year of {len(park.devices)} devices' park: {readings:,} readings "
                f"every {args.interval_min} min in {time.perf_counter() - began:.0f} s"
            )
            calendar = Calendar(park.timezone)
            start = calendar.parse_label(Granularity.MONTH, "2026-01")
            end = calendar.parse_label(Granularity.MONTH, "2027-01")
            text = scenario_path.read_text() + "\nperiod: {from: 2026-01, to: 2026-12}\n"
            scenario = parse_scenario(text, str(scenario_path), park)
            # Alternating rounds: on a shared machine the load moves between two timings.
            baselines, runs = [], []
            for _ in range(args.rounds):
                began = time.perf_counter()
                rows = await queries_only(settings, park, start, end)
                baselines.append(time.perf_counter() - began)
                began = time.perf_counter()
                result = await compare(settings, park, [scenario])
                runs.append(time.perf_counter() - began)
                print(
                    f"round {len(runs)}: baseline {baselines[-1]:.1f} s, what-if {runs[-1]:.1f} s "
                    f"(x{runs[-1] / baselines[-1]:.2f}), load average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        finally:
            server.stop()
    print(f"scenario: {scenario.scenario.name} ({scenario_path.name})")
    baseline, whatif = min(baselines), min(runs)
    best = f"best of {args.rounds}"
    print(f"baseline, history statements only: {baseline:6.1f} s {best} ({rows:,} rows)")
    print(f"what-if, one scenario end to end:   {whatif:6.1f} s {best} (x{whatif / baseline:.2f})")
    print(
        f"window {result.months[0]}..{result.months[-1]}, {result.steps_read}/{result.steps} "
        f"steps measured; net CO2 {result.baseline.net_co2_t:,.0f} -> "
        f"{result.scenarios[0].kpis.net_co2_t:,.0f} t; cost "
        f"{result.baseline.cost_total_yuan or 0:,.0f} -> "
        f"{result.scenarios[0].kpis.cost_total_yuan or 0:,.0f} (example tariff)"
    )


if __name__ == "__main__":
    asyncio.run(main())
