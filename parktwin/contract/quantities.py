"""Named quantities with their units, the device kinds that report them, and their sane ranges.

The unit is part of the name (``power_kw``, ``energy_import_kwh``) so that no reader ever has
to guess it, in the payload, in InfluxDB or in Grafana. A counter only grows, except when a meter
is replaced or rolls over; the twin turns counters into consumption.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DeviceKind(StrEnum):
    """What a device is, and so which quantities it may report."""

    GRID_MAIN_METER = "grid_main_meter"  # the park's import/export point with the grid
    SUB_METER = "sub_meter"  # electricity sub-meter of a building, floor, line or tenant
    PV_INVERTER = "pv_inverter"
    BATTERY = "battery"
    EV_CHARGER = "ev_charger"
    GAS_METER = "gas_meter"
    HEAT_METER = "heat_meter"
    WATER_METER = "water_meter"
    FUEL_METER = "fuel_meter"  # diesel for generators, forklifts, boilers
    OCCUPANCY_COUNTER = "occupancy_counter"
    INDOOR_CO2_SENSOR = "indoor_co2_sensor"
    STACK_MONITOR = "stack_monitor"  # continuous emission monitoring system on a stack


class Medium(StrEnum):
    """What a device measures; used as the InfluxDB measurement name."""

    ELECTRICITY = "electricity"
    GAS = "gas"
    HEAT = "heat"
    WATER = "water"
    FUEL = "fuel"
    OCCUPANCY = "occupancy"
    AIR = "air"
    EMISSIONS = "emissions"


@dataclass(frozen=True, slots=True)
class Quantity:
    """One named quantity: its unit, whether it is a cumulative counter, and its valid range."""

    name: str
    unit: str
    counter: bool
    min_value: float
    max_value: float
    description: str


def _q(name: str, unit: str, counter: bool, lo: float, hi: float, text: str) -> Quantity:
    return Quantity(name, unit, counter, lo, hi, text)


# Ranges are wide enough for any real park device and narrow enough to catch spikes of a
# broken sensor or a unit mistake (W sent as kW). Counters stay below 1e12 so that a float64
# still resolves a tenth of a unit.
QUANTITIES: dict[str, Quantity] = {
    q.name: q
    for q in (
        _q("energy_import_kwh", "kWh", True, 0, 1e12, "electricity imported, cumulative"),
        _q("energy_export_kwh", "kWh", True, 0, 1e12, "electricity exported, cumulative"),
        _q("energy_kwh", "kWh", True, 0, 1e12, "electricity through the meter, cumulative"),
        _q("energy_charge_kwh", "kWh", True, 0, 1e12, "battery charge energy, cumulative"),
        _q("energy_discharge_kwh", "kWh", True, 0, 1e12, "battery discharge energy, cumulative"),
        _q("power_kw", "kW", False, -1e6, 1e6, "active power; negative means export/charge"),
        _q("soc_pct", "%", False, 0, 100, "battery state of charge"),
        _q("gas_m3", "m3", True, 0, 1e12, "natural gas volume, cumulative"),
        _q("heat_gj", "GJ", True, 0, 1e12, "heat delivered, cumulative"),
        _q("heat_power_kw", "kW", False, 0, 1e6, "heat flow"),
        _q("water_m3", "m3", True, 0, 1e12, "water volume, cumulative"),
        _q("flow_m3_h", "m3/h", False, 0, 1e6, "gas or water flow"),
        _q("diesel_kg", "kg", True, 0, 1e12, "diesel mass, cumulative"),
        _q("occupancy_persons", "persons", False, 0, 1e5, "people present"),
        _q("co2_ppm", "ppm", False, 0, 1e5, "indoor CO2 concentration"),
        _q("temperature_c", "°C", False, -60, 100, "air temperature"),
        _q("humidity_pct", "%", False, 0, 100, "relative humidity"),
        _q("co2_kg", "kg", True, 0, 1e12, "CO2 emitted through the stack, cumulative"),
        _q("co2_kg_h", "kg/h", False, 0, 1e7, "CO2 emission rate through the stack"),
        _q("so2_mg_m3", "mg/m3", False, 0, 1e5, "SO2 concentration in the flue gas"),
        _q("nox_mg_m3", "mg/m3", False, 0, 1e5, "NOx concentration in the flue gas"),
        _q("flue_gas_nm3_h", "Nm3/h", False, 0, 1e8, "flue gas flow at normal conditions"),
    )
}


@dataclass(frozen=True, slots=True)
class KindSpec:
    """What a device kind reports and where its readings are stored."""

    medium: Medium
    quantities: frozenset[str]


KINDS: dict[DeviceKind, KindSpec] = {
    DeviceKind.GRID_MAIN_METER: KindSpec(
        Medium.ELECTRICITY, frozenset({"energy_import_kwh", "energy_export_kwh", "power_kw"})
    ),
    DeviceKind.SUB_METER: KindSpec(Medium.ELECTRICITY, frozenset({"energy_kwh", "power_kw"})),
    DeviceKind.PV_INVERTER: KindSpec(Medium.ELECTRICITY, frozenset({"energy_kwh", "power_kw"})),
    DeviceKind.BATTERY: KindSpec(
        Medium.ELECTRICITY,
        frozenset({"energy_charge_kwh", "energy_discharge_kwh", "power_kw", "soc_pct"}),
    ),
    DeviceKind.EV_CHARGER: KindSpec(Medium.ELECTRICITY, frozenset({"energy_kwh", "power_kw"})),
    DeviceKind.GAS_METER: KindSpec(Medium.GAS, frozenset({"gas_m3", "flow_m3_h"})),
    DeviceKind.HEAT_METER: KindSpec(Medium.HEAT, frozenset({"heat_gj", "heat_power_kw"})),
    DeviceKind.WATER_METER: KindSpec(Medium.WATER, frozenset({"water_m3", "flow_m3_h"})),
    DeviceKind.FUEL_METER: KindSpec(Medium.FUEL, frozenset({"diesel_kg"})),
    DeviceKind.OCCUPANCY_COUNTER: KindSpec(Medium.OCCUPANCY, frozenset({"occupancy_persons"})),
    DeviceKind.INDOOR_CO2_SENSOR: KindSpec(
        Medium.AIR, frozenset({"co2_ppm", "temperature_c", "humidity_pct"})
    ),
    DeviceKind.STACK_MONITOR: KindSpec(
        Medium.EMISSIONS,
        frozenset({"co2_kg", "co2_kg_h", "so2_mg_m3", "nox_mg_m3", "flue_gas_nm3_h"}),
    ),
}
