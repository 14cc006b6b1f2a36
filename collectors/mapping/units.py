"""Units devices send, and how each becomes the unit of a parktwin quantity.

A device's unit converts to a quantity's unit by ``value * factor + offset``. Only conversions
between units of the same dimension exist: W never becomes kWh, whatever the scale.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Conversion:
    factor: float
    offset: float = 0.0

    def apply(self, value: float) -> float:
        return value * self.factor + self.offset


# Spellings devices and gateways use, folded to one name per unit.
_ALIASES = {
    "m³": "m3",
    "l": "L",
    "litre": "L",
    "liter": "L",
    "m³/h": "m3/h",
    "l/h": "L/h",
    "l/min": "L/min",
    "C": "°C",
    "Cel": "°C",
    "degC": "°C",
    "%RH": "%",
    "count": "persons",
    "mg/m³": "mg/m3",
    "Nm³/h": "Nm3/h",
}

# quantity unit -> {device unit: factor into the quantity unit}. Exact SI prefixes; heat in
# kWh: 1 kWh = 3.6 MJ = 0.0036 GJ (definition of the watt-hour).
_FACTORS: dict[str, dict[str, float]] = {
    "kWh": {"Wh": 1e-3, "kWh": 1.0, "MWh": 1e3},
    "kW": {"W": 1e-3, "kW": 1.0, "MW": 1e3},
    "GJ": {"J": 1e-9, "kJ": 1e-6, "MJ": 1e-3, "GJ": 1.0, "kWh": 0.0036, "MWh": 3.6},
    "m3": {"m3": 1.0, "L": 1e-3},
    "m3/h": {"m3/h": 1.0, "L/h": 1e-3, "L/min": 0.06, "m3/s": 3600.0},
    "Nm3/h": {"Nm3/h": 1.0},
    "kg": {"g": 1e-3, "kg": 1.0, "t": 1e3},
    "kg/h": {"kg/h": 1.0, "t/h": 1e3},
    "%": {"%": 1.0},
    "°C": {"°C": 1.0},
    "ppm": {"ppm": 1.0},
    "persons": {"persons": 1.0},
    "mg/m3": {"mg/m3": 1.0},
}


def conversion(device_unit: str, quantity_unit: str) -> Conversion | None:
    """How a value in ``device_unit`` becomes ``quantity_unit``; None if it cannot."""
    unit = _ALIASES.get(device_unit, device_unit)
    if quantity_unit == "°C" and unit == "K":
        return Conversion(1.0, -273.15)
    factor = _FACTORS.get(quantity_unit, {}).get(unit)
    return None if factor is None else Conversion(factor)


def known_units() -> list[str]:
    """Every device unit some quantity accepts, for error messages."""
    return sorted({u for table in _FACTORS.values() for u in table} | {"K"} | set(_ALIASES))
