"""What pricing costs the twin: the same whole service tick (ingest, snapshot and the service's
outputs, ``twin/service/tick_outputs.py``) of the same synthetic park without and with the demo
park's example tariff, in the same run, in alternate rounds.

The ticks fall on 2024-03-05, before the example tariff's first version (2026-01-01):
``twin_tick.bench_park`` moves it back (``bench_park.priced_from_2024``), so that every reading
is priced, as in a real park, rather than only counted as unpriced.

    .venv/bin/python bench/cost_tick.py --devices 1000 10000 --ticks 20

Prints each size's median tick (CPU time) without and with tariffs and their ratio; the
figures are in docs/performance.md. ``bench/twin_tick.py`` shows each part of the tick.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from twin_tick import bench_park, round_of_readings

from parktwin.park.model import Park
from twin.service.tick_outputs import TickOutputs
from twin.state.twin import Twin


class Ticking:
    """One park's twin and outputs, ticked one round of readings at a time."""

    def __init__(self, park: Park) -> None:
        self.park, self.twin, self.outputs = park, Twin(park), TickOutputs(park)
        self.rng = np.random.default_rng(1)
        self.tick = 0
        self.twin.ingest(round_of_readings(park, 0, self.rng))

    def __call__(self) -> float:
        """CPU seconds of one whole service tick."""
        self.tick += 1
        readings = round_of_readings(self.park, self.tick, self.rng)
        started = time.process_time()
        self.twin.ingest(readings)
        self.outputs(self.twin.snapshot(), {})
        return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--ticks", type=int, default=20)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}")
    print("devices  plain ms  priced ms  priced / plain")
    for devices in args.devices:
        plain = Ticking(bench_park(devices, "plain"))
        priced = Ticking(bench_park(devices, "tariff"))
        a, b = [], []
        for _ in range(args.ticks):  # alternate rounds: both see the same load
            a.append(plain())
            b.append(priced())
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"{devices:7d}  {ma * 1000:8.1f}  {mb * 1000:9.1f}  {mb / ma:14.2f}")


if __name__ == "__main__":
    main()
