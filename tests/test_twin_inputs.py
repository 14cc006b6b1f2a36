"""Monthly inputs: parsed with clear errors; what is not reported is reported as missing."""

from __future__ import annotations

import orjson
import pytest
from helpers import day_batches, day_park

from twin.model.inputs import MonthlyInputsError, parse_monthly_inputs
from twin.state.twin import Twin


def test_parse_monthly_inputs() -> None:
    inputs = parse_monthly_inputs(
        orjson.dumps(
            {
                "month": "2024-03",
                "park": "demo",
                "solid_waste_generated_t": 10,
                "solid_waste_utilised_t": 9,
                "green_power": {"certificates": 2},
                "products": [
                    {
                        "enterprise": "e_fab",
                        "product": "wafer",
                        "output_units": 100,
                        "energy_tce": 5,
                        "quota_kgce_per_unit": 60,
                    }
                ],
                "financials": {"e_fab": {"tax_10k_yuan": 3}},
            }
        )
    )
    assert inputs.month == "2024-03"
    assert inputs.green_power is not None and inputs.green_power.certificates == 2
    assert inputs.waste_heat_available_gj is None  # not given: missing, not zero


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        (b"{", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"solid_waste_generated_t": 1}', "month: Field required"),
        (b'{"month": "2024-13"}', "month: String should match pattern"),
        (b'{"month": "2024-03", "solid_waste_generated_t": -1}', "solid_waste_generated_t"),
        (b'{"month": "2024-03", "wast_heat_gj": 1}', "wast_heat_gj: Extra inputs"),
    ],
)
def test_bad_monthly_inputs_name_the_problem(payload: bytes, problem: str) -> None:
    with pytest.raises(MonthlyInputsError) as caught:
        parse_monthly_inputs(payload)
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_missing_inputs_are_reported_missing_and_present_ones_used() -> None:
    twin = Twin(day_park())
    for batch in day_batches():
        twin.ingest(batch)
    twin.apply_monthly_inputs(
        parse_monthly_inputs(
            b'{"month": "2024-03", "industrial_water_use_m3": 1000,'
            b' "industrial_water_reused_m3": 850, "green_power": {"certificates": 1}}'
        )
    )
    snap = twin.snapshot()
    zero, green = snap.zero_carbon, snap.green_park
    assert zero is not None and green is not None
    assert zero.industrial_water_reuse.value == pytest.approx(85)
    assert zero.industrial_water_reuse.passes is True
    assert zero.industrial_water_reuse.missing_months == ["2024-01", "2024-02"]
    assert zero.waste_heat_utilisation.missing and zero.waste_heat_utilisation.passes is None
    assert "waste heat recovery" in green.missing
    assert "industrial water reuse" not in green.missing
    # The month's report replaces the park file's green power: 1 certificate = 1,000 kWh,
    # capped by the 400 kWh imported.
    assert snap.carbon_month is not None
    assert snap.carbon_month.green_applied_kwh == pytest.approx(400)
    assert snap.carbon_month.scope2_market_co2_t == 0
    assert snap.monthly_inputs == ["2024-03"]
    categories = {c.name: c for c in green.categories}
    water = next(i for i in categories["resource use"].indicators if "water" in i.name)
    assert water.score_pct == pytest.approx(100 * 85 / 85)  # lead value 85 %: benchmark
    assert "not the standard's text" in green.lead_basis
