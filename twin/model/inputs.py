"""Monthly figures no sensor measures, as they arrive on ``parks/{park}/inputs/monthly`` or a file.

Amounts, not rates: a year's rate is the ratio of the year's sums (a month with little waste must
not weigh as much as a month with a lot). A field left out is *missing* and reported so.
"""

from __future__ import annotations

import orjson
from pydantic import AwareDatetime, Field, ValidationError

from parktwin.park.twin import Financials, GreenPower, Month, NonNegative, Section


class ProductEnergy(Section):
    """One product's output and energy in the month, against its energy-consumption quota."""

    enterprise: str
    product: str
    output_units: float = Field(gt=0)
    unit: str = "t"
    energy_tce: NonNegative
    # Grade 2 of the national energy-consumption quota standard for this product.
    quota_kgce_per_unit: float = Field(gt=0)


class MeterReplaced(Section):
    """A meter swapped for a new one: counted exactly, the old meter up to its final reading and
    the new one from its initial reading (docs/twin.md, "Counters")."""

    device: str
    # The counter that was read; may be left out when the device's kind has only one.
    quantity: str | None = None
    time: AwareDatetime  # ISO 8601 with its offset, e.g. 2026-01-14T10:30:00+08:00
    final_reading: NonNegative  # the old meter's last reading, in the counter's unit
    initial_reading: NonNegative = 0.0  # the new meter's reading when installed

    @property
    def at_ms(self) -> int:
        return int(self.time.timestamp() * 1000)

    def key(self, quantity: str) -> str:
        """What identifies this swap, whichever report carries it."""
        return f"{self.device}|{quantity}|{self.at_ms}"


class MonthlyInputs(Section):
    """One month of reported figures for a park."""

    month: Month
    park: str | None = None
    solid_waste_generated_t: NonNegative | None = None
    solid_waste_utilised_t: NonNegative | None = None
    waste_heat_available_gj: NonNegative | None = None
    waste_heat_recovered_gj: NonNegative | None = None
    # Total industrial water use including the reused water, and the reused part (重复利用).
    industrial_water_use_m3: NonNegative | None = None
    industrial_water_reused_m3: NonNegative | None = None
    products: list[ProductEnergy] | None = None
    green_power: GreenPower | None = None
    offsets_t_co2: NonNegative | None = None
    financials: dict[str, Financials] = Field(default_factory=dict)
    meter_replaced: list[MeterReplaced] = Field(default_factory=list)


class MonthlyInputsError(ValueError):
    """Monthly inputs that cannot be used; ``problems`` names each field at fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_monthly_inputs(data: bytes) -> MonthlyInputs:
    """Validate a JSON document of monthly inputs; raise MonthlyInputsError naming each problem."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise MonthlyInputsError([f"not valid JSON: {exc}"]) from None
    if not isinstance(raw, dict):
        raise MonthlyInputsError(["the document must be a JSON object"])
    try:
        return MonthlyInputs.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        ]
        raise MonthlyInputsError(problems) from None
