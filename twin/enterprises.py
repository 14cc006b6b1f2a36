"""Per-mu evaluation of enterprises (亩均论英雄): indicators, weighted score, A/B/C/D classes.

Financial figures come from the park file's ``twin.financials`` or from monthly inputs (which
win for their month); energy and emissions come from telemetry of the same months. An
enterprise lacking a figure is listed with what is missing and is not scored: no guesses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from twin.carbon import location_co2_t
from twin.energy import carrier_tce
from twin.inputs import MonthlyInputs
from twin.settings import ClassShares, Financials, TwinSettings
from twin.topology import Flow

Floats = npt.NDArray[np.float64]

FIELDS = ("tax_10k_yuan", "value_added_10k_yuan", "revenue_10k_yuan", "rnd_10k_yuan")


@dataclass(frozen=True, slots=True)
class PeriodFinancials:
    """An enterprise's figures summed over the months it reported, or one annual entry."""

    months: list[str] | None  # None: an annual entry
    tax_10k_yuan: float | None
    value_added_10k_yuan: float | None
    revenue_10k_yuan: float | None
    rnd_10k_yuan: float | None
    employees: float | None  # average over the months


def financials(
    enterprise: str,
    year: int,
    months: list[str],
    settings: TwinSettings,
    inputs: dict[str, MonthlyInputs],
    employees: int = 0,
) -> PeriodFinancials | None:
    """The enterprise's figures for a year: its annual entry, else the sum of its months.

    Headcount missing from the figures falls back to the park file's ``employees`` when set.
    """
    fallback = float(employees) if employees > 0 else None
    entries = settings.financials.get(enterprise, {})
    annual = entries.get(str(year))
    if annual is not None:
        return PeriodFinancials(
            None,
            annual.tax_10k_yuan,
            annual.value_added_10k_yuan,
            annual.revenue_10k_yuan,
            annual.rnd_10k_yuan,
            fallback if annual.employees is None else float(annual.employees),
        )
    found: dict[str, Financials] = {}
    for month in months:
        reported = inputs.get(month)
        entry = reported.financials.get(enterprise) if reported is not None else None
        entry = entry if entry is not None else entries.get(month)
        if entry is not None:
            found[month] = entry
    if not found:
        return None
    sums: dict[str, float | None] = {}
    for name in (*FIELDS, "employees"):
        values = [getattr(f, name) for f in found.values()]
        sums[name] = None if any(v is None for v in values) else float(sum(values))
    headcount = sums["employees"]
    return PeriodFinancials(
        sorted(found),
        sums["tax_10k_yuan"],
        sums["value_added_10k_yuan"],
        sums["revenue_10k_yuan"],
        sums["rnd_10k_yuan"],
        fallback if headcount is None else headcount / len(found),
    )


@dataclass(frozen=True, slots=True)
class Ratio:
    """An indicator kept as numerator and denominator, so that a benchmark is a ratio of sums."""

    numerator: float | None
    denominator: float | None

    @property
    def value(self) -> float | None:
        if self.numerator is None or self.denominator is None or self.denominator <= 0:
            return None
        return self.numerator / self.denominator


@dataclass(frozen=True, slots=True)
class EnterpriseResult:
    """One enterprise's indicators, score and class."""

    enterprise: str
    name: str
    above_size_threshold: bool
    land_area_mu: float
    financial_months: list[str] | None  # None: annual figures
    electricity_kwh: float
    energy_tce: float  # electricity at the basis of settings.per_mu (generation by default)
    co2_t: float  # Scope 1 and location-based Scope 2
    indicators: dict[str, float | None]
    score: float | None
    grade: str | None  # A, B, C or D
    missing: list[str]


@dataclass(frozen=True, slots=True)
class EnterpriseEvaluation:
    """The evaluation of every enterprise of the park for one year."""

    year: int
    electricity_basis: str
    weights: dict[str, float]
    small_weights: dict[str, float]
    benchmarks: dict[str, float | None]
    benchmark_basis: dict[str, str]
    enterprises: list[EnterpriseResult]
    grade_counts: dict[str, int]


def indicator_ratios(
    money: PeriodFinancials | None, mu: float, flows: Floats, settings: TwinSettings
) -> tuple[dict[str, Ratio], float, float, float]:
    """Every per-mu indicator of an enterprise as a ratio, and its kWh, tce and t CO2."""
    electricity = float(flows[Flow.ELECTRICITY_KWH])
    energy = carrier_tce(electricity, flows, settings.conversion, settings.per_mu.electricity_basis)
    co2 = float(location_co2_t(electricity, flows, settings))
    pick = (lambda name: getattr(money, name)) if money is not None else (lambda name: None)
    tax, value_added = pick("tax_10k_yuan"), pick("value_added_10k_yuan")
    rnd = pick("rnd_10k_yuan")
    ratios = {
        "tax_per_mu": Ratio(tax, mu),
        "value_added_per_mu": Ratio(value_added, mu),
        "labour_productivity": Ratio(value_added, pick("employees")),
        "value_added_per_tce": Ratio(value_added, energy.energy_tce),
        "value_added_per_t_co2": Ratio(value_added, co2),
        "rnd_share": Ratio(None if rnd is None else 100 * rnd, pick("revenue_10k_yuan")),
        "tax_per_kwh": Ratio(None if tax is None else tax * 10_000, electricity),
        "co2_per_value_added": Ratio(co2, value_added),
    }
    return ratios, electricity, energy.energy_tce, co2


UNITS = {
    "tax_per_mu": "10k yuan/mu",
    "value_added_per_mu": "10k yuan/mu",
    "labour_productivity": "10k yuan/person",
    "value_added_per_tce": "10k yuan/tce",
    "value_added_per_t_co2": "10k yuan/t CO2",
    "rnd_share": "%",
    "tax_per_kwh": "yuan/kWh",
    "co2_per_value_added": "t CO2/10k yuan",
}


def grades(scores: list[tuple[str, float]], shares: ClassShares) -> dict[str, str]:
    """A/B/C/D by rank: A at most its share, D at least its share, B its share of the whole.

    Ties are broken by enterprise id so that the result is deterministic.
    """
    ranked = sorted(scores, key=lambda item: (-item[1], item[0]))
    n = len(ranked)
    d = min(n, math.ceil(n * shares.d_min_pct / 100 - 1e-9))
    a = min(n - d, math.floor(n * shares.a_max_pct / 100 + 1e-9))
    b = min(n - d - a, round(n * shares.b_pct / 100))
    labels = ["A"] * a + ["B"] * b + ["C"] * (n - a - b - d) + ["D"] * d
    return {enterprise: label for (enterprise, _), label in zip(ranked, labels, strict=True)}


def evaluate(
    year: int,
    rows: list[tuple[str, str, bool, float, PeriodFinancials | None, Floats]],
    settings: TwinSettings,
) -> EnterpriseEvaluation:
    """Score and class enterprises; rows are (id, name, above threshold, mu, money, flows).

    Each indicator's score is weight × value / benchmark (capped by ``per_mu.max_ratio``). A
    benchmark not configured is the park's own value over the enterprises of the same group
    (a ratio of sums). Enterprises above and below the size threshold are classed separately.
    """
    rules = settings.per_mu
    weights = rules.weights.model_dump()
    small_weights = rules.small_weights.model_dump()
    computed = [(row, *indicator_ratios(row[4], row[3], row[5], settings)) for row in rows]
    benchmarks: dict[str, float | None] = {}
    basis: dict[str, str] = {}
    for group, names in ((True, weights), (False, small_weights)):
        for name in names:
            key = name if group else f"small.{name}"
            if key in rules.benchmarks:
                benchmarks[key], basis[key] = rules.benchmarks[key], "configured"
                continue
            pairs = [
                c[1][name] for c in computed if c[0][2] is group and c[1][name].value is not None
            ]
            total = Ratio(
                sum(p.numerator or 0.0 for p in pairs), sum(p.denominator or 0.0 for p in pairs)
            )
            benchmarks[key], basis[key] = total.value, "park value (ratio of sums)"
    results: list[EnterpriseResult] = []
    scored: dict[bool, list[tuple[str, float]]] = {True: [], False: []}
    for (eid, name, large, mu, money, _), ratios, kwh, tce, co2 in computed:
        used = weights if large else small_weights
        missing = ["financials"] if money is None else []
        score = 0.0
        for indicator, weight in used.items():
            bench = benchmarks[indicator if large else f"small.{indicator}"]
            value = ratios[indicator].value
            if value is None:
                missing.append(indicator)
            elif not bench:
                missing.append(f"benchmark of {indicator}")
            else:
                share = value / bench
                score += weight * (min(share, rules.max_ratio) if rules.max_ratio else share)
        final = None if missing else score
        if final is not None:
            scored[large].append((eid, final))
        results.append(
            EnterpriseResult(
                enterprise=eid,
                name=name,
                above_size_threshold=large,
                land_area_mu=mu,
                financial_months=money.months if money is not None else None,
                electricity_kwh=kwh,
                energy_tce=tce,
                co2_t=co2,
                indicators={k: r.value for k, r in ratios.items()},
                score=final,
                grade=None,
                missing=sorted(set(missing), key=missing.index),
            )
        )
    classes = {**grades(scored[True], rules.classes), **grades(scored[False], rules.classes)}
    results = [replace(r, grade=classes.get(r.enterprise)) for r in results]
    counts = {g: sum(1 for r in results if r.grade == g) for g in "ABCD"}
    return EnterpriseEvaluation(
        year=year,
        electricity_basis=rules.electricity_basis,
        weights=weights,
        small_weights=small_weights,
        benchmarks=benchmarks,
        benchmark_basis=basis,
        enterprises=results,
        grade_counts=counts,
    )
