"""What pricing costs the twin: the same service tick (ingest, snapshot, JSON form, KPI points)
of the same synthetic park without and with the demo park's example tariff, in the same run.

    .venv/bin/python bench/cost_tick.py --devices 1000 10000 --ticks 20

Prints each size's median tick without and with tariffs and their ratio; the figures are in
docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from bench_park import synthetic_park
from twin_tick import round_of_readings

from parktwin.park.bundled import demo_park_path
from parktwin.park.loader import load_park
from parktwin.park.model import Park
from twin.service.kpi_lines import KpiLines
from twin.state.summary import kpi_summary
from twin.state.twin import Twin


def service_tick_s(park: Park, ticks: int) -> float:
    """Median seconds of ingest + snapshot + to_dict + KPI points over ``ticks`` rounds."""
    twin, rng, points = Twin(park), np.random.default_rng(1), KpiLines(park)
    twin.ingest(round_of_readings(park, 0, rng))
    times = []
    for tick in range(1, ticks + 1):
        readings = round_of_readings(park, tick, rng)
        started = time.perf_counter()
        twin.ingest(readings)
        snapshot = twin.snapshot()
        state = snapshot.to_dict()
        state["kpis"] = kpi_summary(park, state)
        points(snapshot, state)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--ticks", type=int, default=20)
    args = parser.parse_args()
    tariffs = load_park(demo_park_path()).tariffs
    print("devices  plain ms  priced ms  priced / plain")
    for devices in args.devices:
        plain = synthetic_park(devices)
        priced = plain.model_copy(update={"tariffs": tariffs})
        a = service_tick_s(plain, args.ticks)
        b = service_tick_s(priced, args.ticks)
        print(f"{devices:7d}  {a * 1000:8.1f}  {b * 1000:9.1f}  {b / a:14.2f}")


if __name__ == "__main__":
    main()
