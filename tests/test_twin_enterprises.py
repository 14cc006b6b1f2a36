"""Per-mu evaluation: class shares respected, missing figures never scored."""

from __future__ import annotations

import pytest

from parktwin.contract.reading import Reading
from parktwin.park.loader import parse_park
from parktwin.park.twin import ClassShares
from twin.indicators.enterprises import grades
from twin.state.twin import Twin


@pytest.mark.parametrize("n", [1, 2, 5, 7, 10, 20, 33, 100])
def test_class_shares_are_respected(n: int) -> None:
    scores = [(f"e{i:03}", float(i)) for i in range(n)]
    classes = grades(scores, ClassShares(a_max_pct=20, b_pct=40, d_min_pct=5))
    counts = {g: sum(1 for c in classes.values() if c == g) for g in "ABCD"}
    assert counts["A"] <= 0.2 * n
    assert counts["D"] >= 0.05 * n
    assert sum(counts.values()) == n
    ranked = sorted(scores, key=lambda s: -s[1])
    order = "ABCD"
    assert [order.index(classes[e]) for e, _ in ranked] == sorted(
        order.index(classes[e]) for e, _ in ranked
    )  # a better score never gets a worse class


def park_of(n: int) -> str:
    enterprises = "\n".join(
        f"  - {{id: e{i:02}, name: E{i}, industry: x, land_area_mu: {10 + i},"
        f" buildings: [b{i:02}], employees: {20 + i}}}"
        for i in range(n)
    )
    buildings = "\n".join(
        f"  - {{id: b{i:02}, name: B{i}, zone: z, use: factory, floor_area_m2: 100,"
        f" occupant_capacity: 10}}"
        for i in range(n)
    )
    meters = "\n".join(
        f"  - {{id: m{i:02}, kind: sub_meter, building: b{i:02}, enterprise: e{i:02}}}"
        for i in range(n)
    )
    money = "\n".join(
        f"    e{i:02}: {{'2024': {{tax_10k_yuan: {5 + 3 * i}, value_added_10k_yuan: {50 + i * i},"
        f" revenue_10k_yuan: 400, rnd_10k_yuan: {i}}}}}"
        for i in range(n - 1)  # the last enterprise reports nothing
    )
    return f"""
park: {{id: p, name: P, timezone: Asia/Shanghai, location: {{latitude: 31, longitude: 121}}}}
zones: [{{id: z, name: Z, type: production}}]
buildings:
{buildings}
enterprises:
{enterprises}
devices:
  - {{id: grid, kind: grid_main_meter, zone: z}}
{meters}
twin:
  financials:
{money}
"""


def test_twenty_enterprises_get_classes_within_their_shares() -> None:
    park = parse_park(park_of(21))
    twin = Twin(park)
    t0 = 1_709_568_000_000  # 2024-03-05 00:00 Asia/Shanghai
    twin.ingest([Reading(f"m{i:02}", t0, {"energy_kwh": 0.0}) for i in range(21)])
    twin.ingest(
        [Reading(f"m{i:02}", t0 + 3_600_000, {"energy_kwh": 100.0 + 10 * i}) for i in range(21)]
    )
    evaluation = twin.snapshot().enterprises
    assert evaluation is not None
    graded = [r for r in evaluation.enterprises if r.grade is not None]
    assert len(graded) == 20
    assert evaluation.grade_counts["A"] <= 4 and evaluation.grade_counts["D"] >= 1
    silent = next(r for r in evaluation.enterprises if r.enterprise == "e20")
    assert silent.score is None and silent.grade is None
    assert "financials" in silent.missing
    best = max(graded, key=lambda r: r.score or 0)
    assert best.grade == "A"
    assert evaluation.benchmark_basis["tax_per_mu"] == "park value (ratio of sums)"
    # Annual figures against the year's telemetry; labour productivity from the park's headcount.
    first = next(r for r in evaluation.enterprises if r.enterprise == "e00")
    assert first.financial_months is None
    assert first.indicators["labour_productivity"] == pytest.approx(50 / 20)
    assert first.indicators["rnd_share"] == 0


def test_small_enterprises_are_scored_on_tax_per_mu_and_per_kwh() -> None:
    text = park_of(3).replace("employees: 21}", "employees: 21, above_size_threshold: false}")
    twin = Twin(parse_park(text))
    t0 = 1_709_568_000_000
    twin.ingest([Reading(f"m{i:02}", t0, {"energy_kwh": 0.0}) for i in range(3)])
    twin.ingest([Reading(f"m{i:02}", t0 + 3_600_000, {"energy_kwh": 1000.0}) for i in range(3)])
    evaluation = twin.snapshot().enterprises
    assert evaluation is not None
    small = next(r for r in evaluation.enterprises if r.enterprise == "e01")
    assert not small.above_size_threshold
    assert small.indicators["tax_per_kwh"] == pytest.approx(8 * 10_000 / 1000)  # yuan per kWh
    # Alone in its group, it is its own benchmark: 50 × 1 + 50 × 1.
    assert small.score == pytest.approx(100)
