"""A small park for tests: one of each common device kind, under a park id of the test's own."""

from __future__ import annotations

from parktwin.park.loader import parse_park
from parktwin.park.model import Park

SMALL_PARK = """
park:
  id: {park_id}
  name: Test park
  timezone: Asia/Shanghai
  location: {{latitude: 30.5, longitude: 120.1}}
zones:
  - {{id: prod, name: Production, type: production}}
  - {{id: home, name: Housing, type: talent_housing}}
buildings:
  - {{id: plant-1, name: Plant 1, zone: prod, use: factory, floor_area_m2: 5000,
     occupant_capacity: 200, shifts: 2}}
  - {{id: flats, name: Flats, zone: home, use: residential, floor_area_m2: 3000,
     occupant_capacity: 150}}
enterprises:
  - {{id: acme, name: ACME, industry: machinery, land_area_mu: 30, buildings: [plant-1]}}
devices:
  - {{id: main, kind: grid_main_meter, zone: prod}}
  - {{id: m-plant, kind: sub_meter, building: plant-1, enterprise: acme}}
  - {{id: m-flats, kind: sub_meter, building: flats}}
  - {{id: pv-1, kind: pv_inverter, building: plant-1, capacity_kwp: 300}}
  - {{id: gas-1, kind: gas_meter, building: plant-1, enterprise: acme}}
  - {{id: occ-1, kind: occupancy_counter, building: plant-1}}
"""


def small_park(park_id: str = "test") -> Park:
    """The small park under ``park_id``."""
    return parse_park(SMALL_PARK.format(park_id=park_id), "small_park")
