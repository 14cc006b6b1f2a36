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
    """The hours of the day so far: each one's elapsed length, people and electricity."""

    elapsed_h: list[float]
    person_hours: Floats  # shape (hours, buildings)
    electricity_kwh: Floats  # shape (hours, buildings)


@dataclass(frozen=True, slots=True)
class BuildingOccupancy:
    building: str
    use: str
    capacity_persons: int
    persons: float | None  # now; None when no people counter of the building is online
    utilisation_pct: float | None
    person_hours_day: float
    electricity_kwh_day: float
    kwh_per_person_hour: float | None  # ratio of the day's sums
    empty_hours_day: int
    empty_electricity_kwh_day: float  # used in hours whose mean occupancy was about zero


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
    hours: HourTotals, empty_below_persons: float
) -> tuple[Floats, Floats, Floats, npt.NDArray[np.int64]]:
    """Per building: person-hours and kWh of the day, and kWh and hours of its empty hours."""
    n = hours.person_hours.shape[1]
    person_h = np.zeros(n)
    electricity = np.zeros(n)
    empty_kwh = np.zeros(n)
    empty_hours = np.zeros(n, dtype=np.int64)
    for elapsed_h, people, kwh in zip(
        hours.elapsed_h, hours.person_hours, hours.electricity_kwh, strict=True
    ):
        person_h += people
        electricity += kwh
        if elapsed_h > 0:
            empty = people / elapsed_h < empty_below_persons
            empty_kwh += np.where(empty, kwh, 0.0)
            empty_hours += empty
    return person_h, electricity, empty_kwh, empty_hours


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
    day: str,
    persons_now: Floats,
    counters_installed: npt.NDArray[np.int64],
    counters_online: npt.NDArray[np.int64],
    hours: HourTotals,
    empty_below_persons: float,
) -> OccupancyReport:
    """Per-building occupancy of the day so far; arrays are indexed like ``park.buildings``.

    ``persons_now[b]`` sums the latest value of building b's online people counters
    (``counters_online[b]`` of them). Buildings without a counter are never called empty.
    """
    person_h, electricity, empty_kwh, empty_hours = day_so_far(hours, empty_below_persons)
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
            person_h.tolist(),
            electricity.tolist(),
            ratios_or_none(electricity, person_h),
            np.where(has_counter, empty_hours, 0).tolist(),
            np.where(has_counter, empty_kwh, 0.0).tolist(),
        ],
    )
    present = [0.0 if p is None else p for p in persons]
    workplace, housing = topology.building_workplace, topology.building_housing
    workers = sum(compress(present, workplace))
    residents = sum(compress(present, housing))
    work_capacity = sum(compress(topology.building_capacity, workplace))
    home_capacity = sum(compress(topology.building_capacity, housing))
    return OccupancyReport(
        day=day,
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
