"""Rebuild the twin from InfluxDB history with InfluxQL, when it starts without a checkpoint.

The stored readings are replayed into a fresh twin through the same code as live ones, so the
rebuilt totals follow the same rules (resets, gaps, local-midnight periods). To keep the replay
small, each device's readings are thinned to the first and the last value of every
``resolution_s`` bucket, placed at the bucket's first and last millisecond, so that they stay in
the same local hour and day. Counter totals are unchanged by thinning (deltas telescope), except
an increment made just before a meter reset inside one bucket; gauges (occupancy, power) keep
two values a bucket, so person-hours come back approximately.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import aiohttp

from parktwin.config import InfluxSettings
from parktwin.contract.quantities import KINDS, QUANTITIES
from parktwin.contract.reading import Reading
from parktwin.influx.influxql import Series, query
from parktwin.park.model import Park

log = logging.getLogger(__name__)


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


async def latest_event_ms(settings: InfluxSettings, park: Park) -> int | None:
    """Event time of the park's newest stored reading, or None when nothing is stored."""
    latest: int | None = None
    media = sorted({KINDS[d.kind].medium.value for d in park.devices})
    park_id = park.park.id.replace("'", "\\'")
    async with aiohttp.ClientSession() as session:
        for medium in media:
            statement = (
                f'SELECT * FROM "{medium}" WHERE "park" = \'{park_id}\' ORDER BY time DESC LIMIT 1'
            )
            for one in await query(session, settings, statement):
                for row in one.values:
                    latest = max(latest or 0, int(row[0]))
    return latest


async def load_history(
    settings: InfluxSettings, park: Park, since_ms: int, until_ms: int, resolution_s: int = 900
) -> list[Reading]:
    """Thinned readings of the park between two event times, sorted by time."""
    readings: list[Reading] = []
    async with aiohttp.ClientSession() as session:
        for statement in history_statements(park, since_ms, until_ms, resolution_s):
            readings.extend(
                readings_from(await query(session, settings, statement), park, resolution_s)
            )
    readings.sort(key=lambda r: r.ts_ms)
    log.info("rebuilt from history: %d thinned readings", len(readings))
    return readings
