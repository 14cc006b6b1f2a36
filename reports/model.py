"""What a report holds, independent of its language and file format: sections of tables.

Cells are numbers (float or int), text, flags (pass/fail, None for unknown) or None (missing).
Column and section titles are keys of ``reports.i18n``; a renderer translates them. A table
with ``total`` gets a total row that adds up its summable columns (a SUM formula in XLSX);
ratio and sum columns are formulas over the row's own cells in XLSX.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Cell = float | int | str | bool | None
Kind = Literal["text", "number", "flag", "label"]  # label: a key of reports.i18n


def as_float(value: Cell) -> float:
    """A number cell as a float; 0.0 for anything else (missing, text)."""
    return float(value) if isinstance(value, int | float) else 0.0


@dataclass(frozen=True, slots=True)
class Column:
    key: str  # i18n key of the title
    unit: str = ""  # shown in the header: "Electricity (kWh)"
    kind: Kind = "number"
    summable: bool = False  # added up in the total row
    digits: int = 1  # decimals shown in the PDF (the XLSX keeps the full value)


@dataclass(frozen=True, slots=True)
class Table:
    key: str  # i18n key of the title
    columns: list[Column]
    rows: list[list[Cell]]
    total: bool = False
    # Formula columns: column index -> (numerator column, denominator column, factor), written as
    # =numerator/denominator*factor in XLSX so a reader sees how the figure is made.
    ratios: dict[int, tuple[int, int, float]] = field(default_factory=dict)
    # Formula columns that add up other columns of the row: column index -> (column, sign)
    # terms, written as =C5+D5-E5 in XLSX; the row's value is the same sum, for the PDF.
    sums: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Note:
    """A sentence: an i18n key with its values (``{name}`` placeholders in the text)."""

    key: str
    values: dict[str, str | float | int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Heatmap:
    """Hourly values by local day (rows) and hour of day (columns), NaN where nothing is known."""

    days: list[str]
    values: list[list[float | None]]  # [day][hour 0..23]
    unit: str


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    tables: list[Table]
    notes: list[Note] = field(default_factory=list)
    heatmap: Heatmap | None = None


@dataclass(frozen=True, slots=True)
class Headline:
    """One figure of the one-page summary."""

    key: str
    value: Cell
    unit: str = ""
    digits: int = 1


@dataclass(frozen=True, slots=True)
class Report:
    park_id: str
    park_name: str
    period: str  # 2026-11, 2026-Q4, 2026
    enterprise: str | None  # the enterprise's own report, or None for the park's
    enterprise_name: str | None
    timezone: str
    start_local: str
    end_local: str  # exclusive
    source: list[Note]  # where the figures come from and which time range was read
    headlines: list[Headline]
    sections: list[Section]
    monthly_kwh: list[tuple[str, float, float | None]]  # month, consumption, last year's
