"""What-if: scenarios run over a park's stored history (a real InfluxDB) against hand-computed
figures, and scenario files refused with the file, line and field at fault."""

from __future__ import annotations

import asyncio
import csv
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import orjson
import pytest
from conftest import InfluxDatabase, Mosquitto
from helpers import (
    GAS_M3_H,
    OFFICE_KW,
    PEAK_PLANT_KW,
    PLANT_KW,
    WHATIF_FROM,
    WHATIF_HOURS,
    WHATIF_PARK,
    chromium_page,
    local_ms,
    priced_whatif_park,
    store_in_influxdb,
    twin_settings,
    wait_until,
    whatif_park,
    whatif_readings,
)

from parktwin.config import InfluxSettings
from parktwin.park.model import Park
from parktwin.sun import clear_sky_ghi_w_m2, solar_position
from programs.wiring import attach_what_if, twin_service
from whatif.battery import dispatch
from whatif.loader import ScenarioError, parse_scenario
from whatif.pv import pv_generation_kwh
from whatif.run import Comparison, compare
from whatif.scenario import AddPv, Battery

PERIOD = "period: {from: 2025-03, to: 2025-03}\n"
GRID = 0.5306  # kg CO2/kWh, the park's default grid factor (MEE/NBS 2023)
ELECTRICITY_KGCE = 0.1229  # kgce/kWh, calorific equivalent
GAS_KGCE, GAS_KG_CO2 = 1.2143, 2.1622  # per m3

# The two known days by hand: 500 kW for 48 hours, 500 kW more for one hour; 50 m3/h of gas.
IMPORT_KWH = (PLANT_KW + OFFICE_KW) * WHATIF_HOURS + (PEAK_PLANT_KW - PLANT_KW)
GAS_M3 = GAS_M3_H * WHATIF_HOURS
ENERGY_TCE = IMPORT_KWH * ELECTRICITY_KGCE / 1000 + GAS_M3 * GAS_KGCE / 1000


@pytest.fixture
def stored(influxdb: InfluxDatabase, park_id: str) -> tuple[Park, InfluxSettings]:
    park = whatif_park(park_id)
    store_in_influxdb(influxdb, park, whatif_readings())
    return park, InfluxSettings(url=influxdb.url, database=influxdb.name)


async def run(stored: tuple[Park, InfluxSettings], *texts: str) -> Comparison:
    park, settings = stored
    scenarios = [parse_scenario(t, f"s{i}.yaml", park) for i, t in enumerate(texts)]
    return await compare(settings, park, scenarios)


def clear_sky_kwh_per_m2(start_ms: int, hours: int, lat: float, lon: float) -> float:
    """Horizontal clear-sky irradiation, integrated minute by minute (the run samples every ten
    minutes of an hour)."""
    total_wh = 0.0
    for minute in range(hours * 60):
        sun = solar_position(start_ms + minute * 60_000 + 30_000, lat, lon)
        total_wh += clear_sky_ghi_w_m2(sun.elevation_deg) / 60
    return total_wh / 1000


async def test_the_baseline_is_the_stored_days_as_counted_by_hand(stored) -> None:
    result = await run(
        stored,
        PERIOD + "name: nothing much\nchanges: [{kind: efficiency, "
        "building: office, cut_pct: 0.001}]\n",
    )
    base = result.baseline
    assert base.grid_import_kwh == pytest.approx(IMPORT_KWH)
    assert base.gas_m3 == pytest.approx(GAS_M3)
    assert base.energy_tce == pytest.approx(ENERGY_TCE)
    assert base.scope2_location_co2_t == pytest.approx(IMPORT_KWH * GRID / 1000)
    assert base.peak_demand_kw == pytest.approx(PEAK_PLANT_KW + OFFICE_KW)
    assert result.months == ["2025-03"]
    # The last reading, at midnight, is the only one of the next hour: it spans that hour too.
    assert result.steps == 31 * 24 and result.steps_read == WHATIF_HOURS + 1


async def test_without_a_period_the_window_is_the_latest_month_so_far(stored) -> None:
    result = await run(stored, "name: certs\nchanges: [{kind: green_power, share_pct: 10}]\n")
    # Nothing stored before March 2025: the month up to the latest reading's hour.
    assert result.months == ["2025-03"]
    assert result.span.basis.startswith("the latest month so far")
    assert result.steps == 21 * 24 and result.steps_read == WHATIF_HOURS
    assert result.baseline.grid_import_kwh == pytest.approx(IMPORT_KWH)


async def test_flat_pv_on_clear_days_cuts_import_scope_2_and_raises_clean_share_by_its_yield(
    stored,
) -> None:
    scenario = PERIOD + (
        "name: flat PV\nchanges:\n"
        "  - {kind: add_pv, building: plant, kwp: 200, tilt_deg: 0, performance_ratio: 0.8}\n"
    )
    result = await run(stored, scenario)
    # Every kWh is used on site: 200 kWp never makes more than the 500 kW the park draws.
    park = stored[0]
    loc = park.park.location
    insolation = clear_sky_kwh_per_m2(
        local_ms(WHATIF_FROM), WHATIF_HOURS, loc.latitude, loc.longitude
    )
    pv_kwh = 200 * 0.8 * insolation
    assert 4.0 < pv_kwh / 200 / 2 < 6.0  # kWh per kWp and day on the equinox at 31° N, flat
    after = result.scenarios[0].kpis
    diff = result.to_dict()["scenarios"][0]["difference"]
    assert after.pv_generation_kwh == pytest.approx(pv_kwh, rel=2e-3)
    assert diff["grid_import_kwh"] == pytest.approx(-pv_kwh, rel=2e-3)
    assert diff["scope2_location_co2_t"] == pytest.approx(-pv_kwh * GRID / 1000, rel=2e-3)
    assert diff["scope2_market_co2_t"] == pytest.approx(-pv_kwh * GRID / 1000, rel=2e-3)
    # Consumption, and so energy in tce, is unchanged: PV only replaces grid power.
    assert after.energy_tce == pytest.approx(ENERGY_TCE)
    clean_pct = 100 * pv_kwh * ELECTRICITY_KGCE / 1000 / ENERGY_TCE
    assert after.clean_energy_share_pct == pytest.approx(clean_pct, rel=2e-3)
    assert result.baseline.clean_energy_share_pct == 0.0
    assert any("clear-sky sun model" in a for a in result.scenarios[0].assumptions)


async def test_a_battery_shaving_the_peak_lowers_the_months_demand_to_its_target(stored) -> None:
    scenario = PERIOD + (
        "name: shave\nchanges:\n  - {kind: battery, kwh: 1000, kw: 500, dispatch: peak_shave, "
        "target_kw: 600, round_trip_efficiency: 0.81}\n"
    )
    result = await run(stored, scenario)
    after = result.scenarios[0].kpis
    assert result.baseline.peak_demand_kw == pytest.approx(1000)
    assert after.peak_demand_kw == pytest.approx(600)
    assert result.scenarios[0].months[0].peak_demand_kw == pytest.approx(600)
    # The 400 kWh above the target came from the battery; every kWh it took came from the grid,
    # so import grew by its losses: charge - discharge.
    assert after.battery_discharge_kwh == pytest.approx(400)
    assert after.grid_import_kwh - IMPORT_KWH == pytest.approx(
        after.battery_charge_kwh - after.battery_discharge_kwh
    )
    # It started half full (500 kWh), gave 400 / 0.9 = 444.4 kWh of its store and refilled to
    # full at 0.9 a kWh: (1000 - 500 + 444.4) / 0.9 kWh taken.
    assert after.battery_charge_kwh == pytest.approx((500 + 400 / 0.9) / 0.9)


async def test_certificates_move_market_based_scope_2_only(stored) -> None:
    scenario = PERIOD + "name: certs\nchanges: [{kind: green_power, share_pct: 50}]\n"
    result = await run(stored, scenario)
    before, after = result.baseline, result.scenarios[0].kpis
    certificates = math.ceil(IMPORT_KWH * 0.5 / 1000)  # whole certificates of 1,000 kWh
    assert after.green_applied_kwh == pytest.approx(certificates * 1000)
    assert after.scope2_market_co2_t == pytest.approx(
        (IMPORT_KWH - certificates * 1000) * GRID / 1000
    )
    assert after.scope2_location_co2_t == before.scope2_location_co2_t
    assert after.grid_import_kwh == before.grid_import_kwh
    assert after.scope1_co2_t == before.scope1_co2_t
    assert after.energy_tce == before.energy_tce


async def test_heat_pumps_move_the_gas_to_electricity_at_their_cop(stored) -> None:
    scenario = PERIOD + (
        "name: heat pumps\nchanges:\n"
        "  - {kind: electrify_heat, building: plant, to: heat_pump, cop: 3.0}\n"
    )
    result = await run(stored, scenario)
    before, after = result.baseline, result.scenarios[0].kpis
    # 1.2143 kgce/m3 x 29,307.6 kJ/kgce = 9.886 kWh/m3 of gas; 90 % of it was heat (assumed
    # boiler efficiency), and a heat pump makes 3 kWh of heat from 1 kWh of electricity.
    heat_kwh = GAS_M3 * GAS_KGCE * 29_307.6 / 3600 * 0.9
    assert after.gas_m3 == pytest.approx(0.0)
    assert after.grid_import_kwh - before.grid_import_kwh == pytest.approx(heat_kwh / 3)
    assert after.electricity_consumption_kwh - before.electricity_consumption_kwh == (
        pytest.approx(heat_kwh / 3)
    )
    assert before.scope1_co2_t - after.scope1_co2_t == pytest.approx(GAS_M3 * GAS_KG_CO2 / 1000)
    assert any("COP 3" in a for a in result.scenarios[0].assumptions)


async def test_several_scenarios_run_side_by_side_over_one_window(stored) -> None:
    certificates = PERIOD + "name: certs\nchanges: [{kind: green_power, share_pct: 100}]\n"
    cleaner = PERIOD + "name: cleaner grid\nchanges: [{kind: grid_factor, grid_kg_per_kwh: 0.25}]\n"
    result = await run(stored, certificates, cleaner)
    names = [s["name"] for s in result.to_dict()["scenarios"]]
    assert names == ["certs", "cleaner grid"]
    assert result.scenarios[0].kpis.scope2_market_co2_t == pytest.approx(0.0)
    assert result.scenarios[1].kpis.scope2_location_co2_t == pytest.approx(IMPORT_KWH * 0.25 / 1000)
    assert result.to_dict()["label"].startswith("estimate")


async def test_a_period_without_history_is_refused_at_the_scenario_line(stored) -> None:
    text = "name: too early\nperiod: {from: 2024-01, to: 2024-02}\nchanges:\n" + (
        "  - {kind: green_power, share_pct: 10}\n"
    )
    with pytest.raises(ScenarioError) as refused:
        await run(stored, text)
    assert str(refused.value).startswith("s0.yaml:2: period: no history in")


BAD = {
    "unknown kind": ("name: x\nchanges:\n  - kind: fusion\n    mw: 3\n", "x.yaml:3: changes[0]"),
    "negative capacity": (
        "name: x\nchanges:\n  - kind: battery\n    kwh: -5\n    kw: 10\n    dispatch: pv_surplus\n",
        "x.yaml:4: changes[0].kwh: Input should be greater than 0",
    ),
    "unknown building": (
        "name: x\nchanges:\n  - kind: efficiency\n    cut_pct: 5\n    building: nowhere\n",
        "x.yaml:5: changes[0].building: unknown building 'nowhere'",
    ),
    "peak shaving without a target": (
        "name: x\nchanges:\n  - {kind: battery, kwh: 5, kw: 1, dispatch: peak_shave}\n",
        "x.yaml:3: changes[0]: Value error, peak_shave needs target_kw",
    ),
    "a typo in a parameter": (
        "name: x\nchanges:\n  - kind: add_pv\n    kwp: 5\n    tilt: 10\n",
        "x.yaml:5: changes[0].tilt: Extra inputs are not permitted",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_scenarios_are_refused_naming_file_line_and_field(case: str) -> None:
    text, expected = BAD[case]
    with pytest.raises(ScenarioError) as refused:
        parse_scenario(text, "x.yaml", whatif_park("p"))
    assert str(refused.value).startswith(expected), str(refused.value)


def test_example_scenarios_of_the_demo_park_are_valid(tmp_path: Path) -> None:
    from parktwin.park.bundled import demo_park_path
    from parktwin.park.loader import load_park
    from whatif.examples import example_paths
    from whatif.loader import load_scenario

    park = load_park(demo_park_path())
    paths = example_paths()
    assert len(paths) >= 2
    for path in paths:
        assert load_scenario(path, park).scenario.changes


def test_the_command_prints_the_comparison_and_writes_json_and_csv(
    stored, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    park, _ = stored
    park_file = tmp_path / "park.yaml"
    park_file.write_text(WHATIF_PARK.format(park_id=park.park.id))
    scenario = tmp_path / "certs.yaml"
    scenario.write_text(PERIOD + "name: certs\nchanges: [{kind: green_power, share_pct: 50}]\n")
    out_json, out_csv = tmp_path / "out.json", tmp_path / "out.csv"
    command = [sys.executable, "-m", "programs", "what-if", str(scenario), "--park", str(park_file)]
    command += ["--influx-url", influxdb.url, "--database", influxdb.name]
    done = subprocess.run(
        [*command, "--json", str(out_json), "--csv", str(out_csv)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "Scope 2 market-based, t CO2" in done.stdout
    assert "ESTIMATES" in done.stdout
    data = orjson.loads(out_json.read_bytes())
    assert data["scenarios"][0]["kpis"]["scope2_location_co2_t"] == pytest.approx(
        IMPORT_KWH * GRID / 1000
    )
    rows = list(csv.DictReader(out_csv.read_text().splitlines()))
    certs = {r["kpi"]: r for r in rows if r["run"] == "certs"}
    assert float(certs["grid_import_kwh"]["difference"]) == 0.0
    assert float(certs["scope2_market_co2_t"]["difference"]) < 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\nchanges:\n  - kind: efficiency\n    building: nowhere\n    cut_pct: 5\n"
    )
    refused = subprocess.run([*command, str(bad)], capture_output=True, text=True)
    assert refused.returncode == 2
    assert f"{bad}:4: changes[0].building: unknown building 'nowhere'" in refused.stderr


def battery(**fields: object) -> Battery:
    return Battery.model_validate({"kind": "battery", **fields})


def test_a_battery_stores_pv_surplus_and_gives_it_back_at_its_efficiency() -> None:
    # 0.81 round trip: 0.9 each way. 150 kWh, 100 kW, empty at the start, hourly steps.
    flows = dispatch(
        battery(
            kwh=150, kw=100, round_trip_efficiency=0.81, dispatch="pv_surplus", initial_soc_pct=0
        ),
        np.array([-100.0, -100.0, 50.0, 200.0]),
        np.ones(4),
        np.array([11, 12, 18, 19]),
        np.ones(4, dtype=bool),
    )
    # 100 kWh in (90 stored), then only 60 / 0.9 = 66.7 fit; 50 out (55.6 of the store), then
    # what is left, 94.4 x 0.9 = 85.
    assert flows.charge_kwh == pytest.approx([100, 60 / 0.9, 0, 0])
    assert flows.discharge_kwh == pytest.approx([0, 0, 50, (150 - 50 / 0.9) * 0.9])
    assert flows.stored_kwh[-1] == pytest.approx(0)


def test_a_battery_shifting_to_valley_hours_charges_at_night_and_covers_the_day() -> None:
    flows = dispatch(
        battery(
            kwh=100,
            kw=60,
            round_trip_efficiency=1.0,
            dispatch="valley_shift",
            charge_hours=[0, 1],
            discharge_hours=[9, 10],
            initial_soc_pct=0,
        ),
        np.array([20.0, 20.0, 80.0, 80.0, 30.0]),
        np.ones(5),
        np.array([0, 1, 9, 10, 11]),
        np.ones(5, dtype=bool),
    )
    assert flows.charge_kwh == pytest.approx([60, 40, 0, 0, 0])
    assert flows.discharge_kwh == pytest.approx([0, 0, 60, 40, 0])


async def test_the_twins_api_runs_stored_and_posted_scenarios_behind_its_token(
    stored, mosquitto: Mosquitto, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    park, _ = stored
    certs = tmp_path / "certs.yaml"
    certs.write_text(PERIOD + "name: certs\nchanges: [{kind: green_power, share_pct: 50}]\n")
    settings = twin_settings(
        mosquitto, influxdb, tmp_path, twin__rebuild_from_history=False, api__token="t0ken"
    )
    service = twin_service(park, settings)
    attach_what_if(service, [certs])  # as the programs do; the twin knows nothing of what-if
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await wait_until(lambda: service.api_url is not None or task.done(), 30)
        bearer = {"Authorization": "Bearer t0ken"}
        async with aiohttp.ClientSession(service.api_url) as http:
            async with http.get("/api/what-if") as response:
                assert response.status == 401
            async with http.get("/api/what-if", headers=bearer) as response:
                listing = await response.json()
            assert listing["scenarios"][0]["id"] == "certs"
            async with http.get("/api/what-if/run?scenario=certs", headers=bearer) as response:
                assert response.status == 200
                result = await response.json()
            assert result["label"].startswith("estimate")
            after = result["scenarios"][0]["kpis"]
            assert after["scope2_location_co2_t"] == pytest.approx(IMPORT_KWH * GRID / 1000)
            heat_pumps = PERIOD + "name: hp\nchanges: [{kind: electrify_heat, cop: 3.0}]\n"
            posted = "/api/what-if?scenario=certs"
            async with http.post(posted, data=heat_pumps, headers=bearer) as response:
                assert response.status == 200
                both = await response.json()
            assert [s["name"] for s in both["scenarios"]] == ["hp", "certs"]
            assert both["scenarios"][0]["kpis"]["gas_m3"] == pytest.approx(0.0)
            bad = "name: bad\nchanges:\n  - kind: battery\n    kwh: -1\n    kw: 5\n"
            async with http.post("/api/what-if", data=bad, headers=bearer) as response:
                assert response.status == 400
                refused = await response.json()
            assert refused["problems"][0].startswith("posted scenario:4: changes[0].kwh")
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def test_the_what_if_page_compares_the_picked_scenarios(
    stored, mosquitto: Mosquitto, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    park, _ = stored
    certs = tmp_path / "certs.yaml"
    certs.write_text(PERIOD + "name: certs\nchanges: [{kind: green_power, share_pct: 100}]\n")
    settings = twin_settings(mosquitto, influxdb, tmp_path, twin__rebuild_from_history=False)
    service = twin_service(park, settings)
    attach_what_if(service, [certs])
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await wait_until(lambda: service.api_url is not None or task.done(), 30)
        async with chromium_page(tmp_path, f"{service.api_url}/what-if") as page:

            async def shows(expression: str) -> Any:
                for _ in range(300):
                    found = await page.evaluate(expression)
                    if found:
                        return found
                    await asyncio.sleep(0.1)
                raise AssertionError(f"the page never showed {expression}")

            await shows('document.querySelector("input[value=certs]") !== null')
            await page.evaluate('document.querySelector("input[value=certs]").click()')
            await page.evaluate('document.getElementById("compare").click()')
            cells = await shows(
                'JSON.stringify([...(document.querySelector("tr[data-kpi=scope2_market_co2_t]")'
                " || {children: []}).children].map(c => c.textContent))"
                ' .replace(/^\\[\\]$/, "")'
            )
            label, baseline, scenario, change = json.loads(cells)
            assert label.startswith("Scope 2 market-based")
            assert float(baseline) == pytest.approx(IMPORT_KWH * GRID / 1000, abs=1e-3)
            assert float(scenario) == 0.0
            assert float(change) == pytest.approx(-float(baseline), abs=1e-3)
            assert "estimate" in await page.evaluate(
                'document.querySelector(".estimate").textContent'
            )
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def test_a_tenant_like_a_building_and_an_enterprises_cut_add_up_by_hand(stored) -> None:
    scenario = PERIOD + (
        "name: tenant and savings\nchanges:\n"
        "  - {kind: new_tenant, like: office, floor_area_m2: 1000, carriers: [electricity]}\n"
        "  - {kind: efficiency, enterprise: acme, cut_pct: 10}\n"
    )
    result = await run(stored, scenario)
    before, after = result.baseline, result.scenarios[0].kpis
    tenant_kwh = OFFICE_KW * 1000 / 2000 * WHATIF_HOURS  # half the office's area, its use
    plant_kwh = PLANT_KW * WHATIF_HOURS + (PEAK_PLANT_KW - PLANT_KW)  # acme occupies the plant
    expected = tenant_kwh - 0.10 * plant_kwh
    assert after.grid_import_kwh - before.grid_import_kwh == pytest.approx(expected)
    assert after.electricity_consumption_kwh - before.electricity_consumption_kwh == (
        pytest.approx(expected)
    )
    assert after.gas_m3 == before.gas_m3  # electricity only, as both changes say


def test_pv_like_the_parks_own_is_its_measured_yield_per_kwp() -> None:
    change = AddPv(kind="add_pv", kwp=50, profile="measured")
    location = whatif_park("p").park.location
    measured = np.array([0.0, 10.0, 20.0])
    generation, note = pv_generation_kwh(change, np.array([0, 1, 2, 3]), location, measured, 100)
    assert generation == pytest.approx([0.0, 5.0, 10.0])
    assert "measured PV" in note


async def test_costs_by_the_parks_tariff_and_the_demand_a_battery_saves(
    influxdb: InfluxDatabase, park_id: str
) -> None:
    park = priced_whatif_park(park_id)
    store_in_influxdb(influxdb, park, whatif_readings())
    settings = InfluxSettings(url=influxdb.url, database=influxdb.name)
    shave = PERIOD + (
        "name: shave\nchanges:\n  - {kind: battery, kwh: 1000, kw: 500, dispatch: peak_shave, "
        "target_kw: 600, round_trip_efficiency: 0.81}\n"
    )
    flat = PERIOD + (
        "name: flat tariff\nchanges:\n  - kind: tariff\n    versions:\n"
        "      - {valid_from: 2025-01-01, source: offer, bands: {flat: 0.5}, seasons: [{name: all,"
        " months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], weekday: [{from: '00:00', to: '24:00',"
        " band: flat}]}]}\n"
    )
    scenarios = [parse_scenario(t, f"s{i}.yaml", park) for i, t in enumerate((shave, flat))]
    result = await compare(settings, park, scenarios)
    before, after = result.baseline, result.scenarios[0].kpis
    # Two weekdays: 8 valley hours at 0.4 and 16 peak hours at 1.0 of 500 kWh, and 500 kWh
    # more at 10:00 (peak).
    assert before.cost_energy_yuan == pytest.approx(2 * (8 * 500 * 0.4 + 16 * 500 * 1.0) + 500)
    # 1,000 kW against 800 contracted: above 105 % (840), the maximum is charged and the 160 kW
    # above 840 once more, at 40 a kW.
    assert before.cost_basic_yuan == pytest.approx(1000 * 40 + 160 * 40)
    assert before.cost_gas_yuan == pytest.approx(GAS_M3 * 3.0)
    assert before.cost_total_yuan == pytest.approx(19_700 + 46_400 + 7_200)
    # Shaved to 600 kW: the contracted 800 kW is charged. The battery refills 500 / 0.9 kWh in
    # the valley before the peak and (400 / 0.9) / 0.9 kWh at the peak price after it, and gives
    # 400 kWh at 10:00 (peak).
    assert after.cost_basic_yuan == pytest.approx(800 * 40)
    energy_change = 500 / 0.9 * 0.4 + 400 / 0.81 * 1.0 - 400 * 1.0
    assert after.cost_energy_yuan - before.cost_energy_yuan == pytest.approx(energy_change)
    assert after.cost_total_yuan - before.cost_total_yuan == pytest.approx(
        energy_change - (46_400 - 32_000)
    )
    assert "CNY" in result.costs_basis and "examples" in result.costs_basis
    # The offer: every kWh at 0.5, no basic charge, no gas price; the same flows.
    offer = result.scenarios[1].kpis
    assert offer.cost_total_yuan == pytest.approx(IMPORT_KWH * 0.5)
    assert offer.grid_import_kwh == before.grid_import_kwh
