"""History for a simulated park: the simulator's readings of past dates, stored at full speed.

No broker is involved: the simulator's generator runs as fast as it can and its readings go
through the collectors' history path (same checks, tags and lines as live readings) straight
into InfluxDB. The same seed and start give the same readings, hence the same points: running a
backfill twice stores nothing twice. While InfluxDB stores one batch, the next is generated in a
worker thread, so the database and the simulator work at the same time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from collectors.history import HistoryWriter
from parktwin.park.model import Park
from programs.demo import DEFAULT_RESOLUTION_S
from simulators.park import ModelOptions, ParkSimulator, default_step_s

BATCH_LINES = 10_000  # InfluxDB's advice: batches of 5,000 to 10,000 points


@dataclass(frozen=True)
class BackfillReport:
    """What a backfill stored."""

    start_ms: int
    end_ms: int
    readings_stored: int
    wall_s: float


def chunk_ms(park: Park, min_interval_s: float = 0.0, lines: int = BATCH_LINES) -> int:
    """Simulated time that holds about ``lines`` readings of the whole park (a minute at least)."""
    per_ms = sum(1.0 / (max(d.interval_s, min_interval_s) * 1000.0) for d in park.devices)
    return max(60_000, int(lines / per_ms)) if per_ms > 0 else 86_400_000


def _next_lines(simulator: ParkSimulator, history: HistoryWriter, until_ms: int) -> list[str]:
    readings = list(simulator.advance(until_ms))
    for reading in readings:
        history.check(reading)
    return history.lines(readings)


async def backfill(
    simulator: ParkSimulator,
    history: HistoryWriter,
    end_ms: int,
    on_progress: Callable[[int], None] | None = None,
    stop: asyncio.Event | None = None,
) -> BackfillReport:
    """Advance ``simulator`` to ``end_ms``, storing every reading; the simulator then stands at
    ``end_ms`` (its state continues a live run seamlessly). A set ``stop`` ends it early, with
    what was generated stored; ``BackfillReport.end_ms`` says how far it came."""
    started, start_ms = time.monotonic(), simulator.now_ms
    step = chunk_ms(simulator.park, simulator.options.min_interval_s)
    before = history.counts.readings_stored
    while simulator.now_ms < end_ms and not (stop is not None and stop.is_set()):
        until = min(simulator.now_ms + step, end_ms)
        lines = await asyncio.to_thread(_next_lines, simulator, history, until)
        if lines:
            await history.write(lines)
        if on_progress is not None:
            on_progress(until)
    await history.wait()
    return BackfillReport(
        start_ms,
        simulator.now_ms,
        history.counts.readings_stored - before,
        time.monotonic() - started,
    )


def history_simulator(
    park: Park, start_ms: int, seed: int = 1, resolution_s: float = DEFAULT_RESOLUTION_S
) -> ParkSimulator:
    """The park's simulator from ``start_ms``, its devices reporting every ``resolution_s`` at
    least (0: at their own intervals) and its physics stepping as far."""
    if resolution_s <= 0:
        return ParkSimulator(park, seed, start_ms)
    options = ModelOptions(step_s=resolution_s, min_interval_s=resolution_s)
    return ParkSimulator(park, seed, start_ms, options)


def live_state(simulator: ParkSimulator) -> dict[str, Any]:
    """The state from which a live run (the park's own intervals and step) continues where the
    history ends: the same counters, weather and sequence numbers, the physics restarting its
    steps at the history's end, which must lie on the history's step grid (midnight does, for a
    resolution dividing a day): the counters are integrated exactly up to it."""
    simulator.integrate_until(simulator.now_ms)
    if simulator.step_start_ms != simulator.now_ms:
        raise ValueError(
            f"history ends at {simulator.now_ms}, off its {simulator.step_ms} ms step grid"
        )
    state = simulator.state()
    state["origin_ms"] = simulator.now_ms
    state["step_index"] = 0
    state["step_ms"] = round(default_step_s(simulator.park) * 1000)
    return state
