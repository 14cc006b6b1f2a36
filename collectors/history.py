"""Store readings that did not come over MQTT (backfilled or imported history) like live ones.

Each reading passes the same park checks as a live message's (known device, quantities of its
kind, event-time window), is tagged with the same series key and rendered as the same line, so a
stored point is indistinguishable from one the collector wrote. InfluxDB keeps one point per
series key and timestamp, so storing the same history again replaces each point by itself:
a re-run stores nothing twice.

Writes are pipelined: while InfluxDB takes one batch, the caller prepares the next.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from collectors.tagging import render, series_keys
from parktwin.backoff import backoff_s
from parktwin.config import Settings
from parktwin.contract.reading import Reading
from parktwin.contract.values import check_value
from parktwin.influx.factory import make_writer
from parktwin.influx.writer import PointWriter, WriteError
from parktwin.park.model import Park
from parktwin.validation import Limits, check_reading

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # a retryable failure (timeout, 5xx) is tried again, then reported


@dataclass
class HistoryCounts:
    """What a history store took in."""

    readings_stored: int = 0
    batches_written: int = 0


class HistoryWriter:
    """Validates, tags and writes batches of history readings to the configured InfluxDB."""

    def __init__(
        self, park: Park, settings: Settings, arrival_ms: int, writer: PointWriter | None = None
    ) -> None:
        self.park = park
        self.counts = HistoryCounts()
        self._writer = writer or make_writer(settings.influx)
        self._limits = Limits.from_settings(settings.collector)
        self._keys = series_keys(park)
        self._arrival_ms = arrival_ms  # bounds future event times, as for a live message
        self._in_flight: asyncio.Task[None] | None = None
        self._rng = random.Random()
        self._retry_s = (settings.collector.retry_initial_s, settings.collector.retry_max_s)

    def check(self, reading: Reading) -> None:
        """PayloadError unless the reading meets the contract a live one must meet: each value
        as the payload decoder checks it, then the park's checks of a decoded reading."""
        for name, value in reading.values.items():
            check_value(name, value)  # known quantity, finite, in its range: as decoding does
        check_reading(self.park, self._limits, reading, self._arrival_ms)

    def lines(self, readings: Iterable[Reading]) -> list[str]:
        """Line-protocol lines of checked readings (``check`` them first)."""
        return render(self._keys, readings)

    async def write(self, lines: Sequence[str]) -> None:
        """Hand a batch to InfluxDB; returns once the previous batch is stored."""
        await self.wait()
        self._in_flight = asyncio.create_task(self._write(lines))

    async def wait(self) -> None:
        """Return once every batch handed over is stored; raises the writer's ``WriteError``."""
        task, self._in_flight = self._in_flight, None
        if task is not None:
            await task

    async def aclose(self) -> None:
        """Release the writer's connections (after ``wait``)."""
        await self._writer.aclose()

    async def _write(self, lines: Sequence[str]) -> None:
        if self.counts.batches_written == 0:
            await self._writer.ensure_target()
        for attempt in range(MAX_ATTEMPTS):
            try:
                await self._writer.write(lines)
                break
            except WriteError as exc:
                if not exc.retryable or attempt == MAX_ATTEMPTS - 1:
                    raise
                delay = backoff_s(attempt, *self._retry_s, self._rng)
                log.warning("history write failed, retrying in %.1f s: %s", delay, exc)
                await asyncio.sleep(delay)
        self.counts.readings_stored += len(lines)
        self.counts.batches_written += 1
