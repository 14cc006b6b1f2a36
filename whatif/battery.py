"""A new battery dispatched step by step against the park's net grid flow.

Losses are split evenly between charging and discharging (each side at the square root of the
round-trip efficiency), so a kWh stored and given back costs 1 / efficiency kWh from the grid
or the panels. The battery never exports: it discharges only into the park's own use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from whatif.scenario import Battery

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class BatteryFlows:
    """What the battery took (``charge_kwh``) and gave (``discharge_kwh``) in each step."""

    charge_kwh: Floats
    discharge_kwh: Floats
    stored_kwh: Floats  # at the end of each step


def dispatch(
    battery: Battery, net_kwh: Floats, step_h: Floats, local_hour: Ints, measured: Bools
) -> BatteryFlows:
    """Charge and discharge per step for a net grid flow (import positive, export negative);
    the battery rests in steps that were not ``measured`` (nothing is known of them)."""
    one_way = math.sqrt(battery.round_trip_efficiency)
    capacity = battery.kwh
    stored = capacity * battery.initial_soc_pct / 100
    steps = len(net_kwh)
    charge, discharge, level = np.zeros(steps), np.zeros(steps), np.zeros(steps)
    charging = set(battery.charge_hours)
    discharging = set(battery.discharge_hours)
    rule = battery.dispatch
    for i, (net, hours, hour, known) in enumerate(
        zip(net_kwh.tolist(), step_h.tolist(), local_hour.tolist(), measured.tolist(), strict=True)
    ):
        if not known:
            level[i] = stored
            continue
        limit = battery.kw * hours  # kWh the power limit lets through in this step
        can_take = (capacity - stored) / one_way
        can_give = stored * one_way
        take = give = 0.0
        if rule == "pv_surplus":
            if net < 0:
                take = min(-net, limit, can_take)
            else:
                give = min(net, limit, can_give)
        elif rule == "peak_shave":
            assert battery.target_kw is not None  # checked by the schema
            cap_kwh = battery.target_kw * hours
            if net > cap_kwh:
                give = min(net - cap_kwh, limit, can_give)
            else:
                take = min(cap_kwh - net, limit, can_take)
        elif hour in charging:
            take = min(limit, can_take)
        elif hour in discharging:
            give = min(max(net, 0.0), limit, can_give)
        stored += take * one_way - give / one_way
        charge[i], discharge[i], level[i] = take, give, stored
    return BatteryFlows(charge, discharge, level)
