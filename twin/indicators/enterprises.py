"""Per-mu evaluation of enterprises (亩均论英雄): indicators, weighted score, A/B/C/D classes.

Financial figures come from the park file's ``twin.financials`` or from monthly inputs (which
win for their month); energy and emissions come from telemetry of the same months. An
enterprise lacking a figure is listed with what is missing and is not scored: no guesses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from parktwin.park.model import Enterprise
from parktwin.park.twin import ClassShares, Financials, PerMu, TwinSettings
from twin.indicators.carbon import location_co2_t
from twin.indicators.energy import tce_by_carrier
from twin.model.columns import RowTable, floats_where
from twin.model.inputs import MonthlyInputs
from twin.model.topology import Flow

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

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


def park_financials(
    enterprises: list[Enterprise],
    year: int,
    months: list[str],
    settings: TwinSettings,
    inputs: dict[str, MonthlyInputs],
) -> list[PeriodFinancials | None]:
    """``financials`` of every enterprise (None for one without any figure, found quickly)."""
    reported = [inputs[m].financials for m in months if m in inputs]
    return [
        financials(e.id, year, months, settings, inputs, e.employees)
        if e.id in settings.financials or any(e.id in r for r in reported)
        else None
        for e in enterprises
    ]


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
    enterprises: RowTable[EnterpriseResult]  # iterates as a list of rows would
    grade_counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class RatioColumn:
    """One indicator of every enterprise: numerators, denominators, and which of them are known."""

    numerator: Floats
    denominator: Floats
    known: Bools  # both figures given (not None)

    @property
    def valid(self) -> Bools:
        """Where the indicator has a value: both figures known and a positive denominator."""
        return self.known & (self.denominator > 0)

    @property
    def values(self) -> Floats:
        """numerator / denominator; read only where ``valid``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.numerator / self.denominator


@dataclass(frozen=True, slots=True)
class IndicatorColumns:
    """Every per-mu indicator of every enterprise, with their kWh, tce and t CO2."""

    ratios: dict[str, RatioColumn]
    electricity_kwh: Floats
    energy_tce: Floats
    co2_t: Floats


def money_column(money: list[PeriodFinancials | None], name: str) -> tuple[Floats, Bools]:
    """One financial figure of every enterprise (0 where not given) and where it is given."""
    figures = [None if m is None else getattr(m, name) for m in money]
    known = np.asarray([f is not None for f in figures], dtype=np.bool_)
    return np.asarray([0.0 if f is None else f for f in figures], dtype=np.float64), known


def indicator_columns(
    money: list[PeriodFinancials | None], mu: Floats, flows: Floats, settings: TwinSettings
) -> IndicatorColumns:
    """Every per-mu indicator of every enterprise as ratios; ``flows`` has a row per enterprise.

    The same arithmetic, in the same order, as one enterprise at a time (identical floats).
    """
    electricity = flows[:, Flow.ELECTRICITY_KWH]
    conversion = settings.conversion
    carriers = tce_by_carrier(electricity, flows, conversion, settings.per_mu.electricity_basis)
    energy = carriers[0] + carriers[1] + carriers[2] + carriers[3]
    co2 = np.asarray(location_co2_t(electricity, flows, settings), dtype=np.float64)
    tax, tax_known = money_column(money, "tax_10k_yuan")
    added, added_known = money_column(money, "value_added_10k_yuan")
    rnd, rnd_known = money_column(money, "rnd_10k_yuan")
    revenue, revenue_known = money_column(money, "revenue_10k_yuan")
    employees, employees_known = money_column(money, "employees")
    ratios = {
        "tax_per_mu": RatioColumn(tax, mu, tax_known),
        "value_added_per_mu": RatioColumn(added, mu, added_known),
        "labour_productivity": RatioColumn(added, employees, added_known & employees_known),
        "value_added_per_tce": RatioColumn(added, energy, added_known),
        "value_added_per_t_co2": RatioColumn(added, co2, added_known),
        "rnd_share": RatioColumn(100 * rnd, revenue, rnd_known & revenue_known),
        "tax_per_kwh": RatioColumn(tax * 10_000, electricity, tax_known),
        "co2_per_value_added": RatioColumn(co2, added, added_known),
    }
    return IndicatorColumns(ratios, electricity, energy, co2)


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


def park_benchmarks(
    ratios: dict[str, RatioColumn],
    large: Bools,
    weights: dict[str, float],
    small_weights: dict[str, float],
    rules: PerMu,
) -> tuple[dict[str, float | None], dict[str, str]]:
    """Each indicator's benchmark per group (``small.`` names the small enterprises), and where
    it comes from: configured, or the park's own value over the group (a ratio of sums)."""
    benchmarks: dict[str, float | None] = {}
    basis: dict[str, str] = {}
    for group, names in ((True, weights), (False, small_weights)):
        for name in names:
            key = name if group else f"small.{name}"
            if key in rules.benchmarks:
                benchmarks[key], basis[key] = rules.benchmarks[key], "configured"
                continue
            ratio = ratios[name]
            pick = (large == group) & ratio.valid
            # Python sums in enterprise order, as the park's value has always been added up.
            total = Ratio(
                sum(ratio.numerator[pick].tolist()), sum(ratio.denominator[pick].tolist())
            )
            benchmarks[key], basis[key] = total.value, "park value (ratio of sums)"
    return benchmarks, basis


def group_scores(
    ratios: dict[str, RatioColumn],
    weights: dict[str, float],
    benchmarks: dict[str, float | None],
    prefix: str,
    max_ratio: float | None,
) -> Floats:
    """Σ weight × value / benchmark (capped at ``max_ratio``) for every enterprise, as if all
    were of this group; meaningless where an indicator or a benchmark is missing."""
    score = np.zeros(len(next(iter(ratios.values())).known))
    with np.errstate(divide="ignore", invalid="ignore"):
        for indicator, weight in weights.items():
            bench = benchmarks[f"{prefix}{indicator}"]
            if bench:
                share = ratios[indicator].values / bench
                score = score + weight * (np.minimum(share, max_ratio) if max_ratio else share)
    return score


def missing_figures(
    has_money: bool,
    weights: dict[str, float],
    valid: dict[str, bool],
    benchmarks: dict[str, float | None],
    prefix: str,
) -> list[str]:
    """What keeps one enterprise from a score, in indicator order."""
    missing = [] if has_money else ["financials"]
    for indicator in weights:
        if not valid[indicator]:
            missing.append(indicator)
        elif not benchmarks[f"{prefix}{indicator}"]:
            missing.append(f"benchmark of {indicator}")
    return missing


def missing_by_enterprise(
    enterprises: list[Enterprise],
    money: list[PeriodFinancials | None],
    ratios: dict[str, RatioColumn],
    weights: dict[str, float],
    small_weights: dict[str, float],
    benchmarks: dict[str, float | None],
) -> list[list[str]]:
    """What keeps each enterprise from a score (see ``missing_figures``); enterprises alike in
    what they have share the work (each gets its own list)."""
    valid = zip(*(r.valid.tolist() for r in ratios.values()), strict=True)
    found: dict[tuple[bool, bool, tuple[bool, ...]], list[str]] = {}
    missing = []
    for enterprise, figures, row in zip(enterprises, money, valid, strict=True):
        large = enterprise.above_size_threshold
        key = (figures is not None, large, row)
        if key not in found:
            used, prefix = (weights, "") if large else (small_weights, "small.")
            by_name = dict(zip(ratios, row, strict=True))
            found[key] = missing_figures(key[0], used, by_name, benchmarks, prefix)
        missing.append(list(found[key]))
    return missing


def indicator_rows(ratios: dict[str, RatioColumn]) -> list[dict[str, float | None]]:
    """Each enterprise's indicator values (None where missing), by indicator name."""
    columns = [floats_where(r.values, r.valid) for r in ratios.values()]
    names = list(ratios)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def evaluate(
    year: int,
    enterprises: list[Enterprise],
    money: list[PeriodFinancials | None],
    flows: Floats,
    settings: TwinSettings,
) -> EnterpriseEvaluation:
    """Score and class enterprises from their financials and their flows (a row each).

    Each indicator's score is weight × value / benchmark (capped by ``per_mu.max_ratio``). A
    benchmark not configured is the park's own value over the enterprises of the same group
    (a ratio of sums). Enterprises above and below the size threshold are classed separately.
    """
    rules = settings.per_mu
    weights = rules.weights.model_dump()
    small_weights = rules.small_weights.model_dump()
    large = np.asarray([e.above_size_threshold for e in enterprises], dtype=np.bool_)
    mu = np.asarray([e.land_area_mu for e in enterprises], dtype=np.float64)
    columns = indicator_columns(money, mu, flows, settings)
    ratios = columns.ratios
    benchmarks, basis = park_benchmarks(ratios, large, weights, small_weights, rules)
    scores = np.where(
        large,
        group_scores(ratios, weights, benchmarks, "", rules.max_ratio),
        group_scores(ratios, small_weights, benchmarks, "small.", rules.max_ratio),
    ).tolist()
    missing = missing_by_enterprise(enterprises, money, ratios, weights, small_weights, benchmarks)
    scored: dict[bool, list[tuple[str, float]]] = {True: [], False: []}
    for enterprise, score, lacking in zip(enterprises, scores, missing, strict=True):
        if not lacking:
            scored[enterprise.above_size_threshold].append((enterprise.id, score))
    classes = {**grades(scored[True], rules.classes), **grades(scored[False], rules.classes)}
    ids = [e.id for e in enterprises]
    grade = [classes.get(e) for e in ids]
    results = RowTable(
        EnterpriseResult,
        [
            ids,
            [e.name for e in enterprises],
            [e.above_size_threshold for e in enterprises],
            [e.land_area_mu for e in enterprises],
            [figures.months if figures is not None else None for figures in money],
            columns.electricity_kwh.tolist(),
            columns.energy_tce.tolist(),
            columns.co2_t.tolist(),
            indicator_rows(ratios),
            [None if lacking else score for score, lacking in zip(scores, missing, strict=True)],
            grade,
            missing,
        ],
    )
    counts = {g: grade.count(g) for g in "ABCD"}
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
