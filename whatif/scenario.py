"""A what-if scenario: a name, an optional period, and a list of changes, each of a known kind.

Every change kind has its parameters with their units in the name (docs/whatif.md lists them).
Factors a change needs and a park rarely knows (a gas boiler's efficiency, a PV performance
ratio) have defaults that are marked "assumed" here and are repeated in every result.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from parktwin.park.tariffs import TariffVersion
from parktwin.park.twin import Month

Percent = Annotated[float, Field(ge=0, le=100)]
Hour = Annotated[int, Field(ge=0, le=23)]


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a scenario must not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class AddPv(Strict):
    """New PV panels: generation added hour by hour, used on site first, the rest exported."""

    kind: Literal["add_pv"]
    kwp: float = Field(gt=0, description="peak power of the new panels, kWp")
    building: str | None = Field(default=None, description="the roof it sits on (for the record)")
    # "sun": the clear-sky sun model at the park's location; "measured": the park's own measured
    # PV per kWp of its inverters' capacity (needs PV inverters with capacity_kwp).
    profile: Literal["sun", "measured"] = "sun"
    tilt_deg: float = Field(default=0.0, ge=0, le=90, description="0 = flat")
    azimuth_deg: float = Field(default=180.0, ge=0, lt=360, description="180 = south")
    # DC rating to AC energy: inverter, wiring, heat and soiling losses. 0.82 as the simulator
    # uses (assumed, typical of new rooftop systems).
    performance_ratio: float = Field(default=0.82, gt=0, le=1)
    # The clear sky is an upper bound: the share of clear-sky yield that local weather leaves.
    # 1.0 (no cloud) by default, so the estimate is the most PV can do; set your site's figure.
    clear_sky_factor: float = Field(default=1.0, gt=0, le=1)


class Battery(Strict):
    """A new battery, dispatched hour by hour against the park's grid flow after the other
    changes (PV first)."""

    kind: Literal["battery"]
    kwh: float = Field(gt=0, description="usable capacity, kWh")
    kw: float = Field(gt=0, description="charge and discharge power limit, kW")
    round_trip_efficiency: float = Field(default=0.9, gt=0, le=1)  # assumed, typical of LFP
    # pv_surplus: charge from what would be exported, discharge when importing.
    # peak_shave: discharge to keep grid import at or below target_kw, recharge below it.
    # valley_shift: charge in charge_hours, discharge in discharge_hours (local hours).
    dispatch: Literal["pv_surplus", "peak_shave", "valley_shift"]
    target_kw: float | None = Field(default=None, gt=0, description="peak_shave: import limit")
    charge_hours: list[Hour] = Field(default_factory=list)
    discharge_hours: list[Hour] = Field(default_factory=list)
    initial_soc_pct: Percent = 50.0

    @model_validator(mode="after")
    def _dispatch_needs(self) -> Battery:
        if self.dispatch == "peak_shave" and self.target_kw is None:
            raise ValueError("peak_shave needs target_kw (the contracted demand to stay under)")
        if self.dispatch == "valley_shift" and not (self.charge_hours and self.discharge_hours):
            raise ValueError("valley_shift needs charge_hours and discharge_hours (local hours)")
        return self


class GreenPowerPurchase(Strict):
    """Green certificates (1 绿证 = 1,000 kWh, whole certificates) or direct green power,
    bought each month on top of what the park file already records."""

    kind: Literal["green_power"]
    instrument: Literal["certificates", "direct"] = "certificates"
    share_pct: Percent | None = Field(default=None, description="of each month's grid import")
    mwh_per_month: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_amount(self) -> GreenPowerPurchase:
        if (self.share_pct is None) == (self.mwh_per_month is None):
            raise ValueError("give exactly one of share_pct or mwh_per_month")
        return self


class ElectrifyHeat(Strict):
    """Gas boilers replaced by heat pumps or electric boilers: the heat the gas made is made
    from electricity instead, in the same hour."""

    kind: Literal["electrify_heat"]
    building: str | None = Field(default=None, description="whose gas meters; none: all")
    to: Literal["heat_pump", "electric_boiler"] = "heat_pump"
    cop: float | None = Field(default=None, gt=0, description="heat pump: heat out / power in")
    electric_boiler_efficiency: float = Field(default=0.99, gt=0, le=1)  # assumed
    # The replaced gas boilers' efficiency, heat out / fuel in (lower heating value): 0.9 assumed
    # for a modern non-condensing boiler.
    gas_boiler_efficiency: float = Field(default=0.9, gt=0, le=1.1)
    share_pct: Percent = 100.0

    @model_validator(mode="after")
    def _cop_for_heat_pumps(self) -> ElectrifyHeat:
        if self.to == "heat_pump" and self.cop is None:
            raise ValueError("a heat pump needs its cop (coefficient of performance, e.g. 3.0)")
        return self


class GridFactor(Strict):
    """Other grid emission factors (a regional figure, a later data year), kg CO2 / kWh."""

    kind: Literal["grid_factor"]
    grid_kg_per_kwh: float | None = Field(default=None, ge=0)
    market_residual_kg_per_kwh: float | None = Field(default=None, ge=0)
    fossil_kg_per_kwh: float | None = Field(default=None, ge=0)
    label: str = "set by the scenario"

    @model_validator(mode="after")
    def _some_factor(self) -> GridFactor:
        if (
            self.grid_kg_per_kwh is None
            and self.market_residual_kg_per_kwh is None
            and self.fossil_kg_per_kwh is None
        ):
            raise ValueError("give at least one factor")
        return self


class TariffChange(Strict):
    """Other tariff versions (prices, bands, the basic charge, contracted demand) in place of
    the park's: the same schema as the park file's ``tariffs.versions`` (docs/tariffs.md)."""

    kind: Literal["tariff"]
    versions: list[TariffVersion] = Field(min_length=1)
    label: str = "set by the scenario"


Carrier = Literal["electricity", "gas", "heat"]


class Efficiency(Strict):
    """A cut of a building's or an enterprise's measured use, every hour alike."""

    kind: Literal["efficiency"]
    building: str | None = None
    enterprise: str | None = None
    cut_pct: float = Field(gt=0, le=100)
    carriers: list[Carrier] = Field(default=["electricity"], min_length=1)

    @model_validator(mode="after")
    def _one_place(self) -> Efficiency:
        if (self.building is None) == (self.enterprise is None):
            raise ValueError("give exactly one of building or enterprise")
        return self


class NewTenant(Strict):
    """A new tenant whose hourly use is an existing building's, scaled by floor area."""

    kind: Literal["new_tenant"]
    like: str = Field(description="the building whose measured use is the model")
    floor_area_m2: float = Field(gt=0)
    name: str | None = None
    carriers: list[Carrier] = Field(default=["electricity", "gas", "heat"], min_length=1)


CHANGE_KINDS = frozenset(
    {
        "add_pv",
        "battery",
        "green_power",
        "electrify_heat",
        "grid_factor",
        "efficiency",
        "new_tenant",
    }
)
Change = Annotated[
    AddPv
    | Battery
    | GreenPowerPurchase
    | ElectrifyHeat
    | GridFactor
    | Efficiency
    | NewTenant
    | TariffChange,
    Field(discriminator="kind"),
]


class Period(Strict):
    """Whole local months, ``from`` to ``to`` inclusive."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    first: Month = Field(alias="from")
    last: Month = Field(alias="to")

    @model_validator(mode="after")
    def _in_order(self) -> Period:
        if self.last < self.first:
            raise ValueError(f"'to' ({self.last}) is before 'from' ({self.first})")
        return self


class Scenario(Strict):
    """One scenario file."""

    name: str = Field(min_length=1)
    description: str = ""
    # None: the twelve local months up to the park's latest stored reading.
    period: Period | None = None
    changes: list[Change] = Field(min_length=1)
