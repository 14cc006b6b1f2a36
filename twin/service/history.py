"""Stored readings of a park read back from InfluxDB with InfluxQL, thinned, for the reports.

Each device's readings are thinned to the first and the last value of every ``resolution_s``
bucket, placed at the bucket's first and last millisecond, so that they stay in the same local
hour and day. Counter totals are unchanged by thinning (deltas telescope), except an increment
made just before a meter reset inside one bucket; gauges (occupancy, power) keep two values a
bucket, so person-hours come back approximately. (The twin's own rebuild replays readings
unthinned: ``twin.service.rebuild``.)

The range is read one day at a time (a day is a whole number of buckets), a few days at once:
one statement over a month of a park's readings made InfluxDB 1.6 build a single answer of tens
of megabytes, slower than the same month a day at a time and beyond any sensible timeout.
Days before the first stored reading are not asked for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import aiohttp

from parktwin.config import InfluxSettings
from parktwin.contract.quantities import KINDS, QUANTITIES
from parktwin.contract.reading import Reading
from parktwin.influx.influxql import Series, query
from parktwin.park.model import Park

log = logging.getLogger(__name__)

CHUNK_MS = 86_400_000  # statements cover a day each (aligned on whole buckets)
CONCURRENT_QUERIES = 3  # InfluxDB answers on its own threads while we turn rows into readings


def history_statements(park: Park, since_ms: int, until_ms: int, resolution_s: int) -> list[str]:
    """One InfluxQL statement per medium the park measures: first and last of each bucket."""
    media = sorted({KINDS[d.kind].medium.value for d in park.devices})
    park_id = park.park.id.replace("'", "\\'")
    return [
        f'SELECT first(*), last(*) FROM "{medium}" WHERE "park" = \'{park_id}\' '
        f"AND time >= {since_ms}ms AND time < {until_ms}ms "
        f'GROUP BY time({resolution_s}s), "device" fill(none)'
        for medium in media
    ]


def readings_from(series: list[Series], park: Park, resolution_s: int) -> Iterator[Reading]:
    """Readings of known devices from ``first(*), last(*)`` series, two per bucket."""
    end_ms = resolution_s * 1000 - 1
    for one in series:
        device_id = one.tags.get("device", "")
        if device_id not in park.devices_by_id:
            continue
        columns = one.columns
        for row in one.values:
            for prefix, offset_ms in (("first_", 0), ("last_", end_ms)):
                values = {
                    name.removeprefix(prefix): float(value)
                    for name, value in zip(columns[1:], row[1:], strict=True)
                    if value is not None
                    and name.startswith(prefix)
                    and name.removeprefix(prefix) in QUANTITIES
                }
                if values:
                    yield Reading(device_id, int(row[0]) + offset_ms, values)


async def edge_event_ms(
    session: aiohttp.ClientSession,
    settings: InfluxSettings,
    park: Park,
    newest: bool,
    since_ms: int,
) -> int | None:
    """Event time of the park's newest (or, from ``since_ms``, oldest) stored reading."""
    found: int | None = None
    media = sorted({KINDS[d.kind].medium.value for d in park.devices})
    park_id = park.park.id.replace("'", "\\'")
    order = "ORDER BY time DESC " if newest else ""
    for medium in media:
        statement = (
            f'SELECT * FROM "{medium}" WHERE "park" = \'{park_id}\' '
            f"AND time >= {since_ms}ms {order}LIMIT 1"
        )
        for one in await query(session, settings, statement):
            for row in one.values:
                ts = int(row[0])
                found = ts if found is None else (max(found, ts) if newest else min(found, ts))
    return found


async def latest_event_ms(settings: InfluxSettings, park: Park) -> int | None:
    """Event time of the park's newest stored reading, or None when nothing is stored."""
    async with aiohttp.ClientSession() as session:
        return await edge_event_ms(session, settings, park, True, 0)


def day_chunks(since_ms: int, until_ms: int, resolution_s: int) -> list[tuple[int, int]]:
    """[start, end) pieces of at most ``CHUNK_MS``, cut on bucket boundaries (multiples of the
    resolution since the epoch, where InfluxDB's GROUP BY time() cuts), covering the range."""
    bucket_ms = resolution_s * 1000
    size = max(bucket_ms, CHUNK_MS // bucket_ms * bucket_ms)
    chunks, start = [], since_ms
    while start < until_ms:
        end = min(until_ms, (start // size + 1) * size)
        chunks.append((start, end))
        start = end
    return chunks


async def load_history(
    settings: InfluxSettings,
    park: Park,
    since_ms: int,
    until_ms: int,
    resolution_s: int = 900,
) -> list[Reading]:
    """Readings of the park between two event times thinned at ``resolution_s``, by time."""
    limit = asyncio.Semaphore(CONCURRENT_QUERIES)
    async with aiohttp.ClientSession() as session:
        first = await edge_event_ms(session, settings, park, False, since_ms)
        if first is None or first >= until_ms:
            return []

        async def chunk(start_ms: int, end_ms: int) -> list[Reading]:
            async with limit:
                found: list[Reading] = []
                for statement in history_statements(park, start_ms, end_ms, resolution_s):
                    series = await query(session, settings, statement)
                    found.extend(readings_from(series, park, resolution_s))
                return found

        pieces = day_chunks(max(since_ms, first), until_ms, resolution_s)
        results = await asyncio.gather(*(chunk(a, b) for a, b in pieces))
    readings = [reading for piece in results for reading in piece]
    readings.sort(key=lambda r: r.ts_ms)
    log.info("rebuilt from history: %d thinned readings", len(readings))
    return readings
