"""Make batches durable: into the database when it takes them, else into the on-disk spool.

While the spool holds anything, new batches join it behind the older ones, and a replay task
drains it oldest first with exponential backoff, so the database sees readings in arrival order.
``put`` returns only when a batch is durable; the caller acknowledges its messages after that.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence

from collectors.spool import Spool, SpoolFullError
from collectors.stats import CollectorStats
from parktwin.backoff import backoff_s
from parktwin.config import CollectorSettings
from parktwin.influx.writer import PointWriter, WriteError

log = logging.getLogger(__name__)

RefusedLine = Callable[[str, str], None]  # (line, database's reason)


def split_by_size(lines: list[str], max_bytes: int) -> list[list[str]]:
    """Consecutive parts of ``lines`` of at most ``max_bytes`` (UTF-8) each, in order."""
    # A character takes at most four bytes in UTF-8: a batch that fits even so is one part,
    # without encoding each line to measure it.
    if lines and 4 * (sum(map(len, lines)) + len(lines)) <= max_bytes:
        return [list(lines)]
    parts: list[list[str]] = [[]]
    size = 0
    for line in lines:
        length = len(line.encode()) + 1
        if parts[-1] and size + length > max_bytes:
            parts.append([])
            size = 0
        parts[-1].append(line)
        size += length
    return parts if parts[-1] else parts[:-1]


class DurableStore:
    """Write-or-spool for one collector. Spool calls run in a worker thread, one at a time."""

    def __init__(
        self,
        writer: PointWriter,
        spool: Spool,
        settings: CollectorSettings,
        stats: CollectorStats,
        on_refused: RefusedLine,
    ) -> None:
        self._writer = writer
        self._spool = spool
        self._settings = settings
        self._stats = stats
        self._on_refused = on_refused
        self._spool_lock = asyncio.Lock()
        self._spooled = asyncio.Event()
        self._target_ready = False
        self._rng = random.Random()
        self._full_reported = False
        self._spool_max_bytes = spool.max_bytes

    @property
    def spool_pending_lines(self) -> int:
        return self._spool.pending_lines

    async def put(self, lines: Sequence[str]) -> None:
        """Return once ``lines`` are in the database or in the spool; retry while neither can."""
        attempt = 0
        # Spooled in parts no bigger than an eighth of the spool, so that no batch can be too
        # big to ever fit, and a nearly full spool still takes the next part.
        parts = split_by_size(list(lines), self._spool_max_bytes // 8)
        while parts:
            if self._spool.pending_batches == 0:
                try:
                    remaining = parts[0] if len(parts) == 1 else [ln for p in parts for ln in p]
                    self._stats.readings_written += await self._write(remaining)
                    return
                except WriteError as exc:
                    self._stats.write_failures += 1
                    log.warning("database write failed, spooling: %s", exc)
            try:
                async with self._spool_lock:
                    await asyncio.to_thread(self._spool.append, parts[0])
            except SpoolFullError as exc:
                # Nothing is acknowledged, so the broker keeps the messages; say it once.
                if not self._full_reported:
                    log.error("spool full, holding acknowledgements until it drains: %s", exc)
                    self._full_reported = True
                await asyncio.sleep(self._delay(attempt))
                attempt += 1
                continue
            self._full_reported = False
            self._stats.readings_spooled += len(parts.pop(0))
            self._spooled.set()

    async def replay_forever(self) -> None:
        """Drain the spool into the database, oldest batch first, backing off on failure."""
        attempt = 0
        while True:
            async with self._spool_lock:
                batch = await asyncio.to_thread(self._spool.peek)
            if batch is None:
                self._spooled.clear()
                await self._spooled.wait()
                continue
            try:
                written = await self._write(batch.lines)
            except WriteError as exc:
                delay = self._delay(attempt)
                attempt += 1
                log.info("replay waits %.1f s: %s", delay, exc)
                await asyncio.sleep(delay)
                continue
            attempt = 0
            async with self._spool_lock:
                await asyncio.to_thread(self._spool.confirm, batch)
            self._stats.readings_replayed += written

    def _delay(self, attempt: int) -> float:
        s = self._settings
        return backoff_s(min(attempt, 20), s.retry_initial_s, s.retry_max_s, self._rng)

    async def _write(self, lines: Sequence[str]) -> int:
        """Write lines; a refused batch is split until the refused lines stand alone.

        Returns how many lines the database took. Raises WriteError only when retrying may help.
        """
        if not self._target_ready:
            await self._writer.ensure_target()
            self._target_ready = True
        try:
            await self._writer.write(lines)
            return len(lines)
        except WriteError as exc:
            if exc.retryable:
                raise
            if len(lines) == 1:
                self._stats.readings_refused_by_database += 1
                self._on_refused(lines[0], str(exc))
                return 0
        middle = len(lines) // 2
        return await self._write(lines[:middle]) + await self._write(lines[middle:])
