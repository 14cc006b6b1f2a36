"""The twin's rebuild from InfluxDB with no checkpoint, over 90 days (or a year) of the demo park.

Starts its own InfluxDB 1.6 in a folder (temporary, or ``--keep DIR`` to store once and time
again later), stores the bundled demo park's readings as the collectors store them (the
simulator's backfill through the collectors' history path: same checks, tags and points) at
the demo's history resolution, 15 minutes, for the ``--days`` ending on 2027-01-01 local
midnight (all of them in one local year, so the twin's rebuild reads them all). Then, in
alternating rounds:

- **reference**: the InfluxQL statements the rebuild sends, one at a time, answered and parsed
  (JSON into series), and nothing else: what any rebuild reading these rows pays;
- **rebuild**: a fresh twin rebuilt as the service does it with no checkpoint
  (``twin.service.rebuild.rebuild``), to the point the twin is live.

Each timing comes with the CPU seconds of this process (its threads included) and of
``influxd``, and the load average: on a shared machine the CPU figures move less than the wall.

    .venv/bin/python bench/rebuild.py                  # 90 days
    .venv/bin/python bench/rebuild.py --days 365       # a year
    .venv/bin/python bench/rebuild.py --keep /tmp/rb90 # store once, reuse on the next run
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from procstat import cpu_seconds
from servers import InfluxDB1

from collectors.history import HistoryWriter
from parktwin.config import InfluxSettings, load_settings
from parktwin.influx.influxql import query
from parktwin.park.bundled import demo_park_path
from parktwin.park.loader import load_park
from parktwin.park.model import Park
from parktwin.periods import Granularity
from programs.demo import DEFAULT_RESOLUTION_S
from programs.demo.backfill import backfill, history_simulator
from twin.service.history import edge_event_ms
from twin.service.rebuild import (
    PLAIN,
    last_statements,
    local_days,
    rebuild,
    replay_fields,
    series_statements,
)
from twin.state.twin import Twin

DATABASE = "bench"
END = "2027-01-01T00:00"  # local time of the park; the stored days end here
TARGET_S = 60.0  # issue #20: 90 days of the demo park


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """The most memory this process has held so far (Linux counts ru_maxrss in kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def store(server: InfluxDB1, park: Park, days: int) -> int:
    """The demo park's ``days`` before END, backfilled as the collectors store history."""
    end_ms = round(datetime.fromisoformat(END).replace(tzinfo=park.timezone).timestamp() * 1000)
    start_ms = end_ms - days * 86_400_000
    settings = load_settings(None, influx__url=server.url, influx__database=DATABASE)
    history = HistoryWriter(park, settings, arrival_ms=end_ms)
    simulator = history_simulator(park, start_ms, 1, DEFAULT_RESOLUTION_S)
    try:
        report = await backfill(simulator, history, end_ms)
    finally:
        await history.aclose()
    return report.readings_stored


async def reference(settings: InfluxSettings, park: Park) -> int:
    """The rebuild's statements, one at a time, answered and parsed (JSON into series), and
    nothing else: how many rows."""
    twin = Twin(park)
    fields = replay_fields(twin)
    count = 0
    async with aiohttp.ClientSession(headers=PLAIN) as session:
        latest = await edge_event_ms(session, settings, park, True, 0)
        assert latest is not None
        since = twin.calendar.start_of(Granularity.YEAR, latest)
        first = await edge_event_ms(session, settings, park, False, since)
        assert first is not None
        statements = [
            s
            for a, b in local_days(twin, first, latest + 1)
            for s in series_statements(park, fields, a, b)
        ]
        statements += last_statements(park, fields, since, latest + 1)
        for statement in statements:
            count += sum(len(one.values) for one in await query(session, settings, statement))
    return count


async def measure(days: int, rounds: int, keep: Path | None = None) -> list[dict[str, Any]]:
    """Store ``days`` (unless ``keep`` holds them already), then alternate the reference and
    the rebuild for ``rounds``; one row a round, printed as it ends."""
    park = load_park(demo_park_path())
    with tempfile.TemporaryDirectory(prefix="parktwin-rebuild-") as scratch:
        folder = keep or Path(scratch)
        fresh = not (folder / "meta").exists()  # a kept folder's data is served again
        server = InfluxDB1.create(folder)
        server.start()
        try:
            if fresh:
                server.create_database(DATABASE)
                began = time.perf_counter()
                stored = await store(server, park, days)
                print(
                    f"stored {days} days of the demo park ({len(park.devices)} devices, "
                    f"every {DEFAULT_RESOLUTION_S / 60:g} min): {stored:,} readings in "
                    f"{time.perf_counter() - began:.0f} s",
                    flush=True,
                )
            settings = InfluxSettings(url=server.url, database=DATABASE, timeout_s=600)
            assert server.process is not None
            return await alternate(settings, park, days, rounds, server.process.pid)
        finally:
            server.stop()


async def alternate(
    settings: InfluxSettings, park: Park, days: int, rounds: int, influxd: int
) -> list[dict[str, Any]]:
    """Alternate the reference and the rebuild: wall and CPU seconds (here and in InfluxDB)."""
    rows = []
    for number in range(1, rounds + 1):
        load = os.getloadavg()[0]
        wall, cpu, db = time.perf_counter(), cpu_s(), cpu_seconds(influxd)
        count = await reference(settings, park)
        reference_s = (time.perf_counter() - wall, cpu_s() - cpu, cpu_seconds(influxd) - db)
        wall, cpu, db = time.perf_counter(), cpu_s(), cpu_seconds(influxd)
        twin = Twin(park)
        replayed = await rebuild(settings, twin)
        rebuild_s = (time.perf_counter() - wall, cpu_s() - cpu, cpu_seconds(influxd) - db)
        print(
            f"round {number} (load average {load:.1f} before, {os.getloadavg()[0]:.1f} after): "
            f"reference {_timing(reference_s)}, {count:,} rows; "
            f"rebuild {_timing(rebuild_s)}, {replayed:,} readings; "
            f"x{rebuild_s[0] / reference_s[0]:.2f}; peak RSS {peak_rss_mb():.0f} MB",
            flush=True,
        )
        rows.append(
            {
                "days": days,
                "round": number,
                "reference_s": reference_s[0],
                "rebuild_s": rebuild_s[0],
                "rebuild_vs_reference": rebuild_s[0] / reference_s[0],
                "rebuild_cpu_s": rebuild_s[1],
                "influxdb_cpu_s": rebuild_s[2],
                "readings": replayed,
                "load_average": load,
                "peak_rss_mb": peak_rss_mb(),
                "target_s": TARGET_S if days <= 90 else None,
            }
        )
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="InfluxDB folder to reuse")
    args = parser.parse_args()
    rows = await measure(args.days, args.rounds, args.keep)
    best = min(rows, key=lambda row: float(row["rebuild_s"]))
    reference_best = min(float(row["reference_s"]) for row in rows)
    print(
        f"best of {args.rounds}: rebuild {best['rebuild_s']:.1f} s, reference "
        f"{reference_best:.1f} s (x{float(best['rebuild_s']) / reference_best:.2f})"
        + (f"; target {TARGET_S:.0f} s" if args.days <= 90 else "")
    )


def _timing(figures: tuple[float, float, float]) -> str:
    wall, cpu, db = figures
    return f"{wall:.1f} s ({cpu:.1f} CPU s here, {db:.1f} in InfluxDB)"


if __name__ == "__main__":
    asyncio.run(main())
