"""What the park's energy costs, counted on event time as readings arrive.

The consumption between two counter readings (the same intervals the ledger adds up) is split
at the tariff's segments (``tariffs.timeline``: band changes, local midnight, a new version,
every quarter hour), priced piece by piece at the segment's price, and added per period (hour,
day, month, year) and per band. A meter's amount and its cost are kept per *priced* flow:

| flow | amount | priced at |
|---|---|---|
| grid import | kWh | the band's energy price (what the utility invoices) |
| grid export | kWh | the feed-in price (revenue) |
| PV generation | kWh | the band's energy price (the value of the PV power) |
| sub-meters, chargers | kWh | the band's energy price (tenant bills) |
| gas meters | m3 | the gas price |
| heat meters | GJ | the heat price |

Each main meter's import is also added per 15-minute window of the month: the month's highest
window mean is the demand a two-part tariff charges.

Pieces that fall before the first tariff version are kept in an extra "unpriced" row.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from parktwin.park.tariffs import Tariffs
from parktwin.park.twin import Retention
from parktwin.periods import GRANULARITIES, Calendar, Granularity, split
from tariffs.timeline import WINDOW_MS, Segments, Timeline
from twin.model.topology import Flow, Topology

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

ENERGY, FEED_IN, GAS, HEAT = 0, 1, 2, 3
PRICE_OF: dict[Flow, int] = {
    Flow.GRID_IMPORT_KWH: ENERGY,
    Flow.GRID_EXPORT_KWH: FEED_IN,
    Flow.PV_KWH: ENERGY,
    Flow.ELECTRICITY_KWH: ENERGY,
    Flow.GAS_M3: GAS,
    Flow.HEAT_GJ: HEAT,
}


# The cost ledger holds a row per band (and one unpriced) for every priced meter, several times
# the period ledger's numbers: it keeps at most two local days of hours and two months of days,
# whatever the twin's retention (a report's replay keeps 800 days of per-meter totals).
COST_HOURS, COST_DAYS = 50, 62


def cost_retention(retention: Retention) -> Retention:
    """How many periods the cost ledger keeps, under the twin's retention."""
    return Retention(
        hours=min(retention.hours, COST_HOURS),
        days=min(retention.days, COST_DAYS),
        months=retention.months,
        years=retention.years,
    )


@dataclass
class CostLedger:
    """Per granularity and period start: amount and cost per (band row, priced flow); the last
    row holds what no tariff priced. ``demand[month_start]`` is the import (kWh) of each main
    meter in each 15-minute window of the month, shape (windows, main meters).

    ``revision[granularity][start]`` numbers, per band row, the last change of that row (from
    ``changes``, which counts every change): a reader that keeps sums of a period's rows
    (``keep_sums``, e.g. the cost report's place totals) recomputes only the
    rows whose number moved since; a row numbered 0 was never added to and holds zeros
    (``rows_in_use``). A period without a revision (one read from a checkpoint) gets one at its
    next change; until then readers recompute it whole."""

    rows: int
    priced: int
    mains: int
    amount: dict[Granularity, dict[int, Floats]] = field(
        default_factory=lambda: {g: {} for g in GRANULARITIES}
    )
    yuan: dict[Granularity, dict[int, Floats]] = field(
        default_factory=lambda: {g: {} for g in GRANULARITIES}
    )
    demand: dict[int, Floats] = field(default_factory=dict)
    changes: int = 0
    revision: dict[Granularity, dict[int, Ints]] = field(
        default_factory=lambda: {g: {} for g in GRANULARITIES}
    )
    sums: dict[tuple[Granularity, int], dict[Hashable, Any]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def table(self, granularity: Granularity, start_ms: int) -> tuple[Floats, Floats]:
        """Amount and cost of one period (zeros when nothing was counted in it)."""
        amount = self.amount[granularity].get(start_ms)
        if amount is None:
            zero = np.zeros((self.rows, self.priced))
            return zero, zero
        return amount, self.yuan[granularity][start_ms]

    def keep_sums(self, granularity: Granularity, start_ms: int, key: Hashable, sums: Any) -> None:
        """Keep a reader's sums of one period, dropping its sums of the granularity's other
        periods: readers ask for the current periods tick after tick, and a hundred hours of
        place sums at 100,000 devices would hold hundreds of MB."""
        for period, kept in self.sums.items():
            if period[0] is granularity and period[1] != start_ms:
                kept.pop(key, None)
        self.sums.setdefault((granularity, start_ms), {})[key] = sums

    def rows_in_use(self, granularity: Granularity, start_ms: int) -> Ints:
        """The band rows of a period that may hold figures other than zero, in order."""
        revision = self.revision[granularity].get(start_ms)
        if revision is None:
            return np.arange(self.rows)
        return np.flatnonzero(revision)

    def add_rows(
        self, granularity: Granularity, start_ms: int, rows: dict[int, tuple[Floats, Floats]]
    ) -> None:
        """Add amounts and costs (each over the priced flows) to band rows of one period."""
        amount = self.amount[granularity].get(start_ms)
        if amount is None:
            amount = self.amount[granularity][start_ms] = np.zeros((self.rows, self.priced))
            yuan = self.yuan[granularity][start_ms] = np.zeros((self.rows, self.priced))
            # A new period: its rows are zeros, and stay so until added to (revision 0).
            self.revision[granularity][start_ms] = np.zeros(self.rows, dtype=np.int64)
        else:
            yuan = self.yuan[granularity][start_ms]
        self.changes += 1
        revision = self.revision[granularity].get(start_ms)
        if revision is None:
            # Read from a checkpoint: every row counts as changed and in use.
            revision = self.revision[granularity][start_ms] = np.full(self.rows, self.changes)
        for row, (added, priced) in rows.items():
            amount[row] += added
            yuan[row] += priced
            revision[row] = self.changes

    def prune_before(self, oldest: dict[Granularity, int]) -> None:
        """Drop periods older than the oldest kept of their granularity (as the ledger does)."""
        for granularity in GRANULARITIES:
            first = oldest[granularity]
            for table in (self.amount[granularity], self.yuan[granularity]):
                for start in [s for s in table if s < first]:
                    del table[start]
            revisions = self.revision[granularity]
            for start in [s for s in revisions if s < first]:
                del revisions[start]
        for key in [k for k in self.sums if k[1] < oldest[k[0]]]:
            del self.sums[key]
        for start in [s for s in self.demand if s < oldest[Granularity.MONTH]]:
            del self.demand[start]


@dataclass(frozen=True)
class CostPlan:
    """Which flows are priced and how: made once per twin from its topology and tariffs."""

    timeline: Timeline  # the park's tariff
    meter_timelines: dict[str, Timeline]  # meters on tariffs of their own
    flow_timeline: Ints  # per priced column: 0 the park's tariff, i > 0 the i-th meter tariff
    priced_index: Ints  # per flow: its column among priced flows, -1 when not priced
    priced_flows: Ints  # per priced column: its flow
    price_kind: Ints  # per priced column: ENERGY, FEED_IN, GAS or HEAT
    main_index: Ints  # per priced column: its main meter's index, -1 when not a main import
    main_ids: list[str]  # the main meters whose import is the park's demand
    priced_keys: list[str]  # per priced column: its flow's key (device|quantity); never changed

    @property
    def rows(self) -> int:
        return len(self.timeline.band_names) + 1

    @property
    def timelines(self) -> list[Timeline]:
        """The park's timeline, then each meter tariff's, as ``flow_timeline`` numbers them."""
        return [self.timeline, *self.meter_timelines.values()]

    @classmethod
    def of(cls, topology: Topology, tariffs: Tariffs, tz: ZoneInfo) -> CostPlan:
        timeline = Timeline(tariffs, tz)
        meters = {m: Timeline(tariffs, tz, t.versions) for m, t in tariffs.meters.items()}
        number = {meter: i + 1 for i, meter in enumerate(meters)}
        priced_flows: list[int] = []
        kinds: list[int] = []
        mains: list[int] = []
        main_ids: list[str] = []
        index = np.full(len(topology.flow_keys), -1, dtype=np.int64)
        for flow, flow_type in enumerate(topology.flow_type.tolist()):
            kind = PRICE_OF.get(Flow(flow_type))
            if kind is None:
                continue
            index[flow] = len(priced_flows)
            priced_flows.append(flow)
            kinds.append(kind)
            if flow_type == Flow.GRID_IMPORT_KWH:
                mains.append(len(main_ids))
                main_ids.append(topology.device_ids[topology.flow_device[flow]])
            else:
                mains.append(-1)
        owners = [topology.device_ids[topology.flow_device[f]] for f in priced_flows]
        return cls(
            timeline,
            meters,
            np.asarray([number.get(owner, 0) for owner in owners], dtype=np.int64),
            index,
            np.asarray(priced_flows, dtype=np.int64),
            np.asarray(kinds, dtype=np.int64),
            np.asarray(mains, dtype=np.int64),
            main_ids,
            [topology.flow_keys[f] for f in priced_flows],
        )

    def empty(self) -> CostLedger:
        return CostLedger(self.rows, len(self.priced_flows), len(self.main_ids))


def window_count(calendar: Calendar, month_ms: int) -> int:
    """15-minute windows in the local month starting at ``month_ms``."""
    end = calendar.shift(Granularity.MONTH, month_ms, 1)
    return -(-(end - month_ms) // WINDOW_MS)


def add_costs(
    ledger: CostLedger,
    plan: CostPlan,
    calendar: Calendar,
    flow: Ints,
    t0_ms: Ints,
    t1_ms: Ints,
    amount: Floats,
    shortcuts: bool = True,
) -> None:
    """Price the consumption ``amount`` of each flow over (t0, t1] and add it to the ledger.

    ``shortcuts=False`` takes the general path whatever the readings (split at every segment,
    filed period by period), kept to check the shortcuts against: the same figures to the bit."""
    column = plan.priced_index[flow]
    keep = np.flatnonzero(column >= 0)
    if not len(keep):
        return
    column, t0, t1, amount = column[keep], t0_ms[keep], t1_ms[keep], amount[keep]
    if not plan.meter_timelines:
        _add_priced(ledger, plan, plan.timeline, calendar, (column, t0, t1, amount), shortcuts)
        return
    which = plan.flow_timeline[column]
    for number, timeline in enumerate(plan.timelines):
        mine = np.flatnonzero(which == number)
        if len(mine):
            mine_only = (column[mine], t0[mine], t1[mine], amount[mine])
            _add_priced(ledger, plan, timeline, calendar, mine_only, shortcuts)


def _add_priced(
    ledger: CostLedger,
    plan: CostPlan,
    timeline: Timeline,
    calendar: Calendar,
    consumption: tuple[Ints, Ints, Ints, Floats],
    shortcuts: bool,
) -> None:
    """``add_costs`` of priced columns that one timeline prices: ``consumption`` is each
    column, its t0 and t1, its amount."""
    column, t0, t1, amount = consumption
    segments = timeline.segments(int(t0.min()), int(t1.max()))
    first = int(np.searchsorted(segments.bounds, t0.min(), side="right")) - 1
    if shortcuts and first == int(np.searchsorted(segments.bounds, t1.max(), side="left")) - 1:
        _add_in_one_segment(ledger, plan, calendar, segments, first, (column, amount))
        return
    pieces = split(segments.bounds, t0, t1, amount)
    segment = pieces.period
    col = column[pieces.item]
    prices = np.stack(
        (segments.energy_price, segments.feed_in_price, segments.gas_price, segments.heat_price)
    )
    cost = pieces.amount * prices[plan.price_kind[col], segment]
    band = segments.band[segment]
    row = np.where(band >= 0, band, plan.rows - 1)
    # Each segment lies in one hour, day, month and year. Pieces all in one hour (a tick's
    # readings nearly always are) are the same pieces in its day, month and year: add them up
    # once and file the sums four times; else file them by each granularity's periods.
    hour = Granularity.HOUR
    at_ms = int(segments.bounds[segment.min()])
    last_ms = int(segments.bounds[segment.max()])
    one_hour = calendar.start_of(hour, at_ms) == calendar.start_of(hour, last_ms)
    if one_hour and shortcuts:
        sums = _row_sums(ledger, row, col, pieces.amount, cost)
        for granularity in GRANULARITIES:
            ledger.add_rows(granularity, calendar.start_of(granularity, at_ms), sums)
    else:
        _file_by_period(ledger, calendar, segments.bounds, segment, row, col, pieces.amount, cost)
    _add_demand(ledger, plan, calendar, segments.bounds[segment], col, pieces.amount)


def _add_in_one_segment(
    ledger: CostLedger,
    plan: CostPlan,
    calendar: Calendar,
    segments: Segments,
    segment: int,
    consumption: tuple[Ints, Floats],
) -> None:
    """``_add_priced`` when every interval lies in one segment (a tick's readings mostly do):
    nothing to split, one band and one price a kind, one period a granularity, one window.
    The same products and sums as the general path, in the same order."""
    col, amount = consumption
    prices = np.asarray(
        [
            segments.energy_price[segment],
            segments.feed_in_price[segment],
            segments.gas_price[segment],
            segments.heat_price[segment],
        ]
    )
    cost = amount * prices[plan.price_kind[col]]
    band = int(segments.band[segment])
    row = band if band >= 0 else plan.rows - 1
    added = np.asarray(np.bincount(col, weights=amount, minlength=ledger.priced), np.float64)
    priced = np.asarray(np.bincount(col, weights=cost, minlength=ledger.priced), np.float64)
    at_ms = int(segments.bounds[segment])
    for granularity in GRANULARITIES:
        ledger.add_rows(granularity, calendar.start_of(granularity, at_ms), {row: (added, priced)})
    _add_demand(ledger, plan, calendar, np.broadcast_to(at_ms, col.shape), col, amount)


def _add_demand(
    ledger: CostLedger,
    plan: CostPlan,
    calendar: Calendar,
    seg_start: Ints,
    col: Ints,
    amount: Floats,
) -> None:
    """Add each main meter's import to its 15-minute window of the month (``seg_start``:
    each piece's segment start)."""
    main = plan.main_index[col]
    is_main = np.flatnonzero(main >= 0)
    if not len(is_main):
        return
    starts = seg_start[is_main]
    window = starts - np.mod(starts, WINDOW_MS)  # quarter hours are UTC-aligned too
    months = {s: calendar.start_of(Granularity.MONTH, s) for s in np.unique(window).tolist()}
    month_of = np.asarray([months[w] for w in window.tolist()], dtype=np.int64)
    for month in np.unique(month_of).tolist():
        mask = month_of == month
        table = ledger.demand.get(month)
        if table is None:
            table = ledger.demand[month] = np.zeros((window_count(calendar, month), ledger.mains))
        slot = (window[mask] - month) // WINDOW_MS
        np.add.at(table, (slot, main[is_main][mask]), amount[is_main][mask])


def _row_sums(
    ledger: CostLedger, row: Ints, col: Ints, amount: Floats, cost: Floats
) -> dict[int, tuple[Floats, Floats]]:
    """Per band row present, each priced flow's amount and cost (pieces added in their order)."""
    lowest = int(row.min())
    if lowest == int(row.max()):
        added = np.bincount(col, weights=amount, minlength=ledger.priced)
        priced = np.bincount(col, weights=cost, minlength=ledger.priced)
        return {lowest: (np.asarray(added, np.float64), np.asarray(priced, np.float64))}
    rows = np.unique(row)
    size = ledger.rows * ledger.priced
    cell = row * ledger.priced + col
    added_all = np.bincount(cell, weights=amount, minlength=size).reshape(ledger.rows, -1)
    priced_all = np.bincount(cell, weights=cost, minlength=size).reshape(ledger.rows, -1)
    return {r: (added_all[r], priced_all[r]) for r in rows.tolist()}


def _file_by_period(
    ledger: CostLedger,
    calendar: Calendar,
    bounds: Ints,
    segment: Ints,
    row: Ints,
    col: Ints,
    amount: Floats,
    cost: Floats,
) -> None:
    """Add pieces to the periods of every granularity their segments lie in, period by period
    (the general path: pieces over several hours)."""
    present = np.unique(segment)
    starts = bounds[present].tolist()
    for granularity in GRANULARITIES:
        period_of = np.asarray([calendar.start_of(granularity, s) for s in starts], dtype=np.int64)
        piece_period = period_of[np.searchsorted(present, segment)]
        for start in np.unique(piece_period).tolist():
            mask = piece_period == start
            ledger.add_rows(
                granularity,
                start,
                _row_sums(ledger, row[mask], col[mask], amount[mask], cost[mask]),
            )
