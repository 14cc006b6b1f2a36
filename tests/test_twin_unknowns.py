"""What the data does not say is not invented: a silent people counter leaves its hours unknown,
not empty; a device without ``enterprise:`` belongs to no enterprise. Figures by hand."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from collectors.tagging import device_tags
from parktwin.contract.reading import Reading
from parktwin.park.loader import parse_park
from parktwin.park.model import Park
from twin.indicators.occupancy import BuildingOccupancy
from twin.state.twin import Twin

TZ = ZoneInfo("Asia/Shanghai")
DAY = int(datetime(2024, 3, 5, tzinfo=TZ).timestamp() * 1000)
MINUTE, HOUR = 60_000, 3_600_000

PARK = """
park: {id: p, name: P, timezone: Asia/Shanghai, location: {latitude: 31, longitude: 121}}
zones: [{id: z, name: Z, type: production}]
buildings:
  - {id: b, name: B, zone: z, use: office, floor_area_m2: 100, occupant_capacity: 50}
enterprises:
  - {id: tenant, name: T, industry: x, land_area_mu: 5, buildings: [b]}
devices:
  - {id: grid, kind: grid_main_meter, zone: z, interval_s: 3600}
  - {id: m, kind: sub_meter, building: b, enterprise: tenant, interval_s: 3600}
  # The park's own rooftop PV on the tenant's roof: no enterprise.
  - {id: roof-pv, kind: pv_inverter, building: b, capacity_kwp: 50, interval_s: 3600}
  # Read every 10 minutes: stale after 2 intervals, 20 minutes.
  - {id: occ, kind: occupancy_counter, building: b, interval_s: 600}
"""


def park() -> Park:
    return parse_park(PARK)


def people(times_persons: list[tuple[float, float]]) -> list[Reading]:
    """People-counter readings at local hours of 2024-03-05."""
    return [
        Reading("occ", DAY + round(h * HOUR), {"occupancy_persons": p}) for h, p in times_persons
    ]


def every_ten_minutes(start_h: float, end_h: float, persons: float) -> list[tuple[float, float]]:
    steps = round((end_h - start_h) * 6)
    return [(start_h + k / 6, persons) for k in range(steps + 1)]


def building_at(twin: Twin, hour: float) -> BuildingOccupancy:
    """The occupancy row of building b, with the meter read 10 kWh an hour up to ``hour``."""
    twin.ingest([Reading("m", DAY + h * HOUR, {"energy_kwh": 10.0 * h}) for h in range(9)])
    occupancy = twin.snapshot().occupancy
    assert occupancy is not None and twin.watermark_ms == DAY + round(hour * HOUR)
    return next(row for row in occupancy.buildings if row.building == "b")


def test_hours_a_people_counter_was_silent_are_unknown_not_empty() -> None:
    # Nobody 00:00-02:00 (a reading every 10 minutes), then silent 02:00-05:00 (3 h, beyond the
    # 20-minute stale limit), then 30 people 05:00-08:00. The meter: 10 kWh every hour.
    twin = Twin(park())
    twin.ingest(people(every_ten_minutes(0, 2, 0) + every_ten_minutes(5, 8, 30)))
    row = building_at(twin, 8)
    assert row.person_hours_day == pytest.approx(3 * 30)  # 05-08; the silent 3 h count nothing
    assert row.electricity_kwh_day == pytest.approx(80)
    assert row.empty_hours_day == 2  # 00-02, known and empty
    assert row.empty_electricity_kwh_day == pytest.approx(20)  # not 50: 02-05 is unknown
    assert row.unknown_hours_day == 3
    # kWh per person-hour over the hours whose occupancy is known: (20 + 30) / 90.
    assert row.kwh_per_person_hour == pytest.approx(50 / 90)


def test_an_hour_known_for_at_least_half_of_it_is_judged_on_its_known_part() -> None:
    # Nobody until 02:40, silent until 03:50, nobody again until 08:00. Hour 02 is known for
    # 40 minutes (empty), hour 03 for 10 minutes (unknown).
    twin = Twin(park())
    twin.ingest(people(every_ten_minutes(0, 2 + 40 / 60, 0) + every_ten_minutes(3 + 50 / 60, 8, 0)))
    row = building_at(twin, 8)
    assert row.unknown_hours_day == 1
    assert row.empty_hours_day == 7
    assert row.empty_electricity_kwh_day == pytest.approx(70)
    assert row.kwh_per_person_hour is None  # nobody came: no person-hours to divide by


def test_a_gap_within_the_stale_limit_is_known() -> None:
    # Readings 20 minutes apart (exactly the stale limit): the held value covers them.
    twin = Twin(park())
    twin.ingest(people([(k / 3, 12) for k in range(25)]))
    row = building_at(twin, 8)
    assert row.unknown_hours_day == 0 and row.empty_hours_day == 0
    assert row.person_hours_day == pytest.approx(8 * 12)
    assert row.kwh_per_person_hour == pytest.approx(80 / 96)


def test_a_device_without_an_enterprise_belongs_to_none_in_the_twin_and_in_the_tags() -> None:
    p = park()
    twin = Twin(p)
    twin.ingest(
        [Reading("m", DAY, {"energy_kwh": 0.0}), Reading("roof-pv", DAY, {"energy_kwh": 0.0})]
    )
    twin.ingest(
        [
            Reading("m", DAY + HOUR, {"energy_kwh": 40.0}),
            Reading("roof-pv", DAY + HOUR, {"energy_kwh": 25.0}),
        ]
    )
    day = twin.snapshot().periods["day"]
    (tenant,) = day.enterprises
    assert (tenant.id, tenant.electricity_kwh, tenant.pv_kwh) == ("tenant", 40.0, 0.0)
    (building,) = day.buildings
    assert building.pv_kwh == 25.0  # the building still has it; the tenant does not
    assert "enterprise" not in device_tags(p, "roof-pv")
    assert device_tags(p, "m")["enterprise"] == "tenant"
