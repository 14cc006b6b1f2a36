"""Per-mu evaluation: indicators, score, class and rank; an enterprise sees only its own row."""

from __future__ import annotations

from reports.model import (
    Cell,
    Column,
    Headline,
    Note,
    Section,
    Table,
)
from reports.replay import Gathered
from reports.sections.common import finite
from twin.indicators.enterprises import EnterpriseResult


def ranks(results: list[EnterpriseResult]) -> dict[str, int]:
    """Rank by score, highest first (1 is best); enterprises without a score are not ranked."""
    scored = sorted(
        (r for r in results if r.score is not None), key=lambda r: (-(r.score or 0.0), r.enterprise)
    )
    return {r.enterprise: i for i, r in enumerate(scored, start=1)}


def per_mu_section(g: Gathered, enterprise: str | None) -> tuple[Section | None, list[Headline]]:
    snapshot = g.replayed.snapshot
    if snapshot is None or snapshot.enterprises is None:
        return None, []
    evaluation = snapshot.enterprises
    results = list(evaluation.enterprises)
    rank = ranks(results)
    names = sorted({name for r in results for name in r.indicators})
    columns = [
        Column("enterprise", kind="text"),
        Column("land_area", "mu"),
        Column("electricity", "kWh", digits=0),
        Column("energy_tce", "tce", digits=2),
        Column("co2_location", "t CO₂", digits=2),
        *(Column(f"permu.{n}", digits=3) for n in names),
        Column("score", digits=1),
        Column("grade", kind="text"),
        Column("rank", digits=0),
        Column("missing", kind="text"),
    ]
    rows: list[list[Cell]] = []
    for r in results:
        if enterprise is not None and r.enterprise != enterprise:
            continue
        rows.append(
            [
                r.enterprise,
                r.land_area_mu,
                r.electricity_kwh,
                r.energy_tce,
                r.co2_t,
                *(finite(r.indicators.get(n)) for n in names),
                finite(r.score),
                r.grade,
                rank.get(r.enterprise),
                ", ".join(r.missing),
            ]
        )
    bench_rows: list[list[Cell]] = [
        [
            f"permu.{n}",
            finite(evaluation.benchmarks.get(n)),
            # "small.tax_per_mu": the weight of tax per mu for enterprises below the threshold.
            evaluation.small_weights.get(n.removeprefix("small."))
            if n.startswith("small.")
            else evaluation.weights.get(n),
            evaluation.benchmark_basis.get(n, ""),
        ]
        for n in sorted(set(evaluation.benchmarks) | set(evaluation.weights))
    ]
    tables = [
        Table("per_mu_results", columns, rows),
        Table(
            "per_mu_benchmarks",
            [
                Column("indicator", kind="label"),
                Column("benchmark", digits=3),
                Column("weight", digits=0),
                Column("basis", kind="text"),
            ],
            bench_rows,
        ),
    ]
    notes = [
        Note("note.per_mu_year", {"year": evaluation.year, "basis": evaluation.electricity_basis}),
        Note("note.per_mu_ranked", {"count": len(rank), "total": len(results)}),
    ]
    if enterprise is None:
        counts: list[list[Cell]] = [[g, evaluation.grade_counts.get(g, 0)] for g in "ABCD"]
        tables.append(
            Table(
                "grade_counts",
                [Column("grade", kind="text"), Column("count", digits=0, summable=True)],
                counts,
                total=True,
            )
        )
    headlines: list[Headline] = []
    if enterprise is not None and rows:
        mine = next(r for r in results if r.enterprise == enterprise)
        headlines = [
            Headline("score", finite(mine.score), "", 1),
            Headline("grade", mine.grade),
            Headline("rank", f"{rank[enterprise]} / {len(rank)}" if enterprise in rank else None),
        ]
    return Section("per_mu", tables, notes), headlines
