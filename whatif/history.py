"""A year of a park's measured flows, step by step, from InfluxDB through the twin's rebuild path.

The twin rebuilds itself from history with ``twin.service.history``: per medium, the first and
the last reading of each device in every ``resolution_s`` bucket. What-if asks the same
statements (one month at a time, to keep each answer small), reads the answer as columns rather
than as Reading objects (a year of a 220-device park is millions of readings), and counts it
with the twin's own rules: only readings later than the channel's last are accepted, a counter's
step is its consumption, a decrease is read as the twin reads it (jitter, dropout, rollover or
reset: ``twin.model.counters.series_steps``, with the park file's ``counters:`` tolerances), values
outside a quantity's valid range are refused, and an amount between two readings is split over
the steps it spans in proportion to time (``parktwin.periods.split``), at the park's local
hour boundaries. The result is each flow's amount in each step of the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import aiohttp
import numpy as np
import numpy.typing as npt

from parktwin.config import InfluxSettings
from parktwin.contract.quantities import KINDS
from parktwin.influx.influxql import Series, query
from parktwin.park.model import Park
from parktwin.periods import MS_PER_HOUR, Calendar, Granularity, split
from twin.model.counters import ChannelRules, channel_rules, series_steps
from twin.model.topology import FLOW_OF, Flow, Topology
from twin.service.history import history_statements

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

# Flows what-if counts: the energy carriers and water. People and stack CO2 are not changed by any
# change kind; stack CO2 is counted so that "process" accounting stays as the twin has it.
COUNTED = frozenset(
    {
        Flow.GRID_IMPORT_KWH,
        Flow.GRID_EXPORT_KWH,
        Flow.PV_KWH,
        Flow.CHARGE_KWH,
        Flow.DISCHARGE_KWH,
        Flow.ELECTRICITY_KWH,
        Flow.GAS_M3,
        Flow.HEAT_GJ,
        Flow.DIESEL_KG,
        Flow.WATER_M3,
        Flow.STACK_CO2_KG,
    }
)


@dataclass(frozen=True)
class StepFlows:
    """Every flow's amount in every step of a window: ``amounts[step, flow]``."""

    bounds_ms: Ints  # step starts, and the window's end last
    amounts: Floats  # shape (steps, flows), in the topology's flow order
    read: npt.NDArray[np.bool_]  # a step some counted reading fell in or spanned
    readings: int  # thinned readings used

    @property
    def step_h(self) -> Floats:
        """Each step's length in hours."""
        return np.diff(self.bounds_ms).astype(np.float64) / MS_PER_HOUR


def step_bounds(calendar: Calendar, start_ms: int, end_ms: int, step_min: int) -> Ints:
    """Step starts from ``start_ms`` to ``end_ms``: local hours, each cut into equal parts."""
    hours = calendar.boundaries(Granularity.HOUR, start_ms, end_ms)
    parts = 60 // step_min
    inner = hours[:-1, None] + np.arange(parts, dtype=np.int64)[None, :] * (step_min * 60_000)
    bounds = np.append(inner.ravel(), hours[-1])
    return bounds[(bounds >= start_ms) & (bounds <= end_ms)]


def channel_columns(
    series: list[Series], topology: Topology, resolution_s: int
) -> dict[int, list[tuple[Ints, Floats]]]:
    """Per flow, (times, values) of its first and last readings of each bucket, from
    ``first(*), last(*)`` series, as the rebuild reads them (the last at the bucket's end)."""
    found: dict[int, list[tuple[Ints, Floats]]] = {}
    for one in series:
        device = topology.device_index.get(one.tags.get("device", ""))
        if device is None or not one.values:
            continue
        table = np.array(one.values, dtype=np.float64)  # None becomes NaN
        bucket = table[:, 0].astype(np.int64)
        end = bucket + (resolution_s * 1000 - 1)
        index = {name: i for i, name in enumerate(one.columns)}
        for quantity, channel in topology.device_channels[device].items():
            flow = int(topology.channel_flow[channel])
            if flow < 0 or topology.flow_type[flow] not in COUNTED:
                continue
            first, last = index.get(f"first_{quantity}"), index.get(f"last_{quantity}")
            if first is None or last is None:
                continue
            times = np.column_stack((bucket, end)).ravel()
            values = np.column_stack((table[:, first], table[:, last])).ravel()
            lo, hi = topology.channel_lo[channel], topology.channel_hi[channel]
            ok = np.isfinite(values) & (values >= lo) & (values <= hi)
            found.setdefault(flow, []).append((times[ok], values[ok]))
    return found


def count_steps(
    columns: dict[int, list[tuple[Ints, Floats]]],
    flows: int,
    bounds: Ints,
    rules: ChannelRules,
    flow_channel: Ints,
) -> tuple[Floats, npt.NDArray[np.bool_]]:
    """Each flow's consumption per step, with the twin's rules (see the module's docstring)."""
    steps = len(bounds) - 1
    amounts = np.zeros(steps * flows)
    read = np.zeros(steps, dtype=np.bool_)
    wide = np.concatenate(([np.iinfo(np.int64).min // 2], bounds, [np.iinfo(np.int64).max // 2]))
    for flow, parts in columns.items():
        times = np.concatenate([t for t, _ in parts])
        values = np.concatenate([v for _, v in parts])
        # Accept a reading only when it is later than every earlier one (duplicates, and the
        # first/last pair of a one-reading bucket, are dropped).
        keep = np.ones(len(times), dtype=np.bool_)
        keep[1:] = times[1:] > np.maximum.accumulate(times)[:-1]
        times, values = times[keep], values[keep]
        if len(times) < 2:
            continue
        delta = series_steps(values, rules, int(flow_channel[flow]))
        pieces = split(wide, times[:-1], times[1:], delta)
        step = pieces.period - 1  # the first and the last of ``wide`` are outside the window
        inside = (step >= 0) & (step < steps)
        step = step[inside]
        amounts += np.bincount(
            step * flows + flow, weights=pieces.amount[inside], minlength=steps * flows
        )
        read[step] = True
    return amounts.reshape(steps, flows), read


def counted_statements(park: Park, since_ms: int, until_ms: int, resolution_s: int) -> list[str]:
    """The twin's history statements of the media what-if counts (people counters and indoor
    air sensors, often the most numerous devices, are left out)."""
    media = {KINDS[kind].medium.value for (kind, _), flow in FLOW_OF.items() if flow in COUNTED}
    return [
        statement
        for statement in history_statements(park, since_ms, until_ms, resolution_s)
        if any(f'FROM "{medium}"' in statement for medium in media)
    ]


async def load_steps(
    settings: InfluxSettings,
    park: Park,
    topology: Topology,
    calendar: Calendar,
    start_ms: int,
    end_ms: int,
    step_min: int = 60,
) -> StepFlows:
    """The park's measured flows per step between two instants, read month by month."""
    bounds = step_bounds(calendar, start_ms, end_ms, step_min)
    resolution_s = step_min * 60
    columns: dict[int, list[tuple[Ints, Floats]]] = {}
    readings = 0
    months = calendar.boundaries(Granularity.MONTH, start_ms, end_ms)
    # One bucket before and after the window too, so that its first step has a reading to count
    # from and its last one a reading that closes it.
    margin = resolution_s * 1000
    cuts = [start_ms - margin, *(int(m) for m in months[1:-1]), end_ms + margin]
    async with aiohttp.ClientSession() as session:
        for since, until in pairwise(cuts):
            for statement in counted_statements(park, since, until, resolution_s):
                series = await query(session, settings, statement)
                readings += 2 * sum(len(s.values) for s in series)
                for flow, parts in channel_columns(series, topology, resolution_s).items():
                    columns.setdefault(flow, []).extend(parts)
    rules = channel_rules(
        park.counters, [(d.id, d.kind) for d in park.devices], topology.channel_device
    )
    amounts, read = count_steps(
        columns, len(topology.flow_keys), bounds, rules, topology.flow_channel
    )
    return StepFlows(bounds, amounts, read, readings)
