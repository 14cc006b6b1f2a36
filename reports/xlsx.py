"""A report as an XLSX workbook (openpyxl): a summary sheet, then one sheet per section.

Numbers are numbers in their cells, with the unit in the column header; total rows and ratio
columns are formulas (``=SUM(...)``, ``=D5/C5*100``) so a reader sees how they are made. The
load profile is a day-by-hour table with a colour scale.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from reports.i18n import text
from reports.model import Cell, Column, Heatmap, Note, Report, Table

BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
INVALID_SHEET_CHARS = str.maketrans({c: " " for c in "[]:*?/\\"})


def header(column: Column, lang: str) -> str:
    title = text(column.key, lang)
    return f"{title} ({column.unit})" if column.unit else title


def cell_value(value: Cell, column: Column, lang: str) -> Cell:
    """What goes in a cell: numbers as numbers, flags and labels as words."""
    if column.kind == "flag":
        return text("unknown" if value is None else "pass" if value else "fail", lang)
    if column.kind == "label" and isinstance(value, str):
        return text(value, lang)
    if isinstance(value, bool) and column.kind == "number":
        return text("yes" if value else "no", lang)
    return value


def note_text(note: Note, lang: str) -> str:
    return text(note.key, lang, **note.values)


def sum_formula(terms: tuple[tuple[int, int], ...], row: int) -> str:
    """``=C5+D5-E5``: a row's columns added up with their signs."""
    parts = [f"{'-' if sign < 0 else '+'}{get_column_letter(c + 1)}{row}" for c, sign in terms]
    return "=" + "".join(parts).removeprefix("+")


def write_table(sheet: Worksheet, row: int, table: Table, lang: str) -> int:
    """Write one table from ``row``; return the next free row."""
    sheet.cell(row, 1, text(table.key, lang)).font = BOLD
    row += 1
    for j, column in enumerate(table.columns, start=1):
        cell = sheet.cell(row, j, header(column, lang))
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    first = row + 1
    for values in table.rows:
        row += 1
        for j, (value, column) in enumerate(zip(values, table.columns, strict=True), start=1):
            if j - 1 in table.ratios:
                num, den, factor = table.ratios[j - 1]
                n = f"{get_column_letter(num + 1)}{row}"
                d = f"{get_column_letter(den + 1)}{row}"
                factor_text = f"*{factor:g}" if factor != 1 else ""
                sheet.cell(row, j, f'=IF({d}=0,"",{n}/{d}{factor_text})')
            elif j - 1 in table.sums:
                sheet.cell(row, j, sum_formula(table.sums[j - 1], row))
            else:
                sheet.cell(row, j, cell_value(value, column, lang))
    last = row
    if table.total and table.rows:
        row += 1
        sheet.cell(row, 1, text("total", lang)).font = BOLD
        for j, column in enumerate(table.columns, start=1):
            letter = get_column_letter(j)
            if column.summable:
                sheet.cell(row, j, f"=SUM({letter}{first}:{letter}{last})").font = BOLD
            elif j - 1 in table.ratios:
                num, den, factor = table.ratios[j - 1]
                n, d = f"{get_column_letter(num + 1)}{row}", f"{get_column_letter(den + 1)}{row}"
                sheet.cell(row, j, f'=IF({d}=0,"",{n}/{d}*{factor:g})').font = BOLD
    return row + 2


def write_heatmap(sheet: Worksheet, row: int, heatmap: Heatmap, lang: str) -> int:
    sheet.cell(row, 1, f"{text('heatmap.title', lang)} ({heatmap.unit})").font = BOLD
    row += 1
    sheet.cell(row, 1, text("heatmap.day", lang)).font = BOLD
    for hour in range(24):
        sheet.cell(row, hour + 2, hour).font = BOLD
    first = row + 1
    for day, values in zip(heatmap.days, heatmap.values, strict=True):
        row += 1
        sheet.cell(row, 1, day)
        for hour, value in enumerate(values):
            if value is not None:
                sheet.cell(row, hour + 2, value)
    if heatmap.days:
        area = f"B{first}:{get_column_letter(25)}{row}"
        sheet.conditional_formatting.add(
            area,
            ColorScaleRule(
                start_type="min", start_color="FFFFFF", end_type="max", end_color="D9534F"
            ),
        )
    return row + 2


def write_notes(sheet: Worksheet, row: int, notes: list[Note], lang: str) -> int:
    for note in notes:
        sheet.cell(row, 1, note_text(note, lang))
        row += 1
    return row + 1


def sheet_name(key: str, lang: str, used: set[str]) -> str:
    name = text(key, lang).translate(INVALID_SHEET_CHARS)[:31]
    while name in used:
        name = name[:29] + "_2"
    used.add(name)
    return name


def title_of(report: Report, lang: str) -> str:
    if report.enterprise is not None:
        who = report.enterprise_name or report.enterprise
        return f"{text('title.enterprise', lang)}: {who} ({report.park_name}) {report.period}"
    return f"{text('title.park', lang)}: {report.park_name} {report.period}"


def write_xlsx(report: Report, lang: str, path: Path, generated: str) -> None:
    """Write the workbook to ``path`` (its folder must exist and be writable)."""
    book = Workbook()
    used: set[str] = set()
    summary = book.active
    assert summary is not None
    summary.title = sheet_name("summary", lang, used)
    summary.cell(1, 1, title_of(report, lang)).font = TITLE
    summary.cell(2, 1, text("period", lang))
    summary.cell(2, 2, f"{report.start_local} – {report.end_local} ({report.timezone})")
    summary.cell(3, 1, text("generated", lang))
    summary.cell(3, 2, generated)
    row = 5
    headline_columns = [Column("item", kind="text"), Column("value"), Column("unit", kind="text")]
    for j, column in enumerate(headline_columns, start=1):
        cell = summary.cell(row, j, text(column.key, lang))
        cell.font, cell.fill = BOLD, HEADER_FILL
    for headline in report.headlines:
        row += 1
        summary.cell(row, 1, text(headline.key, lang))
        value = headline.value
        if isinstance(value, bool):
            value = text("pass" if value else "fail", lang)
        summary.cell(row, 2, value)
        summary.cell(row, 3, headline.unit)
    row += 2
    summary.cell(row, 1, text("source", lang)).font = BOLD
    write_notes(summary, row + 1, report.source, lang)
    summary.column_dimensions["A"].width = 36
    summary.column_dimensions["B"].width = 18
    for section in report.sections:
        sheet = book.create_sheet(sheet_name(section.key, lang, used))
        sheet.cell(1, 1, text(section.key, lang)).font = TITLE
        row = 3
        for table in section.tables:
            row = write_table(sheet, row, table, lang)
        if section.heatmap is not None:
            row = write_heatmap(sheet, row, section.heatmap, lang)
        write_notes(sheet, row, section.notes, lang)
        sheet.column_dimensions["A"].width = 32
        for j in range(2, 26):
            sheet.column_dimensions[get_column_letter(j)].width = 14
    book.save(path)
