"""The ``alerts:`` section of a park file: which rules watch which place.

Every duration is event time (the twin's watermark), so a replay raises the same alerts at the
same instants. A rule names its place as ``park``, ``zone:ID``, ``building:ID`` or
``enterprise:ID``; ``parktwin.park.references`` checks those ids against the park.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from parktwin.contract.quantities import DeviceKind

# Same shape as the park file's ids (they travel in MQTT topics and InfluxDB tags).
Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Place = Annotated[
    str, Field(pattern=r"^(park|(zone|building|enterprise):[A-Za-z0-9][A-Za-z0-9_.-]{0,63})$")
]
Severity = Literal["info", "warning", "critical"]
Measure = Literal["consumption", "grid_import"]
Seconds = Annotated[float, Field(ge=0)]
Percent = Annotated[float, Field(ge=0, le=100)]

SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}

METER_KINDS = [
    DeviceKind.GRID_MAIN_METER,
    DeviceKind.SUB_METER,
    DeviceKind.PV_INVERTER,
    DeviceKind.BATTERY,
    DeviceKind.EV_CHARGER,
    DeviceKind.GAS_METER,
    DeviceKind.HEAT_METER,
    DeviceKind.WATER_METER,
    DeviceKind.FUEL_METER,
]


class Section(BaseModel):
    """Unknown keys are errors, as in the rest of the park file."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleBase(Section):
    """What every rule has: a name, a severity and the timing that keeps alerts from flapping."""

    id: Id
    severity: Severity = "warning"
    # The condition must hold this long (event time) before the alert fires...
    for_s: Seconds = 0.0
    # ...and its clear condition this long before it is resolved.
    clear_for_s: Seconds = 900.0
    # Resolve only once the value is this far below the limit (a band against flapping).
    hysteresis_pct: Percent = 5.0


class DemandRule(RuleBase):
    """Power above a limit (e.g. the contracted capacity) for a minimum duration.

    Power is the mean over ``window_s`` taken from the place's energy, as utilities measure
    demand (15 minutes in China's two-part tariff), so a single spike does not count.
    """

    kind: Literal["demand"]
    place: Place = "park"
    measure: Measure = "consumption"  # grid_import: the park's main meter (park only)
    limit_kw: float = Field(gt=0)
    window_s: float = Field(default=900.0, gt=0)
    for_s: Seconds = 900.0
    severity: Severity = "critical"

    @model_validator(mode="after")
    def _grid_import_is_the_parks(self) -> DemandRule:
        _check_measure(self.place, self.measure)
        return self


class BudgetRule(RuleBase):
    """Energy over the day's or month's budget, and earlier, the forecast of the period's end.

    The forecast is consumption so far plus the rest of the period from a day-of-week and
    time-of-day profile learnt from the place's own history, scaled by how today compares with
    that profile so far. It is raised once its lower bound (forecast − z·σ) exceeds the budget.
    """

    kind: Literal["budget"]
    place: Place = "park"
    measure: Measure = "consumption"
    period: Literal["day", "month"] = "day"
    budget_kwh: float = Field(gt=0)
    severity: Severity = "critical"  # the budget is crossed
    predict: bool = True
    forecast_severity: Severity = "warning"
    confidence_z: float = Field(default=1.64, ge=0)  # one-sided 95 % under a normal error
    min_elapsed_pct: Percent = 10.0  # no forecast in the period's first tenth
    min_samples: int = Field(default=2, ge=1)  # samples a profile slot needs to be used
    profile_alpha: float = Field(default=0.2, gt=0, le=1)  # weight of the newest sample
    clear_for_s: Seconds = 1800.0

    @model_validator(mode="after")
    def _grid_import_is_the_parks(self) -> BudgetRule:
        _check_measure(self.place, self.measure)
        return self


class CostBudgetRule(RuleBase):
    """The day's or month's cost (the twin's total at the park's tariff) over a budget, and
    earlier, the forecast of the period's end (the same forecast as the energy budget's, learnt
    from the place's hourly cost)."""

    kind: Literal["cost_budget"]
    place: Place = "park"
    period: Literal["day", "month"] = "day"
    budget_yuan: float = Field(gt=0)
    severity: Severity = "critical"
    predict: bool = True
    forecast_severity: Severity = "warning"
    confidence_z: float = Field(default=1.64, ge=0)
    min_elapsed_pct: Percent = 10.0
    min_samples: int = Field(default=2, ge=1)
    profile_alpha: float = Field(default=0.2, gt=0, le=1)
    clear_for_s: Seconds = 1800.0


class ContractDemandRule(RuleBase):
    """The 15-minute window now running is on course to exceed the contracted demand.

    The projection is the window's import so far plus the main meters' latest power to the
    window's end; it fires as soon as it is over the limit (after ``min_elapsed_s``, so that a
    window's first reading alone does not decide), leaving the rest of the window to shed load.
    """

    kind: Literal["contract_demand"]
    limit_kw: float | None = Field(default=None, gt=0)  # None: the tariff's contracted demand
    margin_pct: Percent = 0.0  # fire this far below the limit already
    min_elapsed_s: Seconds = 120.0
    for_s: Seconds = 0.0
    clear_for_s: Seconds = 0.0
    severity: Severity = "critical"


class WasteRule(RuleBase):
    """Electricity used in a building while nobody is in it, above its learnt base load.

    The base load is a low quantile of the building's hourly mean power over recent days; a
    building that nobody occupies but whose power stays above it (by ``margin_pct`` and at least
    ``min_excess_kw``) for ``for_s``, and at least a whole window, wastes energy. Buildings
    without a people counter are skipped.
    """

    kind: Literal["waste"]
    buildings: list[Id] = Field(default_factory=list)  # empty: every building
    empty_below_persons: float | None = Field(default=None, ge=0)  # None: twin.occupancy
    window_s: float = Field(default=3600.0, gt=0)
    margin_pct: float = Field(default=20.0, ge=0)
    min_excess_kw: float = Field(default=1.0, ge=0)
    base_quantile: float = Field(default=0.1, ge=0, le=1)
    history_days: int = Field(default=14, ge=1)
    min_history_hours: int = Field(default=24, ge=1)
    for_s: Seconds = 1800.0


class CarbonRule(RuleBase):
    """The park's carbon per unit of energy over recent days above its zero-carbon threshold.

    The value is the ratio of the window's sums (t CO2 / tce); the forecast is the year's ratio
    if the window's rates continue to the year's end.
    """

    kind: Literal["carbon"]
    window_days: float = Field(default=7.0, gt=0)
    limit_t_co2_per_tce: float | None = Field(default=None, gt=0)  # None: the twin's threshold
    margin_pct: float = Field(default=0.0, ge=0)
    for_s: Seconds = 6 * 3600.0
    clear_for_s: Seconds = 6 * 3600.0


class SilenceRule(RuleBase):
    """Meters gone stale or offline (no reading for 2 or 5 reporting intervals, at the
    watermark). One alert per building (or zone, for devices outside buildings) lists them."""

    kind: Literal["device_silence"]
    devices: list[Id] = Field(default_factory=list)  # empty: every device of ``kinds``
    kinds: list[DeviceKind] = Field(default_factory=lambda: list(METER_KINDS))
    status: Literal["stale", "offline"] = "offline"
    clear_for_s: Seconds = 0.0


class CounterResetRule(RuleBase):
    """Meters whose counter restarted from a low value that nothing explains (no register
    rollover, no ``meter_replaced`` input): counted from zero, to be confirmed by an operator.
    One alert per building (or zone) lists them; it resolves once a ``meter_replaced`` input
    explains each reset, or ``hold_s`` of event time after the last one."""

    kind: Literal["counter_reset"]
    devices: list[Id] = Field(default_factory=list)  # empty: every device of ``kinds``
    kinds: list[DeviceKind] = Field(default_factory=lambda: list(METER_KINDS))
    hold_s: float = Field(default=7 * 86400.0, gt=0)  # assumed: a week to confirm
    clear_for_s: Seconds = 0.0


Rule = Annotated[
    DemandRule
    | BudgetRule
    | CostBudgetRule
    | ContractDemandRule
    | WasteRule
    | CarbonRule
    | SilenceRule
    | CounterResetRule,
    Field(discriminator="kind"),
]

FORECAST_SUFFIX = "-forecast"


class AlertSettings(Section):
    """The ``alerts:`` section of a park file."""

    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> AlertSettings:
        names: set[str] = set()
        for rule in self.rules:
            for name in alert_names(rule):
                if name in names:
                    raise ValueError(f"alert rule name {name!r} is used twice")
                names.add(name)
        return self


def alert_names(rule: Rule) -> list[str]:
    """The ``rule`` tag values a rule can raise: its id, and for predictions id-forecast."""
    if isinstance(rule, BudgetRule | CostBudgetRule) and rule.predict:
        return [rule.id, rule.id + FORECAST_SUFFIX]
    return [rule.id]


def _check_measure(place: str, measure: str) -> None:
    if measure == "grid_import" and place != "park":
        raise ValueError("measure grid_import is the park's main meter: place must be park")


def split_place(place: str) -> tuple[str, str]:
    """``building:plant-1`` → (``building``, ``plant-1``); ``park`` → (``park``, ``park``)."""
    level, _, place_id = place.partition(":")
    return level, place_id or "park"
