"""The cost part of a snapshot: each current period's cost by band and by charge, for the park
and for every zone, building, enterprise and priced meter, and the month's demand.

Figures (``docs/tariffs.md`` has the rules):
- park ``energy_yuan``: the main meters' import priced by band (what the utility invoices);
- ``basic_yuan``: the month's basic charge as if the month ended now (month and year periods
  only: the basic charge is monthly; a year adds up the months the twin keeps);
- ``gas_yuan``, ``heat_yuan``: every gas and heat meter that no parent already counts; heat
  only when the tariff says the park buys it (``heat_purchased``), else heat is resold, not bought;
- ``feed_in_revenue_yuan``: export at the feed-in price, taken off the total;
- ``pv_savings_yuan``: PV used on site, valued per band at the price PV power had in that band;
- ``carbon_yuan``: the period's CO2 (Scope 1 and location-based Scope 2, as in the place
  totals) at the carbon price; ``green_yuan``: certificates and green-power premiums (months).
Places (zones, buildings, enterprises) carry their sub-metered electricity, gas and heat.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise, repeat
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from parktwin.park.tariffs import DemandCharge
from parktwin.periods import GRANULARITIES, Granularity
from tariffs.charges import BasicCharge, combined, month_basic_charge
from tariffs.timeline import WINDOW_MS, Timeline
from twin.indicators.carbon import location_co2_t
from twin.model.columns import Column, Columns
from twin.model.costs import CostPlan
from twin.model.topology import N_FLOWS, Flow, Level

if TYPE_CHECKING:
    from parktwin.park.model import Park
    from parktwin.park.tariffs import TariffVersion
    from parktwin.park.twin import TwinSettings
    from parktwin.periods import Calendar
    from twin.model.live import LiveState
    from twin.model.topology import Topology

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


class View(Protocol):
    """What the cost report reads of the state at its watermark (``StateAtWatermark``)."""

    park: Park
    settings: TwinSettings
    topology: Topology
    calendar: Calendar
    state: LiveState

    @property
    def watermark_ms(self) -> int: ...

    def start(self, granularity: Granularity, offset: int = 0) -> int: ...

    def label(self, granularity: Granularity, start_ms: int) -> str: ...

    def park_flows(self, granularity: Granularity, start_ms: int) -> Floats: ...

    def months_of_year(self, year_start_ms: int) -> list[int]: ...


@dataclass(frozen=True, slots=True)
class BandCost:
    """Energy and its cost in one band."""

    band: str
    kwh: float
    yuan: float


PLACE_COST_FIELDS = ("electricity_kwh", "energy_yuan", "gas_m3", "gas_yuan", "heat_gj",
                     "heat_yuan", "total_yuan")  # fmt: skip


class CostTable:
    """What each zone, building or enterprise used and what it cost in a period, as one array:
    the PLACE_COST_FIELDS, then ``<band>_kwh`` and ``<band>_yuan`` of its sub-metered electricity.

    Rows are made on demand (a park of 10,000 devices has some 2,500 places a period): ``rows``
    gives each place's fields as a dict with its ``id``, the JSON form.
    """

    __slots__ = ("ids", "names", "values")

    def __init__(self, ids: list[str], names: tuple[str, ...], values: Floats) -> None:
        self.ids, self.names, self.values = ids, names, values

    def __len__(self) -> int:
        return len(self.ids)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CostTable):
            return NotImplemented
        return (self.ids, self.names) == (other.ids, other.names) and np.array_equal(
            self.values, other.values
        )

    __hash__ = None  # type: ignore[assignment]

    def rows(self) -> list[dict[str, Any]]:
        """Each place's fields as plain data."""
        rows: list[list[Any]] = self.values.tolist()
        for place, row in zip(self.ids, rows, strict=True):
            row.insert(0, place)
        # map/zip run in C: a third of the time of a comprehension that builds each dict.
        return list(map(dict, map(zip, repeat(("id", *self.names)), rows)))

    def get(self, place_id: str) -> dict[str, float] | None:
        """One place's fields, or None when the table lacks it."""
        if place_id not in self.ids:
            return None
        row = self.values[self.ids.index(place_id)].tolist()
        return dict(zip(self.names, row, strict=True))


@dataclass(frozen=True, slots=True)
class ParkCost:
    """The park's cost in a period, by charge."""

    grid_import_kwh: float
    energy_yuan: float
    bands: list[BandCost]  # the import by band
    unpriced_kwh: float  # import before the first tariff version
    basic_yuan: float
    basic_kind: str
    gas_m3: float
    gas_yuan: float
    heat_gj: float
    heat_yuan: float
    grid_export_kwh: float
    feed_in_revenue_yuan: float
    pv_kwh: float
    pv_self_use_kwh: float
    pv_savings_yuan: float
    co2_t: float
    carbon_yuan: float
    green_yuan: float
    total_yuan: float  # energy + basic + gas + heat + carbon + green - feed-in revenue


class MeterCosts(Columns):
    """Each priced meter's amount (kWh, m3 or GJ) and cost in a period, as columns: kept as
    arrays and made into lists when read (a park of 10,000 devices has some 9,000 priced
    flows a period, and a tick's outputs read none of them)."""

    __slots__ = ()

    keys: Column[str] = Column()  # device|quantity
    amount: Column[float] = Column()
    yuan: Column[float] = Column()

    def __init__(self, keys: list[str], amount: Floats, yuan: Floats) -> None:
        """``keys`` is shared, never changed; ``amount`` and ``yuan`` are owned by the table."""
        super().__init__({"keys": keys.copy, "amount": amount.tolist, "yuan": yuan.tolist})


@dataclass(frozen=True, slots=True)
class PeriodCost:
    granularity: str
    label: str
    start_ms: int
    end_ms: int
    park: ParkCost
    zones: CostTable
    buildings: CostTable
    enterprises: CostTable
    meters: MeterCosts


@dataclass(frozen=True, slots=True)
class MeterDemand:
    meter: str
    max_kw: float
    at_ms: int | None
    contracted_kw: float | None
    window_kwh: float  # the current window so far


@dataclass(frozen=True, slots=True)
class MonthDemand:
    """A month's 15-minute demand: each window's mean kW of the main meters together, the
    highest window, each main meter's own highest, and the basic charge it makes (contracts,
    the 105 % threshold, the excess, per supply point)."""

    month: str
    start_ms: int
    window_min: int
    park_kw: list[float]  # per window of the month, from its start
    max_kw: float
    at_ms: int | None  # start of the highest window
    contracted_kw: float | None  # the sum over main meters, when a demand tariff holds
    meters: list[MeterDemand]
    basic: BasicCharge


@dataclass(frozen=True, slots=True)
class DemandReport:
    """The month's highest 15-minute mean demand so far and the window now running."""

    month: str
    window_min: int
    max_kw: float  # the park's (sum of its main meters in the same window)
    at_ms: int | None  # start of that window
    at_local: str | None
    contracted_kw: float | None  # the sum over main meters, when a demand tariff holds
    meters: list[MeterDemand]
    window_start_ms: int
    window_elapsed_s: float
    window_kwh: float
    window_projected_kw: float | None  # the window's mean if the latest power holds to its end
    basic: BasicCharge


@dataclass(frozen=True, slots=True)
class CostReport:
    currency: str
    tariff_source: str | None
    tariff_example: bool | None
    valid_from: str | None
    band_now: str | None
    price_now_yuan_per_kwh: float
    periods: dict[str, PeriodCost]
    demand: DemandReport


@dataclass(frozen=True)
class LevelTotals:
    """A period's amounts and costs per place of one level: shape (rows, places, N_FLOWS).
    The arrays may be the ledger's kept sums: read them, never write them."""

    amount: Floats
    yuan: Floats
    rows_in_use: Ints | None = None  # the band rows that may hold non-zeros (None: all)


def sum_of_rows(values: Floats, rows_in_use: Ints | None) -> Floats:
    """``values.sum(axis=0)`` (the band rows added in order) adding only the rows in use: the
    others hold zeros, and adding a zero changes no figure (none here is -0.0, as every sum
    starts from +0.0), so the result is the same to the bit."""
    if rows_in_use is None or len(rows_in_use) == len(values):
        return np.asarray(values.sum(axis=0), np.float64)
    if not len(rows_in_use):
        return np.zeros(values.shape[1:])
    return np.asarray(values[rows_in_use].sum(axis=0), np.float64)


@dataclass
class KeptLevelTotals:
    """A level's place sums of one period's band rows, as of the ledger's ``revision`` of it:
    shape (rows, places + 1, N_FLOWS), the last place the dump slot as in ``Places.totals``."""

    slot: npt.NDArray[np.int64]  # per priced flow, its place's slot
    revision: npt.NDArray[np.int64]
    amount: Floats
    yuan: Floats


def level_totals(
    view: View, plan: CostPlan, level: Level, g: Granularity, start: int
) -> LevelTotals:
    """Per band row, each place's amounts and costs (parent meters not counted twice).

    The sums of a period the ledger keeps are kept beside it and only the band rows changed
    since are added up again (a tick mostly adds to one band): each row's sums are the same
    additions in the same order as a sum of the whole table, so the figures are too."""
    costs = view.state.costs
    assert costs is not None
    amount, yuan = costs.table(g, start)
    places = view.topology.places[level]
    count = len(places.ids)
    revision = costs.revision[g].get(start)
    kept = costs.sums.get((g, start), {}).get(("places", level))
    if not isinstance(kept, KeptLevelTotals) or revision is None:
        slot = places.slot[plan.priced_flows]
        shape = (amount.shape[0], count + 1, N_FLOWS)
        kept = KeptLevelTotals(slot, np.full(amount.shape[0], -1), np.zeros(shape), np.zeros(shape))
        if revision is not None:
            costs.keep_sums(g, start, ("places", level), kept)
    stale = (
        range(amount.shape[0])
        if revision is None
        else np.flatnonzero(kept.revision != revision).tolist()
    )
    size = (count + 1) * N_FLOWS
    for row in stale:
        kept.amount[row] = np.bincount(kept.slot, weights=amount[row], minlength=size).reshape(
            count + 1, N_FLOWS
        )
        kept.yuan[row] = np.bincount(kept.slot, weights=yuan[row], minlength=size).reshape(
            count + 1, N_FLOWS
        )
    if revision is not None:
        kept.revision[:] = revision
    return LevelTotals(
        _read_only(kept.amount[:, :count, :]),
        _read_only(kept.yuan[:, :count, :]),
        costs.rows_in_use(g, start),
    )


def whole_level_totals(
    view: View, plan: CostPlan, level: Level, g: Granularity, start: int
) -> LevelTotals:
    """``level_totals`` from the whole table at once, nothing kept: the general path, kept to
    check the kept sums against."""
    costs = view.state.costs
    assert costs is not None
    amount, yuan = costs.table(g, start)
    places = view.topology.places[level]
    count = len(places.ids)
    size = (count + 1) * N_FLOWS  # as Places.totals: the last place is the dump slot
    rows = amount.shape[0]
    index = (np.arange(rows)[:, None] * size + places.slot[plan.priced_flows][None, :]).ravel()

    def add_up(values: Floats) -> Floats:
        summed = np.bincount(index, weights=values.ravel(), minlength=rows * size)
        return np.asarray(summed, np.float64).reshape(rows, count + 1, N_FLOWS)[:, :count, :]

    return LevelTotals(add_up(amount), add_up(yuan))


def _read_only(values: Floats) -> Floats:
    values.flags.writeable = False
    return values


def bands_of(plan: CostPlan, kwh: Floats, yuan: Floats) -> list[BandCost]:
    """Band rows (the priced ones) as BandCost."""
    return [
        BandCost(name, float(kwh[i]), float(yuan[i]))
        for i, name in enumerate(plan.timeline.band_names)
    ]


def place_costs(plan: CostPlan, ids: list[str], totals: LevelTotals) -> CostTable:
    """Each place's sub-metered electricity (by band), gas and heat, and their cost."""
    e, gas, heat = Flow.ELECTRICITY_KWH, Flow.GAS_M3, Flow.HEAT_GJ
    amount = sum_of_rows(totals.amount, totals.rows_in_use)
    yuan = sum_of_rows(totals.yuan, totals.rows_in_use)
    n = len(plan.timeline.band_names)
    total = yuan[:, e] + yuan[:, gas] + yuan[:, heat]
    columns = [amount[:, e], yuan[:, e], amount[:, gas], yuan[:, gas], amount[:, heat],
               yuan[:, heat], total]  # fmt: skip
    values = np.column_stack(
        [*columns, totals.amount[:n, :, e].T, totals.yuan[:n, :, e].T]
    ).reshape(len(ids), -1)
    names = plan.timeline.band_names
    return CostTable(
        ids,
        (*PLACE_COST_FIELDS, *(f"{b}_kwh" for b in names), *(f"{b}_yuan" for b in names)),
        values,
    )


def versions_in(
    view: View, timeline: Timeline, start: int, end: int
) -> list[tuple[TariffVersion, float]]:
    """The versions of a timeline valid in [start, end) with the share of that time each
    covers."""
    versions = timeline.versions
    cuts = [start]
    for version in versions:
        day = version.valid_from
        ms = view.calendar.parse_label(Granularity.DAY, day.isoformat())
        if start < ms < end:
            cuts.append(ms)
    cuts.append(end)
    result = []
    for a, b in pairwise(cuts):
        valid = timeline.version_at(a)
        if valid is not None:
            result.append((valid, (b - a) / (end - start)))
    return result


def month_demand(view: View, plan: CostPlan, month: int) -> tuple[Floats, int]:
    """Per main meter: each window's mean kW; and the park's best window (-1: none)."""
    costs = view.state.costs
    assert costs is not None
    table = costs.demand.get(month)
    if table is None:
        return np.zeros((0, len(plan.main_ids))), -1
    kw = table * (3_600_000 / WINDOW_MS)
    park = kw.sum(axis=1)
    return kw, int(np.argmax(park)) if park.any() else -1


def basic_of_month(view: View, plan: CostPlan, month: int) -> BasicCharge:
    end = view.calendar.shift(Granularity.MONTH, month, 1)
    kw, _ = month_demand(view, plan, month)
    maxima = {m: float(kw[:, i].max()) if len(kw) else 0.0 for i, m in enumerate(plan.main_ids)}
    imported = float(view.park_flows(Granularity.MONTH, month)[Flow.GRID_IMPORT_KWH])
    return combined(
        [
            month_basic_charge(versions_in(view, timeline, month, end), maxima, imported)
            for timeline in plan.timelines
        ]
    )


def kept_basic(
    view: View, plan: CostPlan, month: int, basics: dict[int, BasicCharge] | None
) -> BasicCharge:
    """``basic_of_month``, made once per ``basics`` (one report's months)."""
    if basics is None:
        return basic_of_month(view, plan, month)
    basic = basics.get(month)
    if basic is None:
        basic = basics[month] = basic_of_month(view, plan, month)
    return basic


def green_yuan(view: View, plan: CostPlan, months: list[int]) -> float:
    total = 0.0
    for month in months:
        label = view.label(Granularity.MONTH, month)
        reported = view.state.monthly.get(label)
        green = reported.green_power if reported and reported.green_power else None
        green = green if green is not None else view.settings.green_power.get(label)
        version = plan.timeline.version_at(month)
        if green is None or version is None:
            continue
        total += green.certificates * version.green_certificate_yuan
        total += green.direct_kwh * version.green_power_premium_yuan_per_kwh
    return total


def park_cost(
    view: View,
    plan: CostPlan,
    g: Granularity,
    start: int,
    end: int,
    basics: dict[int, BasicCharge] | None = None,
) -> ParkCost:
    """The park's cost in a period; ``basics`` keeps each month's basic charge for the other
    periods of the same report (the month, the year and the demand all need the current one)."""
    totals = level_totals(view, plan, Level.PARK, g, start)
    amount, yuan = totals.amount[:, 0, :], totals.yuan[:, 0, :]
    n = len(plan.timeline.band_names)
    imp, exp, pv = Flow.GRID_IMPORT_KWH, Flow.GRID_EXPORT_KWH, Flow.PV_KWH
    pv_kwh, exp_kwh = amount[:n, pv], amount[:n, exp]
    self_use = np.maximum(pv_kwh - exp_kwh, 0.0)
    mean_price = np.divide(yuan[:n, pv], pv_kwh, out=np.zeros(n), where=pv_kwh > 0)
    if g in (Granularity.MONTH, Granularity.YEAR):
        # The basic charge of the months the twin has counted something in (not of months
        # before it started).
        kept = view.state.costs.amount[Granularity.MONTH] if view.state.costs else {}
        months = (
            [start]
            if g is Granularity.MONTH
            else [m for m in view.months_of_year(start) if m in kept]
        )
        charges = [kept_basic(view, plan, m, basics) for m in months]
        basic = sum(c.charge_yuan for c in charges)
        kind = charges[-1].kind if charges else "none"
        green = green_yuan(view, plan, months)
    else:
        basic, kind, green = 0.0, "none", 0.0
    flows = view.park_flows(g, start)
    # Scope 1 and location-based Scope 2, as the place totals have it.
    co2 = float(location_co2_t(flows[Flow.ELECTRICITY_KWH], flows, view.settings))
    version = plan.timeline.version_at(max(start, min(view.watermark_ms, end - 1)))
    carbon = co2 * version.carbon_yuan_per_t if version else 0.0
    heat_bought = plan.timeline.tariffs.heat_purchased
    energy = float(yuan[:, imp].sum())
    gas_yuan = float(yuan[:, Flow.GAS_M3].sum())
    heat_yuan = float(yuan[:, Flow.HEAT_GJ].sum()) if heat_bought else 0.0
    feed_in = float(yuan[:, exp].sum())
    return ParkCost(
        grid_import_kwh=float(amount[:, imp].sum()),
        energy_yuan=energy,
        bands=bands_of(plan, amount[:n, imp], yuan[:n, imp]),
        unpriced_kwh=float(amount[n, imp]),
        basic_yuan=basic,
        basic_kind=kind,
        gas_m3=float(amount[:, Flow.GAS_M3].sum()),
        gas_yuan=gas_yuan,
        heat_gj=float(amount[:, Flow.HEAT_GJ].sum()),
        heat_yuan=heat_yuan,
        grid_export_kwh=float(amount[:, exp].sum()),
        feed_in_revenue_yuan=feed_in,
        pv_kwh=float(amount[:, pv].sum()),
        pv_self_use_kwh=float(self_use.sum()),
        pv_savings_yuan=float((self_use * mean_price).sum()),
        co2_t=co2,
        carbon_yuan=carbon,
        green_yuan=green,
        total_yuan=energy + basic + gas_yuan + heat_yuan + carbon + green - feed_in,
    )


def period_cost(
    view: View,
    plan: CostPlan,
    g: Granularity,
    start: int | None = None,
    basics: dict[int, BasicCharge] | None = None,
) -> PeriodCost:
    """The cost of a period the twin keeps: the current one unless ``start`` names another
    (``basics``: as in ``park_cost``)."""
    if start is None:
        start = view.start(g)
    end = view.calendar.shift(g, start, 1)
    places = view.topology.places
    levels = {
        level: place_costs(plan, places[level].ids, level_totals(view, plan, level, g, start))
        for level in (Level.ZONE, Level.BUILDING, Level.ENTERPRISE)
    }
    costs = view.state.costs
    assert costs is not None
    amount, yuan = costs.table(g, start)
    in_use = costs.rows_in_use(g, start)
    return PeriodCost(
        granularity=g.value,
        label=view.label(g, start),
        start_ms=start,
        end_ms=end,
        park=park_cost(view, plan, g, start, end, basics),
        zones=levels[Level.ZONE],
        buildings=levels[Level.BUILDING],
        enterprises=levels[Level.ENTERPRISE],
        meters=MeterCosts(plan.priced_keys, sum_of_rows(amount, in_use), sum_of_rows(yuan, in_use)),
    )


def meter_peaks(
    plan: CostPlan,
    kw: Floats,
    month: int,
    contracted: dict[str, float],
    in_window: Floats | None,
) -> list[MeterDemand]:
    """Each main meter's highest window of the month, with its contract and (for the current
    month) its import in the window now running."""
    meters = []
    for i, meter in enumerate(plan.main_ids):
        column = kw[:, i] if len(kw) else np.zeros(0)
        top = int(np.argmax(column)) if column.any() else -1
        meters.append(
            MeterDemand(
                meter,
                float(column[top]) if top >= 0 else 0.0,
                month + top * WINDOW_MS if top >= 0 else None,
                contracted.get(meter),
                float(in_window[i]) if in_window is not None else 0.0,
            )
        )
    return meters


def month_demand_of(view: View, plan: CostPlan, month: int) -> MonthDemand:
    """The demand of any month the twin keeps (``demand_report`` is the current month's)."""
    kw, best = month_demand(view, plan, month)
    basic = basic_of_month(view, plan, month)
    contracts = {bill.meter: bill.contracted_kw for bill in basic.demand}
    meters = meter_peaks(plan, kw, month, contracts, None)
    park = kw.sum(axis=1) if len(kw) else np.zeros(0)
    return MonthDemand(
        month=view.label(Granularity.MONTH, month),
        start_ms=month,
        window_min=WINDOW_MS // 60_000,
        park_kw=park.tolist(),
        max_kw=float(park[best]) if best >= 0 else 0.0,
        at_ms=month + best * WINDOW_MS if best >= 0 else None,
        contracted_kw=sum(contracts.values()) if contracts else None,
        meters=meters,
        basic=basic,
    )


def demand_report(
    view: View, plan: CostPlan, basics: dict[int, BasicCharge] | None = None
) -> DemandReport:
    """The current month's demand so far (``basics``: as in ``park_cost``)."""
    month = view.start(Granularity.MONTH)
    kw, best = month_demand(view, plan, month)
    now = view.watermark_ms
    window = now - now % WINDOW_MS
    if now % WINDOW_MS == 0:
        window -= WINDOW_MS  # a reading at the window's end closes that window
    slot = (window - month) // WINDOW_MS
    costs = view.state.costs
    assert costs is not None
    table = costs.demand.get(month)
    in_window = table[slot] if table is not None and 0 <= slot < len(table) else None
    elapsed_ms = now - window
    window_kwh = float(in_window.sum()) if in_window is not None else 0.0
    basic = kept_basic(view, plan, month, basics)
    contracted: dict[str, float] = {}
    for timeline in plan.timelines:
        version = timeline.version_at(now)
        if version is not None and isinstance(version.basic, DemandCharge):
            contracted |= version.basic.contracted_kw
    meters = meter_peaks(plan, kw, month, contracted, in_window)
    projected = None
    if elapsed_ms > 0:
        power = latest_import_kw(view, plan)
        rate_kw = power if power is not None else window_kwh * 3_600_000 / elapsed_ms
        rest_h = (WINDOW_MS - elapsed_ms) / 3_600_000
        projected = (window_kwh + rate_kw * rest_h) * 3_600_000 / WINDOW_MS
    at = month + best * WINDOW_MS if best >= 0 else None
    return DemandReport(
        month=view.label(Granularity.MONTH, month),
        window_min=WINDOW_MS // 60_000,
        max_kw=float(kw.sum(axis=1)[best]) if best >= 0 else 0.0,
        at_ms=at,
        at_local=view.calendar.local(at).isoformat() if at is not None else None,
        contracted_kw=sum(contracted.values()) if contracted else None,
        meters=meters,
        window_start_ms=window,
        window_elapsed_s=elapsed_ms / 1000,
        window_kwh=window_kwh,
        window_projected_kw=projected,
        basic=basic,
    )


def latest_import_kw(view: View, plan: CostPlan) -> float | None:
    """The main meters' latest power (kW), when every one of them has reported it."""
    topology, state = view.topology, view.state
    total = 0.0
    for meter in plan.main_ids:
        channel = topology.device_channels[topology.device_index[meter]].get("power_kw")
        if channel is None or state.last_ts[channel] == np.iinfo(np.int64).min:
            return None
        total += float(state.last_value[channel])
    return max(total, 0.0)


def cost_report(view: View, plan: CostPlan) -> CostReport:
    """The cost part of the snapshot at the view's watermark."""
    timeline = plan.timeline
    now = timeline.at(view.watermark_ms)
    basics: dict[int, BasicCharge] = {}
    version = timeline.version_at(view.watermark_ms)
    return CostReport(
        currency=timeline.tariffs.currency,
        tariff_source=version.source if version else None,
        tariff_example=version.example if version else None,
        valid_from=version.valid_from.isoformat() if version else None,
        band_now=now.band,
        price_now_yuan_per_kwh=now.energy_yuan_per_kwh,
        periods={g.value: period_cost(view, plan, g, basics=basics) for g in GRANULARITIES},
        demand=demand_report(view, plan, basics),
    )
