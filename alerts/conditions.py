"""Each rule's condition at one watermark: breached or not, clear or not, and its figures.

Pure functions of what the engine has observed; the lifecycle (alerts/lifecycle.py) turns a
sequence of conditions into firing and resolved announcements.
"""

from __future__ import annotations

from dataclasses import dataclass

from alerts.baseline import BaseLoad
from alerts.forecast import HourProfile, forecast_period
from alerts.lifecycle import Condition
from alerts.lookup import SnapshotLookup
from alerts.series import CumulativeTrack
from parktwin.park.alerts import (
    BudgetRule,
    CarbonRule,
    ContractDemandRule,
    CostBudgetRule,
    DemandRule,
    WasteRule,
)
from parktwin.periods import Calendar, Granularity

MS_PER_HOUR = 3_600_000
UNKNOWN = Condition(None, False, 0.0, 0.0, "", "")


def _pct(value: float, limit: float) -> float:
    return (value - limit) / limit * 100 if limit else 0.0


def demand(rule: DemandRule, name: str, track: CumulativeTrack | None) -> Condition:
    """Mean power over the rule's window against its limit."""
    rate = track.rate_per_ms(int(rule.window_s * 1000)) if track is not None else None
    if rate is None:
        return UNKNOWN
    kw = rate * MS_PER_HOUR
    limit = rule.limit_kw
    minutes = rule.window_s / 60
    return Condition(
        breach=kw > limit,
        clear=kw < limit * (1 - rule.hysteresis_pct / 100),
        value=kw,
        limit=limit,
        unit="kW",
        summary=(
            f"{name}: {kw:,.0f} kW over {minutes:g} min, {kw - limit:,.0f} kW "
            f"({_pct(kw, limit):.1f} %) above the {limit:,.0f} kW limit"
            if kw > limit
            else f"{name}: {kw:,.0f} kW over {minutes:g} min, within the {limit:,.0f} kW limit"
        ),
    )


def budget(rule: BudgetRule, name: str, lookup: SnapshotLookup) -> Condition:
    """The period's energy so far against its budget; resolves when the period ends."""
    used = lookup.energy_kwh(rule.period, rule.place, rule.measure)
    return UNKNOWN if used is None else _over_budget(rule, name, lookup, used, BudgetUnit("kWh"))


def budget_forecast(
    rule: BudgetRule, name: str, lookup: SnapshotLookup, profile: HourProfile, calendar: Calendar
) -> Condition:
    """The period's forecast total against its budget, raised once the forecast's lower bound
    is over (or the budget already is)."""
    used = lookup.energy_kwh(rule.period, rule.place, rule.measure)
    if used is None:
        return UNKNOWN
    return _forecast_over_budget(rule, name, lookup, profile, calendar, used, BudgetUnit("kWh"))


def cost_budget(rule: CostBudgetRule, name: str, lookup: SnapshotLookup) -> Condition:
    """The period's cost so far against its budget; resolves when the period ends."""
    used = lookup.cost_yuan(rule.period, rule.place)
    if used is None or lookup.snapshot.costs is None:
        return UNKNOWN
    return _over_budget(rule, name, lookup, used, _money(lookup.snapshot.costs.currency))


def cost_budget_forecast(
    rule: CostBudgetRule,
    name: str,
    lookup: SnapshotLookup,
    profile: HourProfile,
    calendar: Calendar,
) -> Condition:
    """The period's forecast cost against its budget (the energy budget's forecast, in money)."""
    used = lookup.cost_yuan(rule.period, rule.place)
    if used is None or lookup.snapshot.costs is None:
        return UNKNOWN
    unit = _money(lookup.snapshot.costs.currency)
    return _forecast_over_budget(rule, name, lookup, profile, calendar, used, unit)


@dataclass(frozen=True, slots=True)
class BudgetUnit:
    """How a budget's amounts read: "used 120 kWh" or "spent 80 CNY"."""

    unit: str
    used: str = "used"
    use: str = "use"


def _money(currency: str) -> BudgetUnit:
    return BudgetUnit(currency, "spent", "spend")


def _limit(rule: BudgetRule | CostBudgetRule) -> float:
    return rule.budget_kwh if isinstance(rule, BudgetRule) else rule.budget_yuan


def _over_budget(
    rule: BudgetRule | CostBudgetRule, name: str, lookup: SnapshotLookup, used: float, u: BudgetUnit
) -> Condition:
    report = lookup.period(rule.period)
    limit = _limit(rule)
    word = "today" if rule.period == "day" else "this month"
    unit = u.unit
    return Condition(
        breach=used > limit,
        clear=used < limit * (1 - rule.hysteresis_pct / 100),
        value=used,
        limit=limit,
        unit=unit,
        summary=(
            f"{name} has {u.used} {used:,.0f} {unit} {word} ({report.label}), {used - limit:,.0f} "
            f"{unit} ({_pct(used, limit):.1f} %) over its budget of {limit:,.0f} {unit}"
        ),
        scope=report.label,
    )


def _forecast_over_budget(
    rule: BudgetRule | CostBudgetRule,
    name: str,
    lookup: SnapshotLookup,
    profile: HourProfile,
    calendar: Calendar,
    used: float,
    u: BudgetUnit,
) -> Condition:
    report = lookup.period(rule.period)
    limit, unit = _limit(rule), u.unit
    found = forecast_period(
        profile, calendar, lookup.t_ms, report.start_ms, report.end_ms, used, rule.min_samples
    )
    if found is None or found.elapsed_fraction * 100 < rule.min_elapsed_pct:
        # Not confident either way: the phase holds, but a new period still ends the old alert.
        return Condition(None, False, used, limit, unit, "", scope=report.label)
    z = rule.confidence_z
    total = found.total
    word = "today" if rule.period == "day" else "this month"
    return Condition(
        breach=used > limit or found.lower(z) > limit,
        clear=total < limit * (1 - rule.hysteresis_pct / 100),
        value=used,
        limit=limit,
        unit=unit,
        forecast=total,
        summary=(
            f"{name} is forecast to {u.use} {total:,.0f} ± {found.sigma:,.0f} {unit} {word} "
            f"({report.label}), {total - limit:,.0f} {unit} ({_pct(total, limit):.1f} %) over its "
            f"budget of {limit:,.0f} {unit}; {used:,.0f} {unit} {u.used} so far"
        ),
        scope=report.label,
    )


def contract_demand(rule: ContractDemandRule, lookup: SnapshotLookup) -> Condition:
    """The running 15-minute window's projected mean demand against the contracted demand."""
    costs = lookup.snapshot.costs
    if costs is None:
        return UNKNOWN
    demand = costs.demand
    limit = rule.limit_kw or demand.contracted_kw
    projected = demand.window_projected_kw
    if limit is None or projected is None or demand.window_elapsed_s < rule.min_elapsed_s:
        return Condition(None, False, projected or 0.0, limit or 0.0, "kW", "")
    trigger = limit * (1 - rule.margin_pct / 100)
    rest_s = demand.window_min * 60 - demand.window_elapsed_s
    # Power to shed for the rest of the window so that its mean stays at the limit.
    shed_kw = (projected - limit) * demand.window_min * 60 / rest_s if rest_s > 0 else 0.0
    return Condition(
        breach=projected > trigger,
        clear=projected < trigger * (1 - rule.hysteresis_pct / 100),
        value=projected,
        limit=limit,
        unit="kW",
        forecast=projected,
        summary=(
            f"the 15-minute demand is heading for {projected:,.0f} kW, above the contracted "
            f"{limit:,.0f} kW: shed {max(shed_kw, 0):,.0f} kW for the remaining "
            f"{rest_s / 60:.0f} min"
        ),
    )


def waste(
    rule: WasteRule,
    name: str,
    persons: float | None,
    empty_below: float,
    track: CumulativeTrack | None,
    base: BaseLoad | None,
) -> Condition:
    """An empty building's mean power over the window against its base load plus a margin."""
    rate = track.rate_per_ms(int(rule.window_s * 1000)) if track is not None else None
    base_kw = base.base_kw(rule.base_quantile, rule.min_history_hours) if base else None
    if persons is None or rate is None or base_kw is None:
        return UNKNOWN
    kw = rate * MS_PER_HOUR
    allowed = max(base_kw * (1 + rule.margin_pct / 100), base_kw + rule.min_excess_kw)
    empty = persons < empty_below
    return Condition(
        breach=empty and kw > allowed,
        clear=not empty or kw < allowed * (1 - rule.hysteresis_pct / 100),
        value=kw,
        limit=allowed,
        unit="kW",
        summary=(
            f"{name} is empty ({persons:.0f} persons) but drew {kw:,.1f} kW over the last "
            f"{rule.window_s / 60:g} min, {kw - base_kw:,.1f} kW above its base load of "
            f"{base_kw:,.1f} kW"
            if empty
            else f"{name} is occupied ({persons:.0f} persons), drawing {kw:,.1f} kW"
        ),
    )


def carbon(
    rule: CarbonRule,
    threshold: float | None,
    co2: CumulativeTrack | None,
    tce: CumulativeTrack | None,
    lookup: SnapshotLookup,
    calendar: Calendar,
) -> Condition:
    """Carbon per unit of energy over the window (ratio of sums) against the threshold."""
    window_ms = int(rule.window_days * 86_400_000)
    co2_rate = co2.rate_per_ms(window_ms) if co2 is not None else None
    tce_rate = tce.rate_per_ms(window_ms) if tce is not None else None
    limit = rule.limit_t_co2_per_tce or threshold
    zero = lookup.snapshot.zero_carbon
    if co2_rate is None or tce_rate is None or tce_rate <= 0 or limit is None or zero is None:
        return UNKNOWN
    ratio = co2_rate / tce_rate
    year_end = calendar.shift(Granularity.YEAR, calendar.start_of(Granularity.YEAR, lookup.t_ms), 1)
    rest = year_end - lookup.t_ms
    projected_tce = zero.energy_tce + tce_rate * rest
    projected = (zero.co2_t + co2_rate * rest) / projected_tce if projected_tce > 0 else None
    days = rule.window_days
    return Condition(
        breach=ratio > limit * (1 + rule.margin_pct / 100),
        clear=ratio < limit * (1 - rule.hysteresis_pct / 100),
        value=ratio,
        limit=limit,
        unit="t CO2/tce",
        forecast=projected,
        summary=(
            f"carbon per unit of energy over the last {days:g} days is {ratio:.3f} t CO2/tce, "
            f"{_pct(ratio, limit):.0f} % above the zero-carbon threshold of {limit:g}"
            + (f"; the year heads for {projected:.3f}" if projected is not None else "")
        ),
    )


def listed(found: list[str], breached: str, clear: str) -> Condition:
    """A condition on the devices ``found`` at fault in one place, the first ten named."""
    shown = ", ".join(found[:10]) + (f" and {len(found) - 10} more" if len(found) > 10 else "")
    return Condition(
        breach=bool(found),
        clear=not found,
        value=float(len(found)),
        limit=0.0,
        unit="devices",
        summary=f"{breached}: {shown}" if found else clear,
    )


def silence(
    name: str, devices: list[str], lookup: SnapshotLookup, bad: frozenset[str]
) -> Condition:
    """Meters of one place that are stale or offline at the watermark."""
    silent = [d for d in devices if lookup.status(d) in bad]
    return listed(
        silent,
        f"{len(silent)} of {len(devices)} meters silent in {name}",
        f"all {len(devices)} meters of {name} report again",
    )


def counter_reset(name: str, devices: list[str], lookup: SnapshotLookup, hold_ms: int) -> Condition:
    """Meters of one place with an unconfirmed counter reset in the last ``hold_ms``."""
    resets = lookup.unconfirmed_resets(lookup.t_ms - hold_ms)
    found = [
        f"{d} ({resets[d].quantity} {resets[d].before:g} -> {resets[d].after:g})"
        for d in devices
        if d in resets
    ]
    return listed(
        found,
        f"{len(found)} meters of {name} restarted from a low value, counted from zero "
        "(record a meter_replaced input if they were swapped)",
        f"no unconfirmed counter resets in {name}",
    )
