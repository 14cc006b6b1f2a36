"""The zero-carbon park "1+5" indicators and the green-park score, year to date."""

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
from twin.indicators.indicator import Indicator


def indicator_row(item: Indicator) -> list[Cell]:
    return [
        item.name,
        item.unit,
        finite(item.value),
        item.threshold,
        item.comparison,
        item.passes,
        ", ".join(item.missing_months) if item.missing else "",
        item.basis,
    ]


INDICATOR_COLUMNS = [
    Column("indicator", kind="label"),
    Column("unit", kind="text"),
    Column("value", digits=3),
    Column("threshold", digits=3),
    Column("comparison", kind="label"),
    Column("passes", kind="flag"),
    Column("missing_months", kind="text"),
    Column("basis", kind="text"),
]


def zero_green_section(g: Gathered) -> tuple[list[Section], list[Headline]]:
    snapshot = g.replayed.snapshot
    if snapshot is None or snapshot.zero_carbon is None or snapshot.green_park is None:
        return [], []
    zero, green = snapshot.zero_carbon, snapshot.green_park
    indicators = [
        zero.carbon_per_energy,
        zero.clean_energy_share,
        zero.product_energy,
        zero.solid_waste_utilisation,
        zero.waste_heat_utilisation,
        zero.industrial_water_reuse,
    ]
    zero_table = Table(
        "zero_carbon_indicators", INDICATOR_COLUMNS, [indicator_row(i) for i in indicators]
    )
    facts = Table(
        "zero_carbon_basis",
        [Column("item", kind="label"), Column("value", digits=3), Column("basis", kind="text")],
        [
            ["year_to_date", None, zero.year],
            ["co2", zero.co2_t, "t CO₂"],
            ["energy_tce", zero.energy_tce, f"tce ({zero.electricity_basis})"],
            ["band", zero.band_energy_tce, f"{zero.band} ({zero.band_basis})"],
            ["clean_energy", zero.clean_energy_tce, "tce"],
        ],
    )
    zero_notes = [Note("note.year_to_date", {"until": snapshot.local_time or ""})]
    missing = [i.name for i in indicators if i.missing]
    if missing:
        zero_notes.append(Note("note.missing_inputs", {"names": ", ".join(missing)}))
    green_rows: list[list[Cell]] = []
    for category in green.categories:
        for item in category.indicators:
            green_rows.append(
                [
                    category.name,
                    item.name,
                    item.unit,
                    finite(item.value),
                    item.lead_value,
                    item.comparison,
                    finite(item.score_pct),
                    ", ".join(item.missing_months),
                    item.note,
                ]
            )
    green_table = Table(
        "green_park_indicators",
        [
            Column("category", kind="label"),
            Column("indicator", kind="label"),
            Column("unit", kind="text"),
            Column("value", digits=3),
            Column("lead_value", digits=3),
            Column("comparison", kind="label"),
            Column("score", "%"),
            Column("missing_months", kind="text"),
            Column("basis", kind="text"),
        ],
        green_rows,
    )
    green_notes = [
        Note(
            "note.green_score",
            {"score": "—" if green.score_pct is None else f"{green.score_pct:.1f}"},
        ),
        Note("note.green_basis", {"basis": green.lead_basis}),
    ]
    if green.missing:
        green_notes.append(Note("note.missing_inputs", {"names": ", ".join(green.missing)}))
    if green.not_assessed:
        green_notes.append(Note("note.not_assessed", {"names": ", ".join(green.not_assessed)}))
    headlines = [
        Headline("carbon_per_energy", finite(zero.carbon_per_energy.value), "t CO₂/tce", 3),
        Headline("core_indicator", zero.carbon_per_energy.passes),
        Headline("green_score", finite(green.score_pct), "%"),
    ]
    return [
        Section("zero_carbon", [zero_table, facts], zero_notes),
        Section("green_park", [green_table], green_notes),
    ], headlines
