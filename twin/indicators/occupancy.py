"""People in buildings: utilisation, energy per occupant, energy used in empty buildings, and the
balance of jobs and housing (产城融合: workers and residents in the same park)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import compress

import numpy as np
import numpy.typing as npt

from twin.indicators.indicator import ratio
from twin.model.columns import RowTable, floats_where
from twin.model.topology import Level, Topology

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class HourTotals:
    """The hours of the day so far: each one's elapsed length, people and electricity, and how
    long the people counters' readings were known in it."""

    elapsed_h: list[float]
    person_hours: Floats  # shape (hours, buildings)
    electricity_kwh: Floats  # shape (hours, buildings)
    known_h: Floats  # shape (hours, buildings): summed over each building's people counters


@dataclass(frozen=True, slots=True)
class DaySoFar:
    """Per building, the day so far: what was measured, what was empty, what is unknown."""

    person_hours: Floats
    electricity_kwh: Floats
    known_electricity_kwh: Floats  # used in hours whose occupancy is known
    empty_electricity_kwh: Floats
    empty_hours: npt.NDArray[np.int64]
    unknown_hours: npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class BuildingOccupancy:
    building: str
    use: str
    capacity_persons: int
    persons: float | None  # now; None when no people counter of the building is online
    utilisation_pct: float | None
    person_hours_day: float
    electricity_kwh_day: float
    kwh_per_person_hour: float | None  # ratio of the day's sums, over hours of known occupancy
    empty_hours_day: int
    empty_electricity_kwh_day: float  # used in hours whose mean occupancy was about zero
    # Hours whose occupancy is unknown (people counters silent beyond their stale limit for
    # more than half of the hour): neither empty nor occupied, left out of the two figures above.
    unknown_hours_day: int


@dataclass(frozen=True, slots=True)
class JobsHousing:
    """Workers present in workplaces against residents of talent housing."""

    workers_present: float
    residents_present: float
    workers_per_resident: float | None
    workplace_capacity_persons: int
    housing_capacity_persons: int
    workplace_per_housing_capacity: float | None


@dataclass(frozen=True, slots=True)
class OccupancyReport:
    day: str
    buildings: RowTable[BuildingOccupancy]  # iterates as a list of rows would
    jobs_housing: JobsHousing
    persons_present: float


def day_so_far(
    hours: HourTotals,
    empty_below_persons: float,
    counters: npt.NDArray[np.int64],
    min_known_fraction: float,
) -> DaySoFar:
    """Per building: the day's person-hours and kWh, and kWh and hours of its empty hours.

    An hour is known when the building's ``counters`` people counters were read (within their
    stale limit) for at least ``min_known_fraction`` of it; its mean occupancy is taken over
    that known time. Other hours are unknown: never empty, and left out of the kWh per
    person-hour.
    """
    n = hours.person_hours.shape[1]
    person_h = np.zeros(n)
    electricity = np.zeros(n)
    known_kwh = np.zeros(n)
    empty_kwh = np.zeros(n)
    empty_hours = np.zeros(n, dtype=np.int64)
    unknown_hours = np.zeros(n, dtype=np.int64)
    installed = counters > 0
    for elapsed_h, people, kwh, known_h in zip(
        hours.elapsed_h, hours.person_hours, hours.electricity_kwh, hours.known_h, strict=True
    ):
        person_h += people
        electricity += kwh
        if elapsed_h <= 0:
            continue
        # Known time as a share of the hour, each counter's own hours averaged.
        observed_h = known_h / np.maximum(counters, 1)
        known = installed & (observed_h >= min_known_fraction * elapsed_h)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(known, people / observed_h, np.inf)
        empty = known & (mean < empty_below_persons)
        known_kwh += np.where(known, kwh, 0.0)
        empty_kwh += np.where(empty, kwh, 0.0)
        empty_hours += empty
        unknown_hours += installed & ~known
    return DaySoFar(person_h, electricity, known_kwh, empty_kwh, empty_hours, unknown_hours)


def ratios_or_none(
    numerator: Floats, denominator: Floats, scale: float | None = None
) -> list[float | None]:
    """numerator / denominator (× scale first, as ``ratio_pct`` does) where the denominator is
    positive, else None."""
    with np.errstate(divide="ignore", invalid="ignore"):
        top = numerator if scale is None else scale * numerator
        return floats_where(top / denominator, denominator > 0)


def occupancy_report(
    topology: Topology,
    day_label: str,
    persons_now: Floats,
    counters_installed: npt.NDArray[np.int64],
    counters_online: npt.NDArray[np.int64],
    hours: HourTotals,
    empty_below_persons: float,
    min_known_fraction: float,
) -> OccupancyReport:
    """Per-building occupancy of the day so far; arrays are indexed like ``park.buildings``.

    ``persons_now[b]`` sums the latest value of building b's online people counters
    (``counters_online[b]`` of them). Buildings without a counter are never called empty.
    """
    day = day_so_far(hours, empty_below_persons, counters_installed, min_known_fraction)
    has_counter = counters_installed > 0
    online = counters_online > 0
    capacity = np.asarray(topology.building_capacity, dtype=np.float64)
    persons = floats_where(persons_now, online)
    utilisation = ratios_or_none(persons_now, np.where(online, capacity, 0.0), 100.0)
    rows = RowTable(
        BuildingOccupancy,
        [
            topology.places[Level.BUILDING].ids,
            topology.building_use,
            topology.building_capacity,
            persons,
            utilisation,
            day.person_hours.tolist(),
            day.electricity_kwh.tolist(),
            ratios_or_none(day.known_electricity_kwh, day.person_hours),
            np.where(has_counter, day.empty_hours, 0).tolist(),
            np.where(has_counter, day.empty_electricity_kwh, 0.0).tolist(),
            day.unknown_hours.tolist(),
        ],
    )
    present = [0.0 if p is None else p for p in persons]
    workplace, housing = topology.building_workplace, topology.building_housing
    workers = sum(compress(present, workplace))
    residents = sum(compress(present, housing))
    work_capacity = sum(compress(topology.building_capacity, workplace))
    home_capacity = sum(compress(topology.building_capacity, housing))
    return OccupancyReport(
        day=day_label,
        buildings=rows,
        jobs_housing=JobsHousing(
            workers_present=workers,
            residents_present=residents,
            workers_per_resident=ratio(workers, residents),
            workplace_capacity_persons=work_capacity,
            housing_capacity_persons=home_capacity,
            workplace_per_housing_capacity=ratio(work_capacity, home_capacity),
        ),
        persons_present=sum(present),
    )
