"""Compose a snapshot from the live state: current periods, carbon, indicators and evaluations."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from parktwin.park.model import Park
from parktwin.park.twin import TwinSettings
from parktwin.periods import GRANULARITIES, Calendar, Granularity
from twin.indicators.carbon import (
    CarbonAccount,
    combine,
    location_co2_t,
    month_account,
    progress,
    sinks_co2_t,
)
from twin.indicators.energy import EnergyBalance, energy_balance, tce_by_carrier
from twin.indicators.enterprises import (
    EnterpriseEvaluation,
    PeriodFinancials,
    evaluate,
    park_financials,
)
from twin.indicators.green_park import GreenParkReport, green_park_report
from twin.indicators.occupancy import HourTotals, OccupancyReport, occupancy_report
from twin.indicators.zero_carbon import ZeroCarbonReport, zero_carbon_report
from twin.model.columns import ChannelTable, DeviceStatus, DeviceTable, FlowTable
from twin.model.costs import CostPlan
from twin.model.counters import NEVER
from twin.model.live import LiveState
from twin.model.topology import Flow, Level, Topology
from twin.state.cost_report import cost_report
from twin.state.snapshot import PeriodReport, PlaceTable, TwinSnapshot

Floats = npt.NDArray[np.float64]

# The flow columns of PlaceTotals, in its field order.
PLACE_FLOWS = (
    Flow.ELECTRICITY_KWH,
    Flow.PV_KWH,
    Flow.CHARGE_KWH,
    Flow.DISCHARGE_KWH,
    Flow.GAS_M3,
    Flow.HEAT_GJ,
    Flow.DIESEL_KG,
    Flow.WATER_M3,
    Flow.STACK_CO2_KG,
    Flow.PERSON_H,
)


def status_codes(
    watermark_ms: int,
    last_seen_ms: npt.NDArray[np.int64],
    interval_ms: Floats,
    settings: TwinSettings,
    offline_ms: npt.NDArray[np.int64] | None = None,
) -> npt.NDArray[np.int64]:
    """Each device's ``DeviceStatus`` code (online, stale, offline, never_seen), by the time
    since its last reading at the watermark; a device declared offline (a Sparkplug death) at or
    after its last reading is offline."""
    seen = last_seen_ms != NEVER
    age = np.where(seen, watermark_ms - np.where(seen, last_seen_ms, 0), 0).astype(np.float64)
    rules = settings.status
    code = np.where(
        age <= rules.stale_after_intervals * interval_ms,
        DeviceStatus.ONLINE,
        np.where(
            age <= rules.offline_after_intervals * interval_ms,
            DeviceStatus.STALE,
            DeviceStatus.OFFLINE,
        ),
    )
    if offline_ms is not None:
        declared = (offline_ms != NEVER) & (offline_ms >= last_seen_ms)
        code = np.where(declared, DeviceStatus.OFFLINE, code)
    return np.where(seen, code, DeviceStatus.NEVER_SEEN)


@dataclass
class StateAtWatermark:
    """The live state read at its watermark; caches what several reports share."""

    park: Park
    settings: TwinSettings
    topology: Topology
    calendar: Calendar
    state: LiveState
    _starts: dict[tuple[Granularity, int], int] = field(default_factory=dict, init=False)
    _totals: dict[tuple[Level, Granularity, int], Floats] = field(default_factory=dict, init=False)
    _money: dict[tuple[int, tuple[str, ...]], list[PeriodFinancials | None]] = field(
        default_factory=dict, init=False
    )

    @property
    def watermark_ms(self) -> int:
        return self.state.watermark_ms

    @cached_property
    def status_code(self) -> npt.NDArray[np.int64]:
        """Each device's status code (see ``status_codes``)."""
        topology = self.topology
        state = self.state
        return status_codes(
            self.watermark_ms,
            state.last_seen_ms,
            topology.interval_ms,
            self.settings,
            state.offline_ms,
        )

    def start(self, granularity: Granularity, offset: int = 0) -> int:
        key = (granularity, offset)
        found = self._starts.get(key)
        if found is None:
            current = self.calendar.start_of(granularity, self.watermark_ms)
            found = self.calendar.shift(granularity, current, offset) if offset else current
            self._starts[key] = found
        return found

    def flows(self, granularity: Granularity, start_ms: int) -> Floats:
        return self.state.ledger.totals(granularity, start_ms)

    def place_totals(self, level: Level, granularity: Granularity, start_ms: int) -> Floats:
        """Per-place totals of one period at one level (``Places.totals``), made once; read
        only."""
        key = (level, granularity, start_ms)
        found = self._totals.get(key)
        if found is None:
            found = self.topology.places[level].totals(self.flows(granularity, start_ms))
            self._totals[key] = found
        return found

    def park_flows(self, granularity: Granularity, start_ms: int) -> Floats:
        return self.place_totals(Level.PARK, granularity, start_ms)[0]

    def balance(self, granularity: Granularity, start_ms: int) -> EnergyBalance:
        conversion = self.settings.conversion
        return energy_balance(
            self.park_flows(granularity, start_ms), conversion, conversion.electricity_basis
        )

    def months_of_year(self, year_start_ms: int) -> list[int]:
        """Month starts of a year, up to the watermark's month."""
        months: list[int] = []
        current = self.start(Granularity.MONTH)
        start = year_start_ms
        while start <= current and len(months) < 12:
            months.append(start)
            start = self.calendar.shift(Granularity.MONTH, start, 1)
        return months

    def money(self, year: int, months: list[str]) -> list[PeriodFinancials | None]:
        """Every enterprise's financial figures for a year (see ``financials``), worked out once."""
        key = (year, tuple(months))
        if key not in self._money:
            self._money[key] = park_financials(
                self.park.enterprises, year, months, self.settings, self.state.monthly
            )
        return self._money[key]

    def label(self, granularity: Granularity, start_ms: int) -> str:
        return self.calendar.label(granularity, start_ms)

    def account(self, month_ms: int) -> CarbonAccount:
        """The carbon account of one month, with its green power, offsets and sinks."""
        label = self.label(Granularity.MONTH, month_ms)
        reported = self.state.monthly.get(label)
        green = reported.green_power if reported and reported.green_power else None
        offsets = (
            reported.offsets_t_co2 if reported and reported.offsets_t_co2 is not None else None
        )
        end = self.calendar.shift(Granularity.MONTH, month_ms, 1)
        year = self.calendar.start_of(Granularity.YEAR, month_ms)
        year_ms = self.calendar.shift(Granularity.YEAR, year, 1) - year
        elapsed = max(min(end, self.watermark_ms) - month_ms, 0)
        return month_account(
            self.park_flows(Granularity.MONTH, month_ms),
            green if green is not None else self.settings.green_power.get(label),
            offsets if offsets is not None else self.settings.offsets_t_co2.get(label, 0.0),
            sinks_co2_t(self.settings.sinks, elapsed, year_ms),
            self.settings,
        )

    @cached_property
    def accounts(self) -> dict[int, CarbonAccount]:
        """Accounts of every month the ledger holds, and of the current one, oldest first."""
        starts = sorted(
            {*self.state.ledger.periods[Granularity.MONTH], self.start(Granularity.MONTH)}
        )
        return {start: self.account(start) for start in starts if start <= self.watermark_ms}


def place_values(totals: Floats, settings: TwinSettings) -> Floats:
    """PlaceTotals' number columns of places' flow totals (a row each): the flows it lists,
    then tce and Scope 1 + location Scope 2 CO2."""
    conversion = settings.conversion
    electricity = totals[:, Flow.ELECTRICITY_KWH]
    tce = sum(tce_by_carrier(electricity, totals, conversion, conversion.electricity_basis))
    co2 = location_co2_t(electricity, totals, settings) + np.zeros(len(totals))
    columns = [int(f) for f in PLACE_FLOWS]
    return np.column_stack((totals[:, columns], tce, co2))


PERIOD_LEVELS = (Level.BUILDING, Level.ZONE, Level.ENTERPRISE)


def period_reports(at_mark: StateAtWatermark) -> dict[str, PeriodReport]:
    """The current period of each granularity: the park's balance and every place's totals."""
    places = at_mark.topology.places
    starts = {g: at_mark.start(g) for g in GRANULARITIES}
    totals = [
        at_mark.place_totals(level, g, starts[g]) for g in GRANULARITIES for level in PERIOD_LEVELS
    ]
    # Every place of every period in one go (the same arithmetic row by row), then cut apart.
    values = place_values(np.concatenate(totals), at_mark.settings)
    cuts = np.cumsum([len(t) for t in totals])[:-1]
    tables = [
        PlaceTable(places[level].ids, part)
        for level, part in zip(
            PERIOD_LEVELS * len(GRANULARITIES), np.split(values, cuts), strict=True
        )
    ]
    reports = {}
    for i, g in enumerate(GRANULARITIES):
        buildings, zones, enterprises = tables[
            i * len(PERIOD_LEVELS) : (i + 1) * len(PERIOD_LEVELS)
        ]
        reports[g.value] = PeriodReport(
            granularity=g.value,
            label=at_mark.label(g, starts[g]),
            start_ms=starts[g],
            end_ms=at_mark.start(g, 1),
            balance=at_mark.balance(g, starts[g]),
            buildings=buildings,
            zones=zones,
            enterprises=enterprises,
        )
    return reports


def band_energy(at_mark: StateAtWatermark, complete: list[int]) -> tuple[float, str]:
    """The annual energy that picks the park's size band, and where it comes from."""
    configured = at_mark.settings.zero_carbon.band_annual_energy_tce
    if configured is not None:
        return configured, "configured annual energy"
    recent = complete[-12:]
    if recent:
        total = sum(at_mark.balance(Granularity.MONTH, m).tce.energy_tce for m in recent)
        basis = (
            "last twelve complete months"
            if len(recent) == 12
            else f"{len(recent)} months scaled to twelve"
        )
        return total * 12 / len(recent), basis
    year = at_mark.start(Granularity.YEAR)
    elapsed = at_mark.watermark_ms - year
    year_ms = at_mark.start(Granularity.YEAR, 1) - year
    energy = at_mark.balance(Granularity.YEAR, year).tce.energy_tce
    return (energy * year_ms / elapsed if elapsed > 0 else 0.0), "year to date scaled to a year"


def value_added(
    at_mark: StateAtWatermark, year: int, months: list[str]
) -> tuple[float | None, str]:
    """The park's value added over the year (10k yuan), or None when an enterprise lacks it."""
    total, lacking = 0.0, []
    for enterprise, money in zip(
        at_mark.park.enterprises, at_mark.money(year, months), strict=True
    ):
        if money is None or money.value_added_10k_yuan is None:
            lacking.append(enterprise.id)
        else:
            total += money.value_added_10k_yuan
    if lacking or not at_mark.park.enterprises:
        return None, "value added missing for: " + ", ".join(lacking or ["(no enterprises)"])
    return total, "sum of the enterprises' value added"


def zero_and_green(
    at_mark: StateAtWatermark, year_account: CarbonAccount
) -> tuple[ZeroCarbonReport, GreenParkReport]:
    """The zero-carbon indicators and the green-park score of the year to date."""
    year_start = at_mark.start(Granularity.YEAR)
    month_starts = at_mark.months_of_year(year_start)
    months = [at_mark.label(Granularity.MONTH, m) for m in month_starts]
    balance = at_mark.balance(Granularity.YEAR, year_start)
    current_month = at_mark.start(Granularity.MONTH)
    complete = [m for m in at_mark.accounts if m < current_month]
    energy, basis = band_energy(at_mark, complete)
    year_label = at_mark.label(Granularity.YEAR, year_start)
    zero = zero_carbon_report(
        year_label,
        months,
        balance,
        year_account,
        energy,
        basis,
        at_mark.state.monthly,
        at_mark.settings,
    )
    added, note = value_added(at_mark, int(year_label), months)
    green = green_park_report(
        year_label,
        months,
        balance,
        year_account,
        added,
        note,
        at_mark.state.monthly,
        at_mark.settings,
    )
    return zero, green


def occupancy(at_mark: StateAtWatermark) -> OccupancyReport:
    """People per building now and over the local day so far."""
    topology, state = at_mark.topology, at_mark.state
    buildings = topology.places[Level.BUILDING]
    people_flows = topology.flows_of(Flow.PERSON_H)
    channels = topology.flow_channel[people_flows]
    # Online or stale, and read at least once.
    online = at_mark.status_code[topology.flow_device[people_flows]] <= DeviceStatus.STALE
    online &= state.last_ts[channels] != NEVER
    weights = np.zeros((3, len(topology.flow_keys)))
    weights[0, people_flows] = np.where(online, state.last_value[channels], 0.0)
    weights[1, people_flows] = online
    weights[2, people_flows] = 1.0
    persons, counted, installed = buildings.column_totals(list(weights), Flow.PERSON_H)
    day = at_mark.start(Granularity.DAY)
    day_end = at_mark.start(Granularity.DAY, 1)
    elapsed, flows = [], []
    for start, totals in sorted(state.ledger.periods[Granularity.HOUR].items()):
        if day <= start < day_end:
            end = at_mark.calendar.shift(Granularity.HOUR, start, 1)
            elapsed.append(max(min(end, at_mark.watermark_ms) - start, 0) / 3_600_000)
            flows.append(totals)
    hours = HourTotals(
        elapsed,
        buildings.column_totals(flows, Flow.PERSON_H),
        buildings.column_totals(flows, Flow.ELECTRICITY_KWH),
        buildings.column_totals(flows, Flow.KNOWN_H),
    )
    return occupancy_report(
        topology,
        at_mark.label(Granularity.DAY, day),
        persons,
        installed.astype(np.int64),
        counted.astype(np.int64),
        hours,
        at_mark.settings.occupancy.empty_below_persons,
        at_mark.settings.occupancy.min_known_pct / 100,
    )


def enterprise_evaluation(at_mark: StateAtWatermark) -> EnterpriseEvaluation:
    """Per-mu evaluation over the evaluation year (the watermark's year unless configured)."""
    year = at_mark.settings.per_mu.evaluation_year or int(
        at_mark.label(Granularity.YEAR, at_mark.start(Granularity.YEAR))
    )
    year_start = at_mark.calendar.parse_label(Granularity.YEAR, str(year))
    month_starts = [
        m
        for m in (at_mark.calendar.shift(Granularity.MONTH, year_start, i) for i in range(12))
        if m <= at_mark.watermark_ms
    ]
    labels = {at_mark.label(Granularity.MONTH, m): m for m in month_starts}
    months = list(labels)
    per_year = at_mark.place_totals(Level.ENTERPRISE, Granularity.YEAR, year_start)
    per_month: dict[str, Floats] = {}  # made when an enterprise reports by month
    flows = per_year.copy()
    money = at_mark.money(year, months)
    for i, figures in enumerate(money):
        if figures is not None and figures.months is not None:
            # The energy of the months the figures cover.
            for m in figures.months:
                if m not in per_month:
                    per_month[m] = at_mark.place_totals(
                        Level.ENTERPRISE, Granularity.MONTH, labels[m]
                    )
            flows[i] = sum((per_month[m][i] for m in figures.months), np.zeros(per_year.shape[1]))
    return evaluate(year, at_mark.park.enterprises, money, flows, at_mark.settings)


def channel_table(topology: Topology, state: LiveState) -> ChannelTable:
    """The latest value and time of every channel read so far."""
    return ChannelTable(
        topology.channel_keys,
        topology.channel_key_array,
        state.last_value.copy(),
        state.last_ts.copy(),
        state.last_ts != NEVER,
    )


def device_table(
    topology: Topology, state: LiveState, status: npt.NDArray[np.int64]
) -> DeviceTable:
    """Every device's kind, status, last reading time and counter resets."""
    return DeviceTable(
        topology.device_ids,
        topology.device_kind_value,
        status,
        state.last_seen_ms.copy(),
        state.resets.copy(),
    )


def build_snapshot(
    park: Park,
    settings: TwinSettings,
    topology: Topology,
    calendar: Calendar,
    state: LiveState,
    cost_plan: CostPlan | None = None,
) -> TwinSnapshot:
    """Everything the twin knows at the watermark of ``state``."""
    at_mark = StateAtWatermark(park, settings, topology, calendar, state)
    watermark = None if state.watermark_ms == NEVER else state.watermark_ms
    channels = channel_table(topology, state)
    devices = device_table(topology, state, at_mark.status_code)
    common: dict[str, Any] = {
        "park_id": park.park.id,
        "timezone": park.park.timezone,
        "watermark_ms": watermark,
        "ingest": state.stats,
        "devices": devices,
        "channels": channels,
        "monthly_inputs": sorted(state.monthly),
        "counter_events": list(state.counters.events),
    }
    if watermark is None:
        empty = np.zeros(len(topology.flow_keys))
        return TwinSnapshot(
            **common,
            local_time=None,
            flows=FlowTable(topology.flow_keys, empty, empty, empty, empty),
            periods={},
            carbon_month=None,
            carbon_year=None,
            carbon_by_month={},
            progress=None,
            zero_carbon=None,
            green_park=None,
            occupancy=None,
            enterprises=None,
        )
    current = {g: at_mark.flows(g, at_mark.start(g)).copy() for g in GRANULARITIES}
    year_start = at_mark.start(Granularity.YEAR)
    year_months = at_mark.months_of_year(year_start)
    year_account = combine(
        [at_mark.accounts[m] for m in year_months if m in at_mark.accounts], settings
    )
    current_month = at_mark.start(Granularity.MONTH)
    complete = [m for m in at_mark.accounts if m < current_month]
    zero, green = zero_and_green(at_mark, year_account)
    return TwinSnapshot(
        **common,
        local_time=calendar.local(watermark).isoformat(),
        flows=FlowTable(topology.flow_keys, *(current[g] for g in GRANULARITIES)),
        periods=period_reports(at_mark),
        carbon_month=at_mark.accounts[current_month],
        carbon_year=year_account,
        carbon_by_month={
            at_mark.label(Granularity.MONTH, m): a for m, a in at_mark.accounts.items()
        },
        progress=progress(
            settings.targets,
            int(at_mark.label(Granularity.YEAR, year_start)),
            [at_mark.label(Granularity.MONTH, m) for m in complete],
            [at_mark.accounts[m].net_co2_t for m in complete],
        ),
        zero_carbon=zero,
        green_park=green,
        occupancy=occupancy(at_mark),
        enterprises=enterprise_evaluation(at_mark),
        costs=(cost_report(at_mark, cost_plan) if cost_plan is not None and state.costs else None),
    )
