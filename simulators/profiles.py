"""Daily profiles: how full a building is and how hard it works, by use, hour and kind of day.

Values are fractions (0..1) of a building's occupant capacity or of its peak load, given per
hour (hour 0 = midnight local time) and interpolated linearly in between.
"""

from __future__ import annotations

from parktwin.park.model import BuildingUse
from simulators.calendar import DayType

Profile = tuple[float, ...]  # 24 hourly values

# Factories by number of shifts on a workday: 1 shift 08-17, 2 shifts 06-22, 3 shifts round the
# clock with a thinner night shift.
_FACTORY_WORKDAY: dict[int, Profile] = {
    1: (0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.05, 0.4, 0.95, 0.95, 0.95, 0.95,
        0.5, 0.9, 0.95, 0.95, 0.9, 0.4, 0.08, 0.03, 0.02, 0.02, 0.02, 0.02),
    2: (0.03, 0.03, 0.03, 0.03, 0.03, 0.2, 0.85, 0.95, 0.95, 0.95, 0.95, 0.95,
        0.6, 0.9, 0.95, 0.95, 0.95, 0.95, 0.9, 0.9, 0.9, 0.6, 0.15, 0.05),
    3: (0.85, 0.85, 0.85, 0.85, 0.85, 0.85, 0.9, 0.95, 1.0, 1.0, 1.0, 1.0,
        0.8, 0.95, 1.0, 1.0, 0.95, 0.95, 0.95, 0.95, 0.95, 0.9, 0.9, 0.85),
}  # fmt: skip
# Share of a workday's activity on rest days: continuous lines keep running, one-shift shops stop.
_FACTORY_REST_SHARE: dict[tuple[int, DayType], float] = {
    (1, DayType.WEEKEND): 0.15, (2, DayType.WEEKEND): 0.45, (3, DayType.WEEKEND): 0.85,
    (1, DayType.HOLIDAY): 0.03, (2, DayType.HOLIDAY): 0.1, (3, DayType.HOLIDAY): 0.6,
}  # fmt: skip

_OFFICE_WORKDAY: Profile = (
    0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.15, 0.7, 0.95, 0.95, 0.9,
    0.7, 0.9, 0.95, 0.95, 0.9, 0.75, 0.35, 0.2, 0.12, 0.06, 0.03, 0.02,
)  # fmt: skip
_OFFICE_REST: Profile = tuple(0.2 * v for v in _OFFICE_WORKDAY)
_RESIDENTIAL_WORKDAY: Profile = (
    0.95, 0.97, 0.97, 0.97, 0.97, 0.95, 0.9, 0.7, 0.4, 0.3, 0.3, 0.3,
    0.35, 0.3, 0.3, 0.3, 0.35, 0.5, 0.75, 0.85, 0.9, 0.92, 0.94, 0.95,
)  # fmt: skip
_RESIDENTIAL_REST: Profile = (
    0.95, 0.97, 0.97, 0.97, 0.97, 0.97, 0.95, 0.9, 0.8, 0.65, 0.55, 0.55,
    0.6, 0.55, 0.5, 0.5, 0.55, 0.65, 0.8, 0.85, 0.9, 0.92, 0.94, 0.95,
)  # fmt: skip
# Electricity at home peaks in the evening, while presence peaks at night (people sleep).
_RESIDENTIAL_POWER: Profile = (
    0.3, 0.25, 0.22, 0.2, 0.2, 0.25, 0.45, 0.6, 0.45, 0.35, 0.35, 0.4,
    0.5, 0.4, 0.35, 0.35, 0.4, 0.6, 0.85, 1.0, 1.0, 0.9, 0.65, 0.45,
)  # fmt: skip
_RETAIL_OPEN: Profile = (
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.02, 0.05, 0.15, 0.45, 0.7,
    0.9, 0.7, 0.5, 0.5, 0.55, 0.7, 0.95, 1.0, 0.85, 0.55, 0.15, 0.01,
)  # fmt: skip
_PUBLIC_OPEN: Profile = (
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.5, 0.8, 0.9,
    0.8, 0.85, 0.9, 0.8, 0.6, 0.3, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0,
)  # fmt: skip
_NIGHT_LIGHTING: Profile = (
    1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.6, 0.1, 0.05, 0.05, 0.05, 0.05,
    0.05, 0.05, 0.05, 0.05, 0.05, 0.3, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0,
)  # fmt: skip
_FLAT: Profile = (1.0,) * 24

# Peak electric load per floor area (kW/m2) and the always-on share of it.
PEAK_KW_PER_M2: dict[BuildingUse, float] = {
    BuildingUse.FACTORY: 0.09, BuildingUse.WAREHOUSE: 0.012, BuildingUse.OFFICE: 0.045,
    BuildingUse.LAB: 0.07, BuildingUse.RESIDENTIAL: 0.02, BuildingUse.RETAIL: 0.06,
    BuildingUse.PUBLIC: 0.035, BuildingUse.PARKING: 0.004, BuildingUse.UTILITY: 0.06,
}  # fmt: skip
BASE_SHARE: dict[BuildingUse, float] = {
    BuildingUse.FACTORY: 0.12, BuildingUse.WAREHOUSE: 0.25, BuildingUse.OFFICE: 0.18,
    BuildingUse.LAB: 0.35, BuildingUse.RESIDENTIAL: 0.15, BuildingUse.RETAIL: 0.12,
    BuildingUse.PUBLIC: 0.15, BuildingUse.PARKING: 0.2, BuildingUse.UTILITY: 0.7,
}  # fmt: skip


def at_hour(profile: Profile, hour: float) -> float:
    """The profile's value at a fractional local hour, linear between the hourly points."""
    index = int(hour) % 24
    frac = hour - int(hour)
    return profile[index] + (profile[(index + 1) % 24] - profile[index]) * frac


def occupancy_fraction(use: BuildingUse, shifts: int, day: DayType, hour: float) -> float:
    """Share of the building's occupant capacity present at that hour."""
    if use in (BuildingUse.FACTORY, BuildingUse.WAREHOUSE):
        workday = at_hour(_FACTORY_WORKDAY[shifts if use is BuildingUse.FACTORY else 1], hour)
        if day is DayType.WORKDAY:
            return workday
        return workday * _FACTORY_REST_SHARE[(shifts if use is BuildingUse.FACTORY else 1, day)]
    if use in (BuildingUse.OFFICE, BuildingUse.LAB):
        return at_hour(_OFFICE_WORKDAY if day is DayType.WORKDAY else _OFFICE_REST, hour)
    if use is BuildingUse.RESIDENTIAL:
        return at_hour(_RESIDENTIAL_WORKDAY if day is DayType.WORKDAY else _RESIDENTIAL_REST, hour)
    if use is BuildingUse.RETAIL:
        return at_hour(_RETAIL_OPEN, hour) * (0.7 if day is DayType.WORKDAY else 1.0)
    if use is BuildingUse.PUBLIC:
        return at_hour(_PUBLIC_OPEN, hour) * (0.5 if day is DayType.WORKDAY else 1.0)
    if use is BuildingUse.UTILITY:
        return 0.5 if day is DayType.WORKDAY and 8 <= hour < 17 else 0.2
    return 0.0


def electric_activity(use: BuildingUse, shifts: int, day: DayType, hour: float) -> float:
    """How hard the building's equipment works (0..1), the variable part of its load."""
    if use is BuildingUse.RESIDENTIAL:
        return at_hour(_RESIDENTIAL_POWER, hour) * (1.0 if day is DayType.WORKDAY else 1.1)
    if use is BuildingUse.PARKING:
        return at_hour(_NIGHT_LIGHTING, hour)
    if use is BuildingUse.UTILITY:
        return at_hour(_FLAT, hour)
    return min(1.0, occupancy_fraction(use, shifts, day, hour))


def ev_demand(use: BuildingUse | None, day: DayType, hour: float) -> float:
    """Probability that a charger is in use: overnight at home, in working hours at work."""
    if use is BuildingUse.RESIDENTIAL:
        return 0.6 if hour >= 19 or hour < 7 else 0.1
    if use in (BuildingUse.FACTORY, BuildingUse.WAREHOUSE, BuildingUse.OFFICE, BuildingUse.LAB):
        return 0.55 if day is DayType.WORKDAY and 8 <= hour < 18 else 0.05
    return 0.45 if 9 <= hour < 21 else 0.05  # retail street, car parks, public chargers
