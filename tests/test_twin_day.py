"""A hand-worked day of a small park: every KPI equals the arithmetic written beside it.

The park (Asia/Shanghai, UTC+8): a grid main meter, a PV inverter and a battery on the fab, two
sub-meters (fab, lab) below the grid meter, a line meter below the fab meter (must not be
counted twice), a gas meter and a people counter in the fab, two enterprises. Readings fall on
2024-03-05 at local hours 0, 6, 12, 18 and 23, with a counter reset (lab meter replaced at
12:00), a gap (fab meter silent at 18:00), a duplicate and an out-of-order reading. The park
and the readings are ``DAY_PARK`` and ``day_batches`` in helpers.py, which other twin tests share.
"""

from __future__ import annotations

import pytest
from helpers import at, day_snapshot

from twin.state.snapshot import TwinSnapshot


@pytest.fixture(scope="module")
def snap() -> TwinSnapshot:
    return day_snapshot()


def test_watermark_and_ingest_counts(snap: TwinSnapshot) -> None:
    assert snap.watermark_ms == at(23)
    assert snap.local_time == "2024-03-05T23:00:00+08:00"
    assert snap.ingest.unknown_device_readings == 1
    assert snap.ingest.duplicate_values == 1
    assert snap.ingest.out_of_order_values == 1
    assert snap.ingest.counter_resets == 1
    assert snap.devices.row("m_lab")["counter_resets"] == 1
    assert snap.channels.get("bat", "soc_pct") == 55


def test_energy_balance(snap: TwinSnapshot) -> None:
    day = snap.periods["day"]
    assert day.label == "2024-03-05"
    b = day.balance
    assert b.grid_import_kwh == pytest.approx(1400 - 1000)  # 400
    assert b.grid_export_kwh == pytest.approx(130 - 50)  # 80
    assert b.pv_generation_kwh == pytest.approx(5300 - 5000)  # 300
    assert b.pv_self_consumption_kwh == pytest.approx(300 - 80)  # 220
    assert b.battery_charge_kwh == pytest.approx(150 - 100)  # 50
    assert b.battery_discharge_kwh == pytest.approx(125 - 80)  # 45
    # import − export + PV + discharge − charge = 400 − 80 + 300 + 45 − 50
    assert b.electricity_consumption_kwh == pytest.approx(615)
    # fab 2450 − 2000 = 450; lab 40 + 15 (reset) + 30 + 20 = 105; the line meter is inside fab
    assert b.sub_metered_kwh == pytest.approx(450 + 105)
    assert b.unmetered_kwh == pytest.approx(615 - 555)
    assert b.gas_m3 == pytest.approx(100)
    # tce: 615 kWh × 0.1229 kgce/kWh + 100 m3 × 1.2143 kgce/m3 = 75.5835 + 121.43 kgce
    assert b.tce.electricity_basis == "calorific"
    assert b.tce.electricity_tce == pytest.approx(0.0755835)
    assert b.tce.gas_tce == pytest.approx(0.12143)
    assert b.tce.energy_tce == pytest.approx(0.1970135)
    # First data ever: month and year equal the day.
    assert snap.periods["year"].balance.electricity_consumption_kwh == pytest.approx(615)


def test_places_do_not_count_parent_meters_twice(snap: TwinSnapshot) -> None:
    day = snap.periods["day"]
    buildings = {p.id: p for p in day.buildings}
    assert buildings["b_fab"].electricity_kwh == pytest.approx(450)  # m_line is inside m_fab
    assert buildings["b_lab"].electricity_kwh == pytest.approx(105)
    assert buildings["b_fab"].pv_kwh == pytest.approx(300)
    zones = {p.id: p for p in day.zones}
    assert zones["z_prod"].electricity_kwh == pytest.approx(555)
    assert zones["z_home"].electricity_kwh == 0
    enterprises = {p.id: p for p in day.enterprises}
    assert enterprises["e_fab"].gas_m3 == pytest.approx(100)
    # e_fab: 450 kWh × 0.5306 + 100 m3 × 2.1622 = 238.77 + 216.22 kg
    assert enterprises["e_fab"].co2_t == pytest.approx(0.45499)
    # The line meter's own consumption is still there per device: 110 − 10.
    assert snap.flows.get("m_line", "energy_kwh", "day") == pytest.approx(100)


def test_gap_is_spread_over_the_hours_it_spans(snap: TwinSnapshot) -> None:
    # m_fab: 2250 at 12:00, nothing at 18:00, 2450 at 23:00: 200 kWh over 11 hours.
    # The current hour (23:00-24:00) has nothing yet: the last interval ended at 23:00.
    assert snap.periods["hour"].label == "2024-03-05T23"
    assert snap.flows.get("m_fab", "energy_kwh", "hour") == 0


def test_carbon_account(snap: TwinSnapshot) -> None:
    c = snap.carbon_month
    assert c is not None
    assert c.gas_co2_t == pytest.approx(100 * 2.1622 / 1000)  # 0.21622
    assert c.scope1_co2_t == pytest.approx(0.21622)
    assert c.scope2_location_co2_t == pytest.approx(400 * 0.5306 / 1000)  # 0.21224
    assert c.green_applied_kwh == pytest.approx(100)  # direct contract, below 400 imported
    assert c.scope2_market_co2_t == pytest.approx((400 - 100) * 0.5306 / 1000)  # 0.15918
    # 910号: fuel + non-green grid at the fossil factor = 0.21622 + 300 × 0.8325 / 1000
    assert c.zero_carbon_co2_t == pytest.approx(0.21622 + 0.24975)
    # Sinks: 2 ha × 3 t/ha/yr over 1 March 00:00 → 5 March 23:00 (119 h) of 2024 (8784 h)
    assert c.sinks_co2_t == pytest.approx(6 * 119 / 8784)
    assert c.net_co2_t == pytest.approx(0.21622 + 0.15918 - 6 * 119 / 8784)
    assert c.grid_basis.startswith("national average 2023")
    assert snap.carbon_year is not None
    assert snap.carbon_year.net_co2_t == pytest.approx(c.net_co2_t)


def test_zero_carbon_indicators(snap: TwinSnapshot) -> None:
    z = snap.zero_carbon
    assert z is not None
    # 0.46597 t CO2 / 0.1970135 tce
    assert z.carbon_per_energy.value == pytest.approx(0.46597 / 0.1970135)
    assert z.carbon_per_energy.threshold == 0.2
    assert "assumed" in z.carbon_per_energy.basis  # < 200,000 tce band
    assert z.carbon_per_energy.passes is False
    # Clean: PV self-consumed 220 + green contract 100 = 320 kWh × 0.1229 = 39.328 kgce
    assert z.clean_energy_tce == pytest.approx(0.039328)
    assert z.clean_energy_share.value == pytest.approx(100 * 0.039328 / 0.1970135)
    # No monthly inputs: reported missing, never guessed.
    assert z.solid_waste_utilisation.missing
    assert z.solid_waste_utilisation.missing_months == ["2024-01", "2024-02", "2024-03"]
    assert z.product_energy.missing


def test_occupancy(snap: TwinSnapshot) -> None:
    occ = snap.occupancy
    assert occ is not None
    fab = next(b for b in occ.buildings if b.building == "b_fab")
    assert fab.persons == 0  # 23:00 reading
    # 0 people 00-08, 80 people 08-18, 10 people 18-23: 0 + 800 + 50
    assert fab.person_hours_day == pytest.approx(850)
    assert fab.electricity_kwh_day == pytest.approx(450)
    assert fab.kwh_per_person_hour == pytest.approx(450 / 850)
    # Empty hours 00-08: 6 h × 100/6 kWh (00-06) + 2 h × 150/6 kWh (06-12 rate)
    assert fab.empty_hours_day == 8
    assert fab.empty_electricity_kwh_day == pytest.approx(100 + 50)
    lab = next(b for b in occ.buildings if b.building == "b_lab")
    assert lab.persons is None and lab.empty_hours_day == 0  # no counter: never "empty"
    jobs = occ.jobs_housing
    assert jobs.workplace_capacity_persons == 150 and jobs.housing_capacity_persons == 80
    assert jobs.workplace_per_housing_capacity == pytest.approx(150 / 80)


def test_enterprise_evaluation(snap: TwinSnapshot) -> None:
    ev = snap.enterprises
    assert ev is not None
    rows = {r.enterprise: r for r in ev.enterprises}
    fab, lab = rows["e_fab"], rows["e_lab"]
    assert fab.indicators["tax_per_mu"] == pytest.approx(30 / 30)
    assert lab.indicators["value_added_per_mu"] == pytest.approx(60 / 10)
    # Generation equivalent: 450 kWh × 0.29 + 100 m3 × 1.2143 = 251.93 kgce
    assert fab.energy_tce == pytest.approx(0.25193)
    assert fab.indicators["value_added_per_tce"] == pytest.approx(120 / 0.25193)
    assert lab.indicators["rnd_share"] == pytest.approx(15)
    # Benchmarks are park values, ratios of sums: tax 50 / 40 mu; VA 180 / 40 mu; ...
    assert ev.benchmarks["tax_per_mu"] == pytest.approx(50 / 40)
    assert ev.benchmarks["labour_productivity"] == pytest.approx(180 / 140)
    assert ev.benchmarks["value_added_per_tce"] == pytest.approx(180 / (0.25193 + 0.03045))
    co2_fab, co2_lab = 0.21622 + 450 * 0.5306 / 1000, 105 * 0.5306 / 1000
    expected = (
        30 * (1 / 1.25)
        + 20 * (4 / 4.5)
        + 20 * (1.2 / (180 / 140))
        + 10 * ((120 / 0.25193) / (180 / 0.28238))
        + 10 * ((120 / co2_fab) / (180 / (co2_fab + co2_lab)))
        + 10 * (5 / (100 * 55 / 700))
    )
    assert fab.score == pytest.approx(expected)
    # Two enterprises: A at most floor(0.4) = 0, D at least ceil(0.1) = 1, B round(0.8) = 1.
    assert (lab.grade, fab.grade) == ("B", "D")
    assert fab.financial_months == ["2024-03"]


def test_snapshot_is_json_ready(snap: TwinSnapshot) -> None:
    import orjson

    data = snap.to_dict()
    assert orjson.loads(orjson.dumps(data)) == data
    assert data["zero_carbon"]["carbon_per_energy"]["passes"] is False
