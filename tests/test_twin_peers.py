"""Failures seen in other parks' twins, each pinned down here so that ours never repeats them."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from parktwin.contract.reading import Reading
from parktwin.park.loader import parse_park
from parktwin.park.twin import TwinSettings
from twin.model.inputs import MonthlyInputs
from twin.state.twin import Twin

TZ = ZoneInfo("Asia/Shanghai")
H = 3_600_000

PARK = """
park: {id: p, name: P, timezone: Asia/Shanghai, location: {latitude: 31, longitude: 121}}
zones: [{id: z, name: Z, type: production}]
buildings:
  - {id: b, name: B, zone: z, use: factory, floor_area_m2: 100, occupant_capacity: 10}
enterprises:
  - {id: e, name: E, industry: x, land_area_mu: 5, buildings: [b]}
devices:
  - {id: grid, kind: grid_main_meter, zone: z, interval_s: 3600}
  - {id: pv, kind: pv_inverter, building: b, enterprise: e, capacity_kwp: 100, interval_s: 3600}
  - {id: bat, kind: battery, building: b, enterprise: e, capacity_kwh: 100, interval_s: 3600}
  - {id: gas, kind: gas_meter, building: b, enterprise: e, interval_s: 3600}
  - {id: stack, kind: stack_monitor, building: b, enterprise: e, interval_s: 3600}
"""


def at(month: int, day: int, hour: int) -> int:
    return int(datetime(2024, month, day, hour, tzinfo=TZ).timestamp() * 1000)


def twin(**sections: object) -> Twin:
    park = parse_park(PARK)
    return Twin(park, TwinSettings.model_validate(sections))


def test_bad_co2_and_counter_readings_do_not_break_co2_totals() -> None:
    t = twin(accounting={"stack_co2": "process"})
    t.ingest(
        [
            Reading("stack", at(3, 5, 0), {"co2_kg": 1000.0}),
            Reading("gas", at(3, 5, 0), {"gas_m3": 10.0}),
        ]
    )
    t.ingest(
        [
            Reading("stack", at(3, 5, 1), {"co2_kg": -5.0}),  # negative: rejected
            Reading("stack", at(3, 5, 2), {"co2_kg": math.nan}),  # not a number: rejected
            Reading("stack", at(3, 5, 3), {"co2_kg_h": 40.0}),  # counter missing: nothing to add
            Reading("gas", at(3, 5, 3), {"gas_m3": math.inf}),  # rejected
            Reading("grid", at(3, 5, 3), {"energy_import_kwh": "n/a"}),  # type: ignore[dict-item]
        ]
    )
    t.ingest(
        [
            Reading("stack", at(3, 5, 4), {"co2_kg": 1100.0}),
            Reading("gas", at(3, 5, 4), {"gas_m3": 20.0}),
        ]
    )
    snap = t.snapshot()
    assert snap.ingest.rejected_values == 4
    assert snap.ingest.counter_resets == 0  # a rejected value never poses as a meter swap
    account = snap.carbon_month
    assert account is not None
    assert account.process_co2_t == pytest.approx(0.1)  # 1100 − 1000 kg
    assert account.scope1_co2_t == pytest.approx(0.1 + 10 * 2.1622 / 1000)
    assert all(math.isfinite(v) for v in (account.net_co2_t, account.zero_carbon_co2_t))


def test_negative_or_missing_factors_are_refused_by_the_settings() -> None:
    with pytest.raises(ValidationError):
        TwinSettings.model_validate({"emission": {"grid_kg_per_kwh": -0.5}})
    with pytest.raises(ValidationError):
        TwinSettings.model_validate({"emission": {"grid_kg_per_kwh": None}})


def test_stack_co2_is_a_cross_check_by_default_not_added_twice() -> None:
    t = twin()
    t.ingest(
        [
            Reading("stack", at(3, 5, 0), {"co2_kg": 0.0}),
            Reading("gas", at(3, 5, 0), {"gas_m3": 0.0}),
        ]
    )
    t.ingest(
        [
            Reading("stack", at(3, 5, 1), {"co2_kg": 216.0}),
            Reading("gas", at(3, 5, 1), {"gas_m3": 100.0}),
        ]
    )
    account = t.snapshot().carbon_month
    assert account is not None
    assert account.stack_mode == "combustion_check"
    assert account.stack_co2_t == pytest.approx(0.216)  # shown next to the fuel figure
    assert account.scope1_co2_t == pytest.approx(0.21622)  # gas only: not counted twice


def test_solar_and_battery_count_in_the_clean_share() -> None:
    t = twin()
    t.ingest(
        [
            Reading("grid", at(3, 5, 0), {"energy_import_kwh": 0.0, "energy_export_kwh": 0.0}),
            Reading("pv", at(3, 5, 0), {"energy_kwh": 0.0}),
            Reading("bat", at(3, 5, 0), {"energy_charge_kwh": 0.0, "energy_discharge_kwh": 0.0}),
        ]
    )
    # By day PV makes 100 kWh: 60 used at once, 40 into the battery; by night the battery
    # gives back 36 and the grid 50.
    t.ingest(
        [
            Reading("grid", at(3, 5, 22), {"energy_import_kwh": 50.0, "energy_export_kwh": 0.0}),
            Reading("pv", at(3, 5, 22), {"energy_kwh": 100.0}),
            Reading("bat", at(3, 5, 22), {"energy_charge_kwh": 40.0, "energy_discharge_kwh": 36.0}),
        ]
    )
    snap = t.snapshot()
    balance = snap.periods["day"].balance
    assert balance.electricity_consumption_kwh == pytest.approx(50 + 100 + 36 - 40)  # 146
    zero = snap.zero_carbon
    assert zero is not None
    # Clean: all 100 kWh of PV (60 direct + 40 through the battery, 4 of it lost), of 146.
    assert zero.clean_energy_share.value == pytest.approx(100 * 100 / 146)


def test_gas_is_in_the_emissions() -> None:
    t = twin()
    t.ingest([Reading("gas", at(3, 5, 0), {"gas_m3": 0.0})])
    t.ingest([Reading("gas", at(3, 5, 10), {"gas_m3": 1000.0})])
    snap = t.snapshot()
    assert snap.carbon_month is not None and snap.zero_carbon is not None
    assert snap.carbon_month.scope1_co2_t == pytest.approx(2.1622)
    assert snap.carbon_month.net_co2_t == pytest.approx(2.1622)
    assert snap.zero_carbon.co2_t == pytest.approx(2.1622)
    assert snap.periods["day"].enterprises[0].co2_t == pytest.approx(2.1622)
    assert snap.periods["day"].balance.tce.gas_tce == pytest.approx(1.2143)


def test_ratios_over_a_year_are_ratios_of_sums() -> None:
    t = twin()
    start = {"energy_import_kwh": 0.0, "energy_export_kwh": 0.0}
    t.ingest(
        [Reading("grid", at(1, 31, 23), start), Reading("gas", at(1, 31, 23), {"gas_m3": 0.0})]
    )
    # February: 10,000 kWh and no gas. March: 100 kWh and 3,000 m3 of gas.
    feb = {"energy_import_kwh": 10_000.0, "energy_export_kwh": 0.0}
    t.ingest([Reading("grid", at(2, 29, 23), feb), Reading("gas", at(2, 29, 23), {"gas_m3": 0.0})])
    mar = {"energy_import_kwh": 10_100.0, "energy_export_kwh": 0.0}
    t.ingest(
        [Reading("grid", at(3, 31, 22), mar), Reading("gas", at(3, 31, 22), {"gas_m3": 3000.0})]
    )
    # Waste reports: a small month at 100 %, a big month at 50 %.
    t.apply_monthly_inputs(
        MonthlyInputs(month="2024-02", solid_waste_generated_t=1, solid_waste_utilised_t=1)
    )
    t.apply_monthly_inputs(
        MonthlyInputs(month="2024-03", solid_waste_generated_t=99, solid_waste_utilised_t=49.5)
    )
    snap = t.snapshot()
    zero = snap.zero_carbon
    assert zero is not None and snap.carbon_year is not None
    # Almost all of February's energy and CO2 fall in February (the interval starts 31 Jan 23:00).
    tce = snap.periods["year"].balance.tce.energy_tce
    co2 = snap.carbon_year.zero_carbon_co2_t
    assert tce == pytest.approx(10_100 * 0.1229 / 1000 + 3000 * 1.2143 / 1000)
    assert co2 == pytest.approx(10_100 * 0.8325 / 1000 + 3000 * 2.1622 / 1000)
    assert zero.carbon_per_energy.value == pytest.approx(co2 / tce)
    mean_of_monthly_ratios = (0.8325 / 0.1229 + (83.25 + 6486.6) / (12.29 + 3642.9)) / 2
    assert zero.carbon_per_energy.value != pytest.approx(mean_of_monthly_ratios, rel=0.05)
    # (1 + 49.5) / (1 + 99) = 50.5 %, not the mean of 100 % and 50 % (75 %).
    assert zero.solid_waste_utilisation.value == pytest.approx(50.5)
    assert zero.solid_waste_utilisation.missing_months == ["2024-01"]
