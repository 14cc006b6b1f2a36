"""Rebuild a fresh twin from the readings stored in InfluxDB, when it starts with no checkpoint.

The rebuilt state is the state of a twin that ran live over the same stored readings: every
reading that a counter or a flow needs is replayed, unthinned, through ``Twin.ingest``, in
event-time order, so counters, their high-water marks, drops and events, the period ledger,
person-hours, costs and the month's 15-minute demand follow the very rules they follow live.

What is read, from the first stored reading of the current local year (the periods the twin
reports all lie in it) to the newest:

- **the series of every field some channel counts**: counters (kWh, m3, GJ, kg...) and people
  counters (integrated to person-hours), raw, a local day per statement, a few statements at a
  time, each day ingested (in a worker thread) as soon as it and the days before it are in;
- **only the last value of every other field** (power, flow rates, temperatures, state of
  charge): the twin keeps nothing of a gauge but its latest value, so one ``last()`` per field
  and device stands for the whole series. That leaves out about half of the park's values.

What a rebuild cannot know: readings the live twin ignored (older than a channel's latest, as
a late redelivery is) are in InfluxDB and are replayed; two readings of one device at one time
are one point there. The ingest statistics count what the rebuild replayed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import aiohttp
import numpy as np

from parktwin.config import InfluxSettings
from parktwin.contract.quantities import KINDS
from parktwin.contract.reading import Reading
from parktwin.influx.influxql import QueryError, Series, query
from parktwin.park.model import Park
from parktwin.periods import Granularity
from twin.model.topology import Topology
from twin.service.history import edge_event_ms
from twin.state.twin import ChannelValues, Twin

log = logging.getLogger(__name__)

CONCURRENT_QUERIES = 3  # InfluxDB answers on its own threads while the twin ingests a day
# Answers uncompressed: gzip cost InfluxDB a fifth of its CPU on the same machine (and the
# twin its decompression); a database across a slow link would rather have it.
PLAIN = {"Accept-Encoding": "identity"}
AHEAD_DAYS = 4  # days read but not yet ingested, at most (bounds memory on a long history)


@dataclass(frozen=True)
class Fields:
    """Per measurement, the fields whose whole series the twin needs and those it keeps the
    last value of."""

    series: dict[str, list[str]]
    last: dict[str, list[str]]


def replay_fields(twin: Twin) -> Fields:
    """Which fields of the park's measurements are replayed whole: counters and flows."""
    topology = twin.topology
    whole: dict[str, set[str]] = {}
    latest: dict[str, set[str]] = {}
    kinds = {d.id: KINDS[d.kind] for d in twin.park.devices}
    counted = (topology.channel_counter | (topology.channel_flow >= 0)).tolist()
    for channel, key in enumerate(topology.channel_keys):
        device = topology.device_ids[topology.channel_device[channel]]
        medium = kinds[device].medium.value
        target = whole if counted[channel] else latest
        target.setdefault(medium, set()).add(key.split("|", 1)[1])
    for medium, names in whole.items():  # a field counted for one kind is read whole for all
        latest.get(medium, set()).difference_update(names)
    return Fields(
        {m: sorted(names) for m, names in sorted(whole.items())},
        {m: sorted(names) for m, names in sorted(latest.items()) if names},
    )


def _park_filter(park: Park, since_ms: int, until_ms: int) -> str:
    park_id = park.park.id.replace("'", "\\'")
    return f"\"park\" = '{park_id}' AND time >= {since_ms}ms AND time < {until_ms}ms"


def _field(name: str) -> str:
    return '"' + name.replace('"', '\\"') + '"'


def series_statements(park: Park, fields: Fields, since_ms: int, until_ms: int) -> list[str]:
    """Raw readings of the counted fields, per device, between two event times."""
    where = _park_filter(park, since_ms, until_ms)
    return [
        f"SELECT {', '.join(map(_field, names))} FROM {_field(medium)} "
        f'WHERE {where} GROUP BY "device"'
        for medium, names in fields.series.items()
    ]


def last_statements(park: Park, fields: Fields, since_ms: int, until_ms: int) -> list[str]:
    """Each device's last value of each other field, at its own time (one selector per
    statement: InfluxQL then answers with the point's time)."""
    where = _park_filter(park, since_ms, until_ms)
    return [
        f"SELECT last({_field(name)}) AS {_field(name)} FROM {_field(medium)} "
        f'WHERE {where} GROUP BY "device"'
        for medium, names in fields.last.items()
        for name in names
    ]


def readings_of(series: list[Series]) -> Iterator[Reading]:
    """Readings in raw series (one series a device; nulls left out): ``channel_values``'s
    general path."""
    for one in series:
        device_id = one.tags.get("device", "")
        names = one.columns[1:]
        for row in one.values:
            values = {
                name: value for name, value in zip(names, row[1:], strict=True) if value is not None
            }
            if values:
                yield Reading(device_id, int(row[0]), values)


def local_days(twin: Twin, since_ms: int, until_ms: int) -> list[tuple[int, int]]:
    """[start, end) of each local day from ``since_ms`` to ``until_ms``."""
    bounds = twin.calendar.boundaries(Granularity.DAY, since_ms, until_ms).tolist()
    starts = [since_ms, *(b for b in bounds[1:-1] if since_ms < b < until_ms)]
    return list(zip(starts, [*starts[1:], until_ms], strict=True))


def channel_values(answers: list[list[Series]], topology: Topology) -> ChannelValues:
    """The readings of raw series as the twin's channel values, in event-time order: what
    ``flatten`` makes of ``readings_of`` the same series, without a Python object a reading
    (a series' rows become one float array; the nulls of fields a reading lacks are dropped).
    """
    offsets = topology.quantity_offsets
    devices, device_ts, channels, times, values = [], [], [], [], []
    readings = unknown_devices = unknown_quantities = 0
    for one in (one for series in answers for one in series):
        device = topology.device_index.get(one.tags.get("device", ""), -1)
        rows = np.asarray(one.values, dtype=np.float64).reshape(len(one.values), -1)
        present = ~np.isnan(rows[:, 1:])
        taken = present.any(axis=1)
        readings += int(np.count_nonzero(taken))
        if device < 0:
            unknown_devices += int(np.count_nonzero(taken))
            continue
        kind = int(topology.device_kind_code[device])
        column_offset = np.asarray(
            [
                offsets.offset[kind * offsets.width + offsets.code.get(name, offsets.unknown)]
                for name in one.columns[1:]
            ],
            dtype=np.int64,
        )
        ts = rows[:, 0].astype(np.int64)
        row, column = np.nonzero(present)  # reading by reading, its values in column order
        known = column_offset[column] >= 0
        unknown_quantities += len(row) - int(np.count_nonzero(known))
        row, column = row[known], column[known]
        devices.append(np.full(int(np.count_nonzero(taken)), device, dtype=np.int64))
        device_ts.append(ts[taken])
        channels.append(topology.device_first_channel[device] + column_offset[column])
        times.append(ts[row])
        values.append(rows[row, column + 1])
    if not channels:
        empty = np.zeros(0, dtype=np.int64)
        return ChannelValues(empty, empty, empty, empty, np.zeros(0), readings, unknown_devices, 0)
    time_ms = np.concatenate(times)
    order = np.argsort(time_ms, kind="stable")  # as they arrived: each channel's in time order
    reading_ts = np.concatenate(device_ts)
    by_time = np.argsort(reading_ts, kind="stable")
    return ChannelValues(
        np.concatenate(devices)[by_time],
        reading_ts[by_time],
        np.concatenate(channels)[order],
        time_ms[order],
        np.concatenate(values)[order],
        readings,
        unknown_devices,
        unknown_quantities,
    )


def _ingest(twin: Twin, answers: list[list[Series]]) -> int:
    """One piece of history into the twin, in event-time order; how many readings."""
    batch = channel_values(answers, twin.topology)
    twin.ingest_values(batch)
    return batch.readings


async def rebuild(settings: InfluxSettings, twin: Twin) -> int:
    """Rebuild a fresh ``twin`` from the stored readings of its current local year (module
    docstring); returns how many readings were replayed, 0 when nothing is stored. Raises
    ``QueryError`` when InfluxDB cannot answer."""
    park = twin.park
    fields = replay_fields(twin)
    limit = asyncio.Semaphore(CONCURRENT_QUERIES)
    async with aiohttp.ClientSession(headers=PLAIN) as session:
        latest = await edge_event_ms(session, settings, park, True, 0)
        if latest is None:
            return 0
        since = twin.calendar.start_of(Granularity.YEAR, latest)
        first = await edge_event_ms(session, settings, park, False, since)
        if first is None:
            return 0
        until = latest + 1

        async def answers(statements: list[str]) -> list[list[Series]]:
            async with limit:
                return [await query(session, settings, s) for s in statements]

        pieces = [series_statements(park, fields, a, b) for a, b in local_days(twin, first, until)]
        pieces.append(last_statements(park, fields, since, until))
        replayed = 0
        waiting: deque[asyncio.Task[list[list[Series]]]] = deque()
        try:
            async with asyncio.TaskGroup() as group:
                for statements in pieces:
                    waiting.append(group.create_task(answers(statements)))
                    if len(waiting) > AHEAD_DAYS:
                        replayed += await asyncio.to_thread(_ingest, twin, await waiting.popleft())
                while waiting:
                    replayed += await asyncio.to_thread(_ingest, twin, await waiting.popleft())
        except ExceptionGroup as group:  # a statement InfluxDB refused: say which, as one error
            refused = group.subgroup(QueryError)
            if refused is None:
                raise
            raise refused.exceptions[0] from None
    log.info("rebuilt from history: %d readings replayed", replayed)
    return replayed
