"""What the park's energy costs, on event time: each figure equals the hand computation beside it.

The tariff is tests/helpers.py's (tariff_park) (example figures): summer weekdays valley 0-8 (0.3),
peak 8-11 and 13-19 (1.2), sharp 11-13 (1.5), flat 19-24 (0.7); the rest of the year weekdays
valley 0-8, peak 8-12 and 17-21 (1.1 in that season), flat 12-17 and 21-24; weekends valley 0-8,
flat 8-24; holidays valley 0-10, deep valley 10-14 (0.15), flat 14-24. A demand charge of
40 yuan/kW-month on 100 kW contracted; from 2026-11-16 a revision (valley 0.35, peak 1.25,
flat 0.75, demand 45).
"""

from __future__ import annotations

import pytest
from helpers import SMALL_PARK, TARIFFS, local_ms, small_park, steady, tariff_park
from hypothesis import given, settings
from hypothesis import strategies as st

from parktwin.contract.reading import Reading
from twin.state.twin import Twin


def bands(cost) -> dict[str, tuple[float, float]]:
    """Each band's (kWh, yuan) of the park's import, to the micro-unit."""
    return {b.band: (round(b.kwh, 6), round(b.yuan, 6)) for b in cost.park.bands if b.kwh}


def test_a_day_crossing_every_band_a_holiday_and_a_season_change() -> None:
    twin = Twin(tariff_park())
    # 10 kW from Wednesday 30 September (summer weekday) to the end of Thursday 1 October
    # (a holiday, and the first day of the "rest" season).
    twin.ingest(
        list(steady("main", "energy_import_kwh", 10, "2026-09-30T00:00", "2026-10-02T00:00"))
    )
    sep30 = twin.period_costs("day", "2026-09-30")
    oct1 = twin.period_costs("day", "2026-10-01")
    assert sep30 is not None and oct1 is not None
    # 30 Sep: valley 8 h = 80 kWh x 0.3 = 24; peak 3 + 6 h = 90 kWh x 1.2 = 108;
    # sharp 2 h = 20 kWh x 1.5 = 30; flat 5 h = 50 kWh x 0.7 = 35.
    assert bands(sep30) == {
        "valley": (80, 24), "peak": (90, 108), "sharp": (20, 30), "flat": (50, 35)
    }  # fmt: skip
    assert sep30.park.energy_yuan == pytest.approx(24 + 108 + 30 + 35)
    # 1 Oct, a holiday: valley 10 h = 100 x 0.3 = 30; deep valley 4 h = 40 x 0.15 = 6;
    # flat 10 h = 100 x 0.7 = 70.
    assert bands(oct1) == {"valley": (100, 30), "deep_valley": (40, 6), "flat": (100, 70)}
    assert oct1.park.energy_yuan == pytest.approx(106)
    # Hours are priced by their own band: 11:00-12:00 on 1 Oct is deep valley, 10 kWh x 0.15.
    hour = twin.period_costs("hour", "2026-10-01T11")
    assert hour is not None and bands(hour) == {"deep_valley": (10, 1.5)}


def test_a_make_up_workday_is_priced_as_a_weekday() -> None:
    twin = Twin(tariff_park())
    # Saturday 10 October 2026 is a make-up workday: 08:00-12:00 is peak (1.1), not flat.
    twin.ingest(
        list(steady("main", "energy_import_kwh", 10, "2026-10-10T09:00", "2026-10-10T10:00"))
    )
    hour = twin.period_costs("hour", "2026-10-10T09")
    assert hour is not None and bands(hour) == {"peak": (10, 11)}


def test_a_tariff_revision_in_the_middle_of_a_month() -> None:
    twin = Twin(tariff_park())
    # 10 kW over Sunday 15 November (old prices) and Monday 16 November (the revision's).
    twin.ingest(
        list(steady("main", "energy_import_kwh", 10, "2026-11-15T00:00", "2026-11-17T00:00"))
    )
    month = twin.period_costs("month", "2026-11")
    assert month is not None
    # 15 Nov (weekend, version 1): valley 80 kWh x 0.3 = 24; flat 160 kWh x 0.7 = 112.
    # 16 Nov (weekday, version 2): valley 80 x 0.35 = 28; peak 80 x 1.25 = 100;
    # flat 80 x 0.75 = 60.
    assert bands(month) == {"valley": (160, 24 + 28), "flat": (240, 112 + 60), "peak": (80, 100)}
    assert month.park.energy_yuan == pytest.approx(324)
    # The basic charge: 10 kW is below the contract, so 100 kW is charged; half the month at
    # 40 yuan/kW and half at 45: 100 x 40 x 15/30 + 100 x 45 x 15/30 = 4,250.
    assert month.park.basic_yuan == pytest.approx(4250)
    assert month.park.total_yuan == pytest.approx(324 + 4250)


def test_a_month_with_a_demand_peak_above_the_contract() -> None:
    twin = Twin(tariff_park())
    readings = [
        # 104 kW for 15 minutes on 14 October (within 105 % of 100 kW)...
        *steady("main", "energy_import_kwh", 104, "2026-10-14T10:00", "2026-10-14T10:15"),
        # ...and 130 kW for 15 minutes on 15 October, 26 kWh counted on from 14 October's end.
        Reading("main", local_ms("2026-10-15T14:00"), {"energy_import_kwh": 26.0}),
        Reading("main", local_ms("2026-10-15T14:15"), {"energy_import_kwh": 26.0 + 32.5}),
    ]
    twin.ingest(readings)
    demand = twin.snapshot().costs.demand
    assert demand.max_kw == pytest.approx(130)
    assert demand.at_ms == local_ms("2026-10-15T14:00")
    # Above 105 kW: the maximum is charged, and the 25 kW above 105 once more:
    # 130 x 40 + 25 x 40 = 5,200 + 1,000 = 6,200.
    assert demand.basic.charge_yuan == pytest.approx(6200)
    assert demand.basic.demand[0].excess_kw == pytest.approx(25)


def test_pv_export_earns_the_feed_in_price_and_pv_used_on_site_saves_the_band_price() -> None:
    twin = Twin(tariff_park())
    # A summer weekday, 14:00-15:00 (peak, 1.2): PV makes 50 kWh, 20 kWh go to the grid and
    # 30 kWh are still bought.
    start, end = "2026-09-29T14:00", "2026-09-29T15:00"
    twin.ingest(
        [
            *steady("pv-1", "energy_kwh", 50, start, end),
            *steady("main", "energy_export_kwh", 20, start, end),
            *steady("main", "energy_import_kwh", 30, start, end),
        ]
    )
    hour = twin.period_costs("hour", "2026-09-29T14")
    assert hour is not None
    park = hour.park
    assert park.feed_in_revenue_yuan == pytest.approx(20 * 0.4)  # 8
    assert park.pv_self_use_kwh == pytest.approx(30)
    assert park.pv_savings_yuan == pytest.approx(30 * 1.2)  # 36
    assert park.energy_yuan == pytest.approx(30 * 1.2)  # 36 bought
    assert park.total_yuan == pytest.approx(36 - 8)


def test_a_tenant_bill_and_the_invoice_it_adds_up_to() -> None:
    twin = Twin(tariff_park())
    # Tuesday 13 October, a weekday of the "rest" season: ACME's plant 10 kW, the park's own
    # flats 5 kW, the main meter 16 kW (1 kW lost), ACME's gas 10 m3 over the day.
    day = ("2026-10-13T00:00", "2026-10-14T00:00")
    twin.ingest(
        [
            *steady("m-plant", "energy_kwh", 10, *day),
            *steady("m-flats", "energy_kwh", 5, *day),
            *steady("main", "energy_import_kwh", 16, *day),
            *steady("gas-1", "gas_m3", 10 / 24, *day),
        ]
    )
    bills = twin.bills("2026-10")
    assert bills is not None
    (acme,) = bills.bills
    # ACME: valley 80 kWh x 0.3 = 24, peak 80 x 1.1 = 88, flat 80 x 0.7 = 56: 240 kWh, 168.
    assert acme.electricity_kwh == pytest.approx(240)
    assert acme.energy_yuan == pytest.approx(168)
    # The basic charge, 100 kW x 40 = 4,000, shared by sub-metered kWh: ACME 240 of 360.
    assert acme.basic_yuan == pytest.approx(4000 * 240 / 360)
    assert acme.gas_yuan == pytest.approx(10 * 3.5)
    assert acme.total_yuan == pytest.approx(168 + 4000 * 240 / 360 + 35)
    r = bills.reconciliation
    # The invoice: 384 kWh (valley 128 x 0.3 + peak 128 x 1.1 + flat 128 x 0.7 = 268.8) + 4,000.
    assert r.invoice_total_yuan == pytest.approx(268.8 + 4000)
    # The park's own flats: 120 kWh, 84 yuan, and their third of the basic charge.
    assert r.own_loads_yuan == pytest.approx(84 + 4000 * 120 / 360)
    # What no sub-meter saw: 24 kWh (1 kW all day), priced 8 x 0.3 + 8 x 1.1 + 8 x 0.7 = 16.8.
    assert r.difference_kwh == pytest.approx(24)
    assert r.difference_yuan == pytest.approx(16.8)
    assert r.tenants_electricity_yuan + r.own_loads_yuan + r.difference_yuan == pytest.approx(
        r.invoice_total_yuan
    )
    assert not bills.complete


def test_costs_survive_a_checkpoint_exactly() -> None:
    park = tariff_park()
    twin = Twin(park)
    twin.ingest(
        list(steady("main", "energy_import_kwh", 10, "2026-09-30T00:00", "2026-09-30T12:00"))
    )
    restored = Twin.restore(park, None, twin.checkpoint())
    assert restored.snapshot().costs == twin.snapshot().costs


def test_carbon_costs_the_periods_co2_at_the_configured_price() -> None:
    twin = Twin(tariff_park(carbon=100))
    twin.ingest(list(steady("m-plant", "energy_kwh", 10, "2026-10-13T00:00", "2026-10-13T10:00")))
    day = twin.period_costs("day", "2026-10-13")
    assert day is not None
    # 100 kWh of sub-metered electricity at the default grid factor 0.5306 kg/kWh: 0.05306 t.
    assert day.park.co2_t == pytest.approx(100 * 0.5306 / 1000)
    assert day.park.carbon_yuan == pytest.approx(100 * 0.5306 / 1000 * 100)


def test_a_park_without_tariffs_reports_no_cost() -> None:

    twin = Twin(small_park())
    twin.ingest(
        list(steady("main", "energy_import_kwh", 10, "2026-12-01T00:00", "2026-12-01T01:00"))
    )
    assert twin.snapshot().costs is None
    assert twin.bills("2026-10") is None


def test_cost_kpi_points_and_the_summary() -> None:
    from twin.service.kpi_lines import kpi_lines
    from twin.state.summary import kpi_summary

    park = tariff_park()
    twin = Twin(park)
    twin.ingest(
        list(steady("main", "energy_import_kwh", 10, "2026-10-13T00:00", "2026-10-13T09:00"))
    )
    snapshot = twin.snapshot()
    state = snapshot.to_dict()
    lines = kpi_lines(park, snapshot, state)
    day = next(p for p in lines if p.startswith("twin_cost,park=tariffed,period=day "))
    # 8 h valley (80 kWh x 0.3 = 24) and 1 h peak (10 kWh x 1.1 = 11).
    assert "valley_yuan=24.0" in day and "peak_yuan=11.0" in day and "energy_yuan=35.0" in day
    assert any(p.startswith("twin_cost_place,") and "level=enterprise" in p for p in lines)
    demand = next(p for p in lines if p.startswith("twin_cost_demand,park=tariffed "))
    assert "max_kw=10.0" in demand and "contracted_kw=100.0" in demand
    summary = kpi_summary(park, state)["costs"]
    assert summary["today"]["energy_yuan"] == pytest.approx(35)
    assert summary["band_now"] == "peak" and summary["currency"] == "CNY"


def test_parktwin_bill_writes_csv_and_xlsx_from_the_twins_checkpoint(tmp_path) -> None:
    import csv

    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from programs.cli import app

    park_file = tmp_path / "park.yaml"
    park_file.write_text(SMALL_PARK.format(park_id="billed") + TARIFFS.format(carbon=0))
    twin = Twin(tariff_park("billed"))
    day = ("2026-10-13T00:00", "2026-10-14T00:00")
    twin.ingest(
        [*steady("m-plant", "energy_kwh", 10, *day), *steady("main", "energy_import_kwh", 16, *day)]
    )
    (tmp_path / "billed.twin").write_bytes(twin.checkpoint())
    common = [
        "bill",
        "--month",
        "2026-10",
        "--park",
        str(park_file),
        "--checkpoint-dir",
        str(tmp_path),
    ]
    runner = CliRunner()
    result = runner.invoke(app, [*common, "--output", str(tmp_path / "bills.csv")])
    assert result.exit_code == 0, result.output
    with (tmp_path / "bills.csv").open(encoding="utf-8-sig") as f:
        rows = {(r["enterprise"], r["item"]): r for r in csv.DictReader(f)}
    # ACME: 240 kWh for 168 yuan (valley 24, peak 88, flat 56) and the whole basic charge
    # (the only sub-metered load): 100 kW x 40 = 4,000.
    assert float(rows[("acme", "energy:peak")]["amount_CNY"]) == pytest.approx(88)
    assert float(rows[("acme", "total")]["amount_CNY"]) == pytest.approx(168 + 4000)
    # 6 kW nobody sub-meters: 144 kWh, 48 x 0.3 + 48 x 1.1 + 48 x 0.7 = 100.8.
    assert float(rows[("park", "difference")]["amount_CNY"]) == pytest.approx(100.8)
    result = runner.invoke(app, [*common, "--output", str(tmp_path / "bills.xlsx")])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(tmp_path / "bills.xlsx").active
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert values[0][-1] == "amount_CNY"
    assert ("acme", "ACME", "2026-10", "total", 240, "kWh", pytest.approx(4168)) in values


def test_place_cost_points_from_the_columns_are_the_points_of_the_rows() -> None:
    from twin.service.kpi_lines import KpiLines

    park = tariff_park()
    twin = Twin(park)
    twin.ingest(
        [
            *steady("m-plant", "energy_kwh", 10, "2026-10-13T00:00", "2026-10-13T09:00"),
            *steady("gas-1", "gas_m3", 2, "2026-10-13T00:00", "2026-10-13T09:00"),
        ]
    )
    snapshot = twin.snapshot()
    state = snapshot.to_dict()
    assert snapshot.costs is not None
    lines = KpiLines(park)
    for period, report in state["costs"]["periods"].items():
        tags = {"park": park.park.id, "period": period}
        for level in ("buildings", "zones", "enterprises"):
            table = getattr(snapshot.costs.periods[period], level)
            fast = list(lines._cost_table_lines(period, level, table, report[level], tags))
            plain = list(lines._cost_table_lines(period, level, None, report[level], tags))
            assert fast == plain and fast


def test_green_certificates_and_green_power_cost_their_premiums_in_their_month() -> None:
    from twin.model.inputs import parse_monthly_inputs

    twin = Twin(tariff_park())
    twin.ingest(
        list(steady("main", "energy_import_kwh", 10, "2026-10-13T00:00", "2026-10-13T01:00"))
    )
    twin.apply_monthly_inputs(
        parse_monthly_inputs(
            b'{"month": "2026-10", "green_power": {"certificates": 10, "direct_kwh": 1000}}'
        )
    )
    month = twin.period_costs("month", "2026-10")
    assert month is not None
    # 10 certificates x 5 yuan + 1,000 kWh of direct green power x 0.03 yuan premium.
    assert month.park.green_yuan == pytest.approx(10 * 5 + 1000 * 0.03)
    day = twin.period_costs("day", "2026-10-13")
    assert day is not None and day.park.green_yuan == 0  # a month's figure, not a day's


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from(["Asia/Shanghai", "Europe/Berlin"]))
def test_every_kwh_the_ledger_counts_is_priced_once_in_every_period(seed: int, zone: str) -> None:
    """Whatever the readings (gaps, resets, batches across midnight and a daylight-saving
    change), each period's amounts over all bands and the unpriced row are the ledger's."""
    import numpy as np

    from parktwin.periods import GRANULARITIES

    park = tariff_park().model_copy(
        update={"park": tariff_park().park.model_copy(update={"timezone": zone})}
    )
    twin = Twin(park)
    rng = np.random.default_rng(seed)
    t = local_ms("2026-10-24T20:00")  # Europe/Berlin leaves summer time on 25 October
    values = {"main": 0.0, "m-plant": 0.0, "gas-1": 0.0}
    quantity = {"main": "energy_import_kwh", "m-plant": "energy_kwh", "gas-1": "gas_m3"}
    for _ in range(40):
        batch = []
        for _ in range(int(rng.integers(1, 4))):
            t += int(rng.integers(1, 180)) * 60_000
            device = str(rng.choice(list(values)))
            values[device] = 0.0 if rng.random() < 0.05 else values[device] + rng.random() * 50
            batch.append(Reading(device, t, {quantity[device]: values[device]}))
        twin.ingest(batch)
    costs, ledger, plan = twin.state.costs, twin.state.ledger, twin.cost_plan
    assert costs is not None and plan is not None
    for g in GRANULARITIES:
        assert set(costs.amount[g]) <= set(ledger.periods[g])
        # The cost ledger may keep fewer periods (cost_retention), never a gap among them.
        first = min(costs.amount[g], default=0)
        for start, flows in ledger.periods[g].items():
            if start < first:
                continue
            amount, _ = costs.table(g, start)
            np.testing.assert_allclose(
                amount.sum(axis=0), flows[plan.priced_flows], rtol=1e-9, atol=1e-9
            )


def test_a_supply_point_on_its_own_tariff_is_invoiced_at_it_while_tenants_pay_the_parks() -> None:

    from parktwin.park.loader import parse_park

    own = """  meters:
    main:
      versions:
        - valid_from: 2026-01-01
          source: "tests: a flat 0.5 for the supply point"
          bands: {flat: 0.5}
          seasons:
            - {name: all, months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
               weekday: [{from: "00:00", to: "24:00", band: flat}]}
          basic: {kind: demand, price_yuan_per_kw_month: 30, contracted_kw: {main: 100}}
"""
    text = SMALL_PARK.format(park_id="points") + TARIFFS.format(carbon=0)
    # The park's tariff may not contract the meter that has its own.
    text = text.replace("contracted_kw: {main: 100}}", "contracted_kw: {}}")
    text = text.replace(
        "      basic: {kind: demand, price_yuan_per_kw_month: 40, contracted_kw: {}}\n", ""
    )
    text = text.replace(
        "      basic: {kind: demand, price_yuan_per_kw_month: 45, contracted_kw: {}}\n", ""
    )
    twin = Twin(parse_park(text.replace("  versions:\n", own + "  versions:\n", 1), "points"))
    day = ("2026-10-13T00:00", "2026-10-14T00:00")
    twin.ingest(
        [
            *steady("m-plant", "energy_kwh", 10, *day),
            *steady("m-flats", "energy_kwh", 5, *day),
            *steady("main", "energy_import_kwh", 16, *day),
        ]
    )
    bills = twin.bills("2026-10")
    assert bills is not None
    r = bills.reconciliation
    # The supply point: 384 kWh x 0.5 = 192, and its own demand charge 100 kW x 30 = 3,000.
    assert r.invoice_energy_yuan == pytest.approx(192)
    assert r.invoice_basic_yuan == pytest.approx(3000)
    # ACME still pays the park's time-of-use prices (168) and 240/360 of the basic charge.
    (acme,) = bills.bills
    assert acme.energy_yuan == pytest.approx(168)
    assert acme.basic_yuan == pytest.approx(2000)
    # Time-of-use bills collect more than the flat invoice: the difference is negative, shown.
    assert r.difference_yuan == pytest.approx(192 + 3000 - (168 + 2000) - (84 + 1000))


def test_a_month_the_twin_keeps_no_cost_of_has_no_bills() -> None:
    twin = Twin(tariff_park())
    twin.ingest(
        list(steady("main", "energy_import_kwh", 10, "2026-10-13T00:00", "2026-10-13T01:00"))
    )
    assert twin.bills("2026-09") is None
    assert twin.period_costs("day", "2026-10-12") is None
    year = twin.period_costs("year", "2026")
    # The year's basic charge is October's alone: the twin counted nothing before.
    assert year is not None and year.park.basic_yuan == pytest.approx(100 * 40)


def test_a_checkpoint_of_other_bands_restores_the_readings_but_starts_costs_empty() -> None:

    from parktwin.park.loader import parse_park

    twin = Twin(tariff_park())
    twin.ingest(
        list(steady("main", "energy_import_kwh", 10, "2026-10-13T00:00", "2026-10-13T02:00"))
    )
    # The same park, its "valley" band renamed "night": the cost ledger's rows mean other bands.
    text = SMALL_PARK.format(park_id="tariffed") + TARIFFS.format(carbon=0)
    renamed = parse_park(text.replace("valley", "night"), "renamed")
    restored = Twin.restore(renamed, None, twin.checkpoint())
    assert restored.watermark_ms == twin.watermark_ms
    assert restored.state.costs is not None and not restored.state.costs.amount["day"]


def test_the_cost_ledger_keeps_two_months_of_days_whatever_the_twins_retention() -> None:
    from parktwin.park.twin import Retention
    from parktwin.periods import Granularity

    park = tariff_park()
    settings = park.twin.model_copy(update={"retention": Retention(days=800, months=30)})
    twin = Twin(park, settings)
    # A reading a day for 70 days (a report's replay keeps 800 days of per-meter totals).
    start = local_ms("2026-08-01T12:00")
    twin.ingest(
        [
            Reading("main", start + day * 86_400_000, {"energy_import_kwh": day * 10.0})
            for day in range(70)
        ]
    )
    costs = twin.state.costs
    assert costs is not None
    assert len(twin.state.ledger.periods[Granularity.DAY]) == 70
    assert len(costs.amount[Granularity.DAY]) == 62
    assert len(costs.amount[Granularity.MONTH]) == len(twin.state.ledger.periods[Granularity.MONTH])
