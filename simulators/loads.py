"""What one building uses during a step: people, electricity, heat, gas and water.

Figures are order-of-magnitude defaults for Chinese industrial parks, chosen so that meters read
plausible numbers; none of them feeds a KPI (the twin reads the meters, not these constants).
"""

from __future__ import annotations

from dataclasses import dataclass

from parktwin.park.model import Building, BuildingUse
from simulators.calendar import DayType
from simulators.profiles import (
    BASE_SHARE,
    PEAK_KW_PER_M2,
    electric_activity,
    occupancy_fraction,
)

GAS_KWH_PER_M3 = 9.97  # lower heating value of natural gas
BOILER_EFFICIENCY = 0.9
HEAT_PUMP_COP = 3.0
HEATING_BASE_C = 17.0  # outdoor temperature below which buildings are heated
COOLING_BASE_C = 24.0
HEAT_LOSS_KW_PER_M2_K = 0.0025
COOLING_KW_PER_M2_K = 0.0015
PROCESS_GAS_M3_H_PER_M2 = 0.0025  # furnaces, ovens and dryers of a factory at full output
PROCESS_HEAT_KW_PER_M2 = 0.01  # process steam or hot water bought from the heat network
WATER_M3_H_PER_PERSON = {BuildingUse.RESIDENTIAL: 0.008}
WATER_M3_H_PER_PERSON_DEFAULT = 0.005
PROCESS_WATER_M3_H_PER_M2 = 0.0004


@dataclass(frozen=True, slots=True)
class HeatSupply:
    """How a building is heated, from the meters it has."""

    district_heat: bool  # has a heat meter on the park's heat network
    gas: bool  # has a gas meter (own boiler, furnaces, kitchen)


@dataclass(frozen=True, slots=True)
class BuildingLoad:
    """A building's demand during one step."""

    occupancy_fraction: float
    persons: int
    activity: float  # production or equipment level, 0..1
    electric_kw: float
    heat_kw: float  # delivered by the heat network
    gas_m3_h: float  # burned on site (before any heat-network boiler is added)
    water_m3_h: float


def building_load(
    building: Building,
    supply: HeatSupply,
    day: DayType,
    hour: float,
    outdoor_temp_c: float,
    jitter: float,
) -> BuildingLoad:
    """The building's demand at an hour of a kind of day; ``jitter`` is a uniform draw."""
    use, area = building.use, building.floor_area_m2
    occ = occupancy_fraction(use, building.shifts, day, hour)
    occ = max(0.0, min(1.0, occ * (0.94 + 0.12 * jitter)))
    persons = round(building.occupant_capacity * occ)
    activity = min(1.0, electric_activity(use, building.shifts, day, hour) * (0.95 + 0.1 * jitter))
    peak_kw = PEAK_KW_PER_M2[use] * area
    base = BASE_SHARE[use]
    electric = peak_kw * (base + (1.0 - base) * activity)
    in_use = 0.3 + 0.7 * max(occ, activity)
    if use not in (BuildingUse.PARKING, BuildingUse.WAREHOUSE) and outdoor_temp_c > COOLING_BASE_C:
        electric += COOLING_KW_PER_M2_K * area * (outdoor_temp_c - COOLING_BASE_C) * in_use
    space_heat = 0.0
    if use is not BuildingUse.PARKING and outdoor_temp_c < HEATING_BASE_C:
        space_heat = HEAT_LOSS_KW_PER_M2_K * area * (HEATING_BASE_C - outdoor_temp_c) * in_use
    hot_water = 0.08 * persons if use is BuildingUse.RESIDENTIAL else 0.0
    heat, gas = 0.0, 0.0
    if supply.district_heat:
        heat = space_heat + hot_water
        if use is BuildingUse.FACTORY:
            heat += PROCESS_HEAT_KW_PER_M2 * area * activity
    elif supply.gas:
        gas = (space_heat + hot_water) / (GAS_KWH_PER_M3 * BOILER_EFFICIENCY)
    else:
        electric += (space_heat + hot_water) / HEAT_PUMP_COP
    if supply.gas:
        if use is BuildingUse.FACTORY:
            gas += PROCESS_GAS_M3_H_PER_M2 * area * activity
        gas += 0.004 * persons  # kitchens and canteens
    per_person = WATER_M3_H_PER_PERSON.get(use, WATER_M3_H_PER_PERSON_DEFAULT)
    water = per_person * persons
    if use is BuildingUse.FACTORY:
        water += PROCESS_WATER_M3_H_PER_M2 * area * activity
    return BuildingLoad(occ, persons, activity, electric, heat, gas, water)
