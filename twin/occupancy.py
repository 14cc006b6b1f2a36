"""People in buildings: utilisation, energy per occupant, energy used in empty buildings, and the
balance of jobs and housing (产城融合: workers and residents in the same park)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from parktwin.park.model import BuildingUse, Park
from twin.indicator import ratio, ratio_pct
from twin.topology import Flow

Floats = npt.NDArray[np.float64]

WORKPLACES = frozenset(
    {
        BuildingUse.FACTORY,
        BuildingUse.WAREHOUSE,
        BuildingUse.OFFICE,
        BuildingUse.LAB,
        BuildingUse.RETAIL,
        BuildingUse.UTILITY,
    }
)


@dataclass(frozen=True, slots=True)
class HourTotals:
    """One hour of the day so far: its elapsed length and per-building flow totals."""

    label: str
    elapsed_h: float
    buildings: Floats  # shape (buildings, N_FLOWS)


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
    buildings: list[BuildingOccupancy]
    jobs_housing: JobsHousing
    persons_present: float


def occupancy_report(
    park: Park,
    day: str,
    persons_now: Floats,
    counters_installed: npt.NDArray[np.int64],
    counters_online: npt.NDArray[np.int64],
    hours: list[HourTotals],
    talent_housing: set[str],
    empty_below_persons: float,
) -> OccupancyReport:
    """Per-building occupancy of the day so far; arrays are indexed like ``park.buildings``.

    ``persons_now[b]`` sums the latest value of building b's online people counters
    (``counters_online[b]`` of them). Buildings without a counter are never called empty.
    """
    n = len(park.buildings)
    person_h = np.zeros(n)
    electricity = np.zeros(n)
    empty_kwh = np.zeros(n)
    empty_hours = np.zeros(n, dtype=np.int64)
    has_counter = counters_installed > 0
    for hour in hours:
        people = hour.buildings[:, Flow.PERSON_H]
        kwh = hour.buildings[:, Flow.ELECTRICITY_KWH]
        person_h += people
        electricity += kwh
        if hour.elapsed_h > 0:
            empty = people / hour.elapsed_h < empty_below_persons
            empty_kwh += np.where(empty, kwh, 0.0)
            empty_hours += empty
    # Python numbers first (the same values ``float``/``int`` would give): indexing NumPy
    # arrays element by element costs more than the rest of this loop.
    columns = zip(
        park.buildings,
        persons_now.tolist(),
        (counters_online > 0).tolist(),
        person_h.tolist(),
        electricity.tolist(),
        np.where(has_counter, empty_hours, 0).tolist(),
        np.where(has_counter, empty_kwh, 0.0).tolist(),
        strict=True,
    )
    rows = []
    for building, now, online, person_hours, kwh, hours_empty, kwh_empty in columns:
        persons = float(now) if online else None
        rows.append(
            BuildingOccupancy(
                building=building.id,
                use=building.use.value,
                capacity_persons=building.occupant_capacity,
                persons=persons,
                utilisation_pct=(
                    ratio_pct(persons, building.occupant_capacity) if persons is not None else None
                ),
                person_hours_day=person_hours,
                electricity_kwh_day=kwh,
                kwh_per_person_hour=ratio(kwh, person_hours),
                empty_hours_day=hours_empty,
                empty_electricity_kwh_day=kwh_empty,
            )
        )
    workers = sum(
        r.persons or 0.0 for r, b in zip(rows, park.buildings, strict=True) if b.use in WORKPLACES
    )
    residents = sum(r.persons or 0.0 for r in rows if r.building in talent_housing)
    work_capacity = sum(b.occupant_capacity for b in park.buildings if b.use in WORKPLACES)
    home_capacity = sum(b.occupant_capacity for b in park.buildings if b.id in talent_housing)
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
        persons_present=sum(r.persons or 0.0 for r in rows),
    )
