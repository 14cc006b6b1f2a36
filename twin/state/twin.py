"""The live twin: ingest readings, keep each channel's latest value and each period's totals.

Everything is driven by event time: the watermark is the latest event time seen, and device
status and current periods are measured against it, never against the wall clock. Two twins
fed the same batches produce the same snapshot, whatever the hour they run at.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from itertools import chain, repeat
from operator import attrgetter

import numpy as np
import numpy.typing as npt

from parktwin.contract.reading import Reading
from parktwin.park.model import Park
from parktwin.park.twin import TwinSettings
from parktwin.periods import GRANULARITIES, Calendar, Granularity, split
from tariffs.bills import BillSet
from twin.model.checkpoint import decode, encode
from twin.model.costs import CostPlan, add_costs, cost_retention
from twin.model.counters import (
    NEVER,
    Advance,
    Interval,
    Replacement,
    Tally,
    advance,
    channel_rules,
    held_integral,
)
from twin.model.inputs import MeterReplaced, MonthlyInputs
from twin.model.ledger import oldest_kept
from twin.model.live import LiveState
from twin.model.topology import Topology, build_topology
from twin.state.bills import month_bills
from twin.state.compose import StateAtWatermark, build_snapshot
from twin.state.cost_report import MonthDemand, PeriodCost, month_demand_of, period_cost
from twin.state.snapshot import TwinSnapshot

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

DEVICE_ID, TS_MS, VALUES = attrgetter("device_id"), attrgetter("ts_ms"), attrgetter("values")


@dataclass(frozen=True, slots=True)
class ChannelValues:
    """One ingest call's readings of known devices, flattened to channel values."""

    device: Ints
    device_ts: Ints
    channel: Ints
    ts_ms: Ints
    value: Floats
    readings: int
    unknown_devices: int
    unknown_quantities: int


def flatten(readings: Iterable[Reading], topology: Topology) -> ChannelValues:
    """Readings as arrays of (channel, time, value); unknown devices and quantities counted."""
    # No Python loop over readings or values: each step is a C-level ``map`` over the batch
    # (attribute reads, dict lookups, the dicts' keys and values chained) or NumPy indexing.
    # Each value's channel comes from its own quantity name (see QuantityOffsets).
    batch = readings if isinstance(readings, list) else list(readings)
    count = len(batch)
    device = np.fromiter(
        map(topology.device_index.get, map(DEVICE_ID, batch), repeat(-1)), np.int64, count
    )
    known_device = device >= 0
    unknown = count - int(np.count_nonzero(known_device))
    if unknown:
        batch = [r for r, ok in zip(batch, known_device.tolist(), strict=True) if ok]
        device = device[known_device]
    quantities: list[dict[str, float]] = list(map(VALUES, batch))
    device_ts = np.fromiter(map(TS_MS, batch), np.int64, len(batch))
    sizes = np.fromiter(map(len, quantities), np.int64, len(batch))
    total = int(sizes.sum())
    offsets = topology.quantity_offsets
    code = np.fromiter(
        map(offsets.code.get, chain.from_iterable(quantities), repeat(offsets.unknown)),
        np.int64,
        total,
    )
    # Per value: its device, its column in the offsets of its device's kind, its channel.
    value_device = np.repeat(device, sizes)
    offset = offsets.offset.take(
        topology.device_kind_code.take(value_device) * offsets.width + code
    )
    # Unknown quantities get channel -1.
    channel_array = np.where(
        offset >= 0, topology.device_first_channel.take(value_device) + offset, -1
    )
    time_array = np.repeat(device_ts, sizes)
    known = channel_array >= 0
    unknown_quantity = total - int(np.count_nonzero(known))
    if unknown_quantity:
        # Drop them before conversion: their values must not decide how the others convert.
        channel_array, time_array = channel_array[known], time_array[known]
        value_array = as_numbers(
            [v for v, ok in zip(all_values(quantities), known.tolist(), strict=True) if ok]
        )
    else:
        value_array = values_as_numbers(quantities, total)
    return ChannelValues(
        device,
        device_ts,
        channel_array,
        time_array,
        value_array,
        count,
        unknown,
        unknown_quantity,
    )


def per_flow(flow: Ints, amount: Floats, flows: int) -> Floats:
    """Amounts added up per flow, in their order."""
    return np.asarray(np.bincount(flow, weights=amount, minlength=flows), dtype=np.float64)


def all_values(quantities: list[dict[str, float]]) -> Iterator[object]:
    """Every value of every reading, in order."""
    return chain.from_iterable(map(dict.values, quantities))


def values_as_numbers(quantities: list[dict[str, float]], total: int) -> Floats:
    """``as_numbers`` of every value of every reading, in one pass when all of them convert."""
    try:
        return np.fromiter(all_values(quantities), np.float64, total)
    except (TypeError, ValueError):
        return as_numbers(list(all_values(quantities)))


def as_numbers(values: list[object]) -> Floats:
    """Values as float64, with NaN (later rejected) for anything that is not a real number."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        pass
    return np.asarray(
        [
            float(v) if isinstance(v, int | float) and not isinstance(v, bool) else math.nan
            for v in values
        ],
        dtype=np.float64,
    )


class Twin:
    """The park's digital twin. Feed it readings; ask it for a snapshot."""

    def __init__(self, park: Park, settings: TwinSettings | None = None) -> None:
        self.park = park
        self.settings = settings if settings is not None else park.twin
        self.topology = build_topology(park)
        self.calendar = Calendar(park.timezone)
        self.state = LiveState.empty(self.topology)
        self.cost_plan = (
            CostPlan.of(self.topology, park.tariffs, park.timezone)
            if park.tariffs is not None
            else None
        )
        if self.cost_plan is not None:
            self.state.costs = self.cost_plan.empty()
        self._cost_retention = cost_retention(self.settings.retention)
        self._cost_oldest: dict[Granularity, tuple[int, int]] = {}
        self.counter_rules = channel_rules(
            park.counters,
            [(d.id, d.kind) for d in park.devices],
            self.topology.channel_device,
        )
        # Per granularity, the start and end of the latest period the calendar worked out.
        self._period: dict[Granularity, tuple[int, int]] = {}
        # Per granularity, a current period's start and the oldest period start kept with it.
        self._oldest: dict[Granularity, tuple[int, int]] = {}

    @property
    def watermark_ms(self) -> int | None:
        """The latest event time seen, or None before the first reading."""
        mark = self.state.watermark_ms
        return None if mark == NEVER else mark

    def ingest(self, readings: Iterable[Reading]) -> None:
        """Take a batch of readings in arrival order (readings of unknown devices are counted)."""
        self.ingest_values(flatten(readings, self.topology))

    def ingest_values(self, batch: ChannelValues) -> None:
        """``ingest`` of readings already flattened to channel values (a rebuild makes them
        straight from InfluxDB's columns), each channel's in arrival order."""
        state, topology = self.state, self.topology
        stats = state.stats
        if len(batch.device):
            np.maximum.at(state.last_seen_ms, batch.device, batch.device_ts)
            state.watermark_ms = max(state.watermark_ms, int(batch.device_ts.max()))
        channel, value = batch.channel, batch.value
        valid = np.isfinite(value)
        valid &= (value >= topology.channel_lo[channel]) & (value <= topology.channel_hi[channel])
        rejected = len(value) - int(np.count_nonzero(valid))
        ts_ms = batch.ts_ms
        if rejected:
            taken = np.flatnonzero(valid)
            channel, ts_ms, value = channel[taken], ts_ms[taken], value[taken]
        duplicates = out_of_order = 0
        tally = Tally()
        if len(channel):
            step = advance(channel, ts_ms, value, state.last_ts, state.last_value)
            duplicates, out_of_order = step.duplicates, step.out_of_order
            if step.is_last.all():  # each channel once (the usual case): every value is its last
                state.last_ts[step.channel] = step.ts_ms
                state.last_value[step.channel] = step.value
            else:
                last = np.flatnonzero(step.is_last)
                state.last_ts[step.channel[last]] = step.ts_ms[last]
                state.last_value[step.channel[last]] = step.value[last]
            tally = self._count(step)
        state.stats = replace(
            stats,
            readings=stats.readings + batch.readings,
            unknown_device_readings=stats.unknown_device_readings + batch.unknown_devices,
            unknown_quantity_values=stats.unknown_quantity_values + batch.unknown_quantities,
            rejected_values=stats.rejected_values + rejected,
            duplicate_values=stats.duplicate_values + duplicates,
            out_of_order_values=stats.out_of_order_values + out_of_order,
            counter_resets=stats.counter_resets + tally.resets,
            counter_rollovers=stats.counter_rollovers + tally.rollovers,
            counter_dropouts=stats.counter_dropouts + tally.dropouts,
            counter_jitter=stats.counter_jitter + tally.jitter,
            meter_replacements=stats.meter_replacements + tally.replacements,
        )
        if state.watermark_ms != NEVER:
            oldest = self._oldest_kept(state.watermark_ms)
            state.ledger.prune_before(oldest)
            if state.costs is not None:
                state.costs.prune_before(self._oldest_cost_kept())
            state.counters.prune(oldest[Granularity.DAY])

    def _oldest_kept(self, watermark_ms: int) -> dict[Granularity, int]:
        """Per granularity, the oldest period start the ledger keeps at this watermark, worked
        out again only when the watermark leaves the current period the twin knows."""
        oldest = {}
        for granularity in GRANULARITIES:
            known = self._period.get(granularity)
            if known is not None and known[0] <= watermark_ms < known[1]:
                current = known[0]
            else:
                current = self.calendar.start_of(granularity, watermark_ms)
            kept = self._oldest.get(granularity)
            if kept is None or kept[0] != current:
                start = oldest_kept(self.calendar, self.settings.retention, granularity, current)
                kept = self._oldest[granularity] = (current, start)
            oldest[granularity] = kept[1]
        return oldest

    def _oldest_cost_kept(self) -> dict[Granularity, int]:
        """Per granularity, the oldest period start the cost ledger keeps (``cost_retention``),
        from the current periods ``_oldest_kept`` has just worked out."""
        oldest = {}
        for granularity in GRANULARITIES:
            current = self._oldest[granularity][0]
            kept = self._cost_oldest.get(granularity)
            if kept is None or kept[0] != current:
                start = oldest_kept(self.calendar, self._cost_retention, granularity, current)
                kept = self._cost_oldest[granularity] = (current, start)
            oldest[granularity] = kept[1]
        return oldest

    def _count(self, step: Advance) -> Tally:
        """Add the consumption between accepted values to the ledger; return what the counters
        did (resets, rollovers, dropouts...)."""
        topology, state = self.topology, self.state
        counter = topology.channel_counter[step.channel]
        counted, extra, tally = state.counters.amounts(
            step, counter, self.counter_rules, topology.channel_keys, topology.channel_device
        )
        if tally.reset_devices:
            np.add.at(state.resets, np.asarray(tally.reset_devices, dtype=np.int64), 1)
        flow = topology.channel_flow[step.channel]
        keep = np.flatnonzero((flow >= 0) & (step.prev_ts_ms != NEVER))
        flow, channel = flow[keep], step.channel[keep]
        t0, t1 = step.prev_ts_ms[keep], step.ts_ms[keep]
        amount = counted[keep]
        # People counters: person-hours, and the hours they were known. A counter silent beyond
        # its stale limit leaves the interval unknown: no person-hours, and no known hours.
        people = np.flatnonzero(topology.channel_person_h[channel])
        if len(people):
            prev = step.prev_value[keep]
            device = topology.channel_device[channel[people]]
            hold_ms = topology.interval_ms[device] * self.settings.status.stale_after_intervals
            dt_ms = t1[people] - t0[people]
            amount[people] = held_integral(prev[people], dt_ms, hold_ms)
            known = held_integral(np.ones(len(people)), dt_ms, hold_ms)
            flow = np.concatenate([flow, topology.channel_known_flow[channel[people]]])
            t0 = np.concatenate([t0, t0[people]])
            t1 = np.concatenate([t1, t1[people]])
            amount = np.concatenate([amount, known])
        if extra:
            flow, t0, t1, amount = self._with_intervals(flow, t0, t1, amount, extra)
        self._add(flow, t0, t1, amount)
        return tally

    def _with_intervals(
        self, flow: Ints, t0: Ints, t1: Ints, amount: Floats, extra: list[Interval]
    ) -> tuple[Ints, Ints, Ints, Floats]:
        """The batch's intervals and ``extra`` ones together (those of flow channels)."""
        more = [
            i for i in extra if self.topology.channel_flow[i.channel] >= 0 and i.t1_ms > i.t0_ms
        ]
        if not more:
            return flow, t0, t1, amount
        return (
            np.concatenate([flow, [self.topology.channel_flow[i.channel] for i in more]]),
            np.concatenate([t0, [i.t0_ms for i in more]]).astype(np.int64),
            np.concatenate([t1, [i.t1_ms for i in more]]).astype(np.int64),
            np.concatenate([amount, [i.amount for i in more]]),
        )

    def _add(self, flow: Ints, t0: Ints, t1: Ints, amount: Floats) -> None:
        """Add amounts over intervals (t0, t1] of flows to every period they fall in."""
        if not len(flow):
            return
        state, topology = self.state, self.topology
        lo, hi = int(t0.min()), int(t1.max())
        whole: Floats | None = None  # the amounts per flow, when no interval needs cutting
        for granularity in GRANULARITIES:
            bounds = self._boundaries(granularity, lo, hi)
            if len(bounds) > 2:
                state.ledger.add(granularity, split(bounds, t0, t1, amount), flow)
                continue
            # Every interval lies in one period (usually all of them, a reading a minute):
            # the same sums ``split`` and ``Ledger.add`` would make, added up once.
            if whole is None:
                whole = per_flow(flow, amount, len(topology.flow_keys))
            state.ledger.add_totals(granularity, int(bounds[0]), whole)
        if self.cost_plan is not None and state.costs is not None:
            add_costs(state.costs, self.cost_plan, self.calendar, flow, t0, t1, amount)

    def _boundaries(self, granularity: Granularity, lo_ms: int, hi_ms: int) -> Ints:
        """``Calendar.boundaries``, without the calendar when one period known to the twin
        holds them all (the usual case: every reading falls in the current hour)."""
        known = self._period.get(granularity)
        if known is not None and known[0] <= lo_ms and hi_ms <= known[1]:
            return np.asarray(known, dtype=np.int64)
        bounds = self.calendar.boundaries(granularity, lo_ms, hi_ms)
        self._period[granularity] = (int(bounds[-2]), int(bounds[-1]))
        return bounds

    def mark_offline(self, device_ids: Iterable[str], at_ms: int) -> None:
        """Devices declared offline at ``at_ms`` (a Sparkplug NDEATH or DDEATH): offline until a
        later reading; unknown ids are ignored."""
        index = self.topology.device_index
        for device_id in device_ids:
            i = index.get(device_id)
            if i is not None:
                self.state.offline_ms[i] = max(int(self.state.offline_ms[i]), at_ms)

    def apply_monthly_inputs(self, inputs: MonthlyInputs) -> list[str]:
        """Take one month's reported figures; a later report of the same month replaces it.

        Its ``meter_replaced`` entries are counted (each once, whichever report carries it);
        returns why any of them could not be used.
        """
        self.state.monthly[inputs.month] = inputs
        problems = []
        for i, swap in enumerate(inputs.meter_replaced):
            problem = self.replace_meter(swap)
            if problem is not None:
                problems.append(f"meter_replaced.{i}: {problem}")
        return problems

    def replace_meter(self, swap: MeterReplaced) -> str | None:
        """Count a meter swap exactly (see ``CounterBook.record``); None, or why it cannot be."""
        topology, state = self.topology, self.state
        index = topology.device_index.get(swap.device)
        if index is None:
            return f"unknown device {swap.device!r}"
        channels = topology.device_channels[index]
        counters = [q for q, c in channels.items() if topology.channel_counter[c]]
        quantity = swap.quantity
        if quantity is None:
            if len(counters) != 1:
                return f"{swap.device} has counters {counters}: name the quantity"
            quantity = counters[0]
        if quantity not in counters:
            return f"{swap.device} has no counter {quantity!r} (its counters: {counters})"
        channel = channels[quantity]
        record = Replacement(
            swap.key(quantity), swap.at_ms, swap.final_reading, swap.initial_reading
        )
        intervals, problem = state.counters.record(
            channel,
            record,
            int(state.last_ts[channel]),
            float(state.last_value[channel]),
            topology.channel_keys,
        )
        more = [i for i in intervals if topology.channel_flow[i.channel] >= 0 and i.t1_ms > i.t0_ms]
        if more:
            self._add(
                np.asarray([topology.channel_flow[i.channel] for i in more], dtype=np.int64),
                np.asarray([i.t0_ms for i in more], dtype=np.int64),
                np.asarray([i.t1_ms for i in more], dtype=np.int64),
                np.asarray([i.amount for i in more], dtype=np.float64),
            )
        if intervals:
            state.stats = replace(
                state.stats, meter_replacements=state.stats.meter_replacements + 1
            )
        return problem

    def seed_period_totals(
        self,
        granularity: Granularity | str,
        period: str,
        totals: Mapping[str, Mapping[str, float]],
    ) -> list[str]:
        """Set per-meter totals of one period from an outside source (e.g. InfluxDB history).

        ``period`` is a label (``2024-03-05``, ``2024-03``...), ``totals`` maps device id to
        quantity (a counter's name, or ``occupancy_persons`` for person-hours) to the total.
        The values replace what the ledger holds for those meters. Returns the keys that name no
        meter of the park. Seed before ingesting the readings that follow the period's totals.
        """
        granularity = Granularity(granularity)
        start = self.calendar.parse_label(granularity, period)
        table = self.state.ledger.periods[granularity]
        row = table.setdefault(start, np.zeros(len(self.topology.flow_keys)))
        index = {key: i for i, key in enumerate(self.topology.flow_keys)}
        unknown = []
        for device, quantities in totals.items():
            for quantity, total in quantities.items():
                flow = index.get(f"{device}|{quantity}")
                if flow is None:
                    unknown.append(f"{device}|{quantity}")
                else:
                    row[flow] = float(total)
        return unknown

    def snapshot(self) -> TwinSnapshot:
        """All KPIs and per-device, building, zone and enterprise state at the watermark."""
        return build_snapshot(
            self.park, self.settings, self.topology, self.calendar, self.state, self.cost_plan
        )

    def period_costs(self, granularity: Granularity | str, period: str) -> PeriodCost | None:
        """The cost of any period the twin keeps (a label: ``2026-11``, ``2026-11-03``...), or
        None when the park has no tariffs or the twin keeps no cost of that period."""
        view = self._cost_view()
        if view is None or self.cost_plan is None:
            return None
        granularity = Granularity(granularity)
        start = self.calendar.parse_label(granularity, period)
        if self.state.costs is None or start not in self.state.costs.amount[granularity]:
            return None
        return period_cost(view, self.cost_plan, granularity, start)

    def bills(self, month: str) -> BillSet | None:
        """Every enterprise's bill for a month (``YYYY-MM``) the twin keeps, with the
        reconciliation against the main meters' invoice; None without tariffs or when the twin
        keeps no cost of that month."""
        kept = self._kept_month(month)
        if kept is None or self.cost_plan is None:
            return None
        return month_bills(kept[0], self.cost_plan, month)

    def month_demand(self, month: str) -> MonthDemand | None:
        """A month's 15-minute demand and the basic charge it makes, for a month (``YYYY-MM``)
        the twin keeps; None without tariffs or when the twin keeps no cost of that month."""
        kept = self._kept_month(month)
        if kept is None or self.cost_plan is None:
            return None
        return month_demand_of(kept[0], self.cost_plan, kept[1])

    def _kept_month(self, month: str) -> tuple[StateAtWatermark, int] | None:
        """The cost view and the start of a month the cost ledger keeps, else None."""
        view = self._cost_view()
        if view is None or self.state.costs is None:
            return None
        start = self.calendar.parse_label(Granularity.MONTH, month)
        if start not in self.state.costs.amount[Granularity.MONTH]:
            return None
        return view, start

    def _cost_view(self) -> StateAtWatermark | None:
        if self.cost_plan is None or self.state.watermark_ms == NEVER:
            return None
        return StateAtWatermark(self.park, self.settings, self.topology, self.calendar, self.state)

    def checkpoint(self) -> bytes:
        """The whole live state as JSON bytes (see ``Twin.restore``)."""
        return encode(self.park.park.id, self.topology, self.state, self.cost_plan)

    @classmethod
    def restore(cls, park: Park, settings: TwinSettings | None, data: bytes) -> Twin:
        """A twin continuing from a checkpoint; state is matched by device and quantity ids, so
        devices added to the park since start empty and removed ones are dropped."""
        twin = cls(park, settings)
        twin.state = decode(data, park.park.id, twin.topology, twin.cost_plan)
        return twin
