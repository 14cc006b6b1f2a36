"""A report as a PDF (ReportLab): a one-page summary, then each section with its charts, tables
and notes. Every text is set in one CJK TrueType font, embedded (subset) in the file, so Chinese
renders the same on any reader, without boxes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as PdfTable

from reports.charts import bar_chart, daily_chart, heatmap_chart, monthly_chart
from reports.fonts import cjk_font_path
from reports.i18n import text
from reports.model import Cell, Column, Headline, Report, Section, Table, as_float
from reports.xlsx import header, note_text, title_of

FONT = "ParktwinCJK"
PAGE = landscape(A4)
MARGIN = 14 * mm
WIDTH = PAGE[0] - 2 * MARGIN
MISSING = "–"
SHORT_TEXT = frozenset({"grade", "unit", "severity", "comparison", "passes", "when"})


def register_font() -> Path:
    """Register the CJK font with ReportLab once; its path."""
    path = cjk_font_path()
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0))
    return path


def styles(lang: str) -> dict[str, ParagraphStyle]:
    # Chinese breaks between any two characters; English only between words.
    wrap = "CJK" if lang == "zh" else None
    base = ParagraphStyle("body", fontName=FONT, fontSize=8, leading=10.5, wordWrap=wrap)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7, leading=9),
        "number": ParagraphStyle("number", parent=base, fontSize=7, leading=9, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=base, fontSize=7, leading=9, textColor=colors.white),
        # Wide tables (the per-mu results): smaller, and a number never broken across lines.
        "tiny": ParagraphStyle("tiny", parent=base, fontSize=6, leading=7.5),
        "tiny_number": ParagraphStyle(
            "tiny_number",
            parent=base,
            fontSize=6,
            leading=7.5,
            alignment=TA_RIGHT,
            splitLongWords=False,
        ),
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, spaceAfter=4),
        "h1": ParagraphStyle("h1", parent=base, fontSize=14, leading=18, spaceAfter=6),
        "h2": ParagraphStyle(
            "h2", parent=base, fontSize=10, leading=13, spaceBefore=6, spaceAfter=3
        ),
        "big": ParagraphStyle("big", parent=base, fontSize=11, leading=14, alignment=TA_RIGHT),
    }


def number(value: float | int, digits: int) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def shown(value: Cell, column: Column, lang: str) -> str:
    """A cell as text: numbers with separators and the column's decimals."""
    if column.kind == "flag":
        return text("unknown" if value is None else "pass" if value else "fail", lang)
    if value is None or value == "":
        return MISSING if column.kind == "number" else ""
    if isinstance(value, bool):
        return text("yes" if value else "no", lang)
    if isinstance(value, int | float):
        return number(value, column.digits)
    if column.kind == "label":
        return text(value, lang)
    return value


def table_flowable(table: Table, lang: str, st: dict[str, ParagraphStyle]) -> Flowable:
    columns = table.columns
    wide = len(columns) > 12
    words, numbers = (st["tiny"], st["tiny_number"]) if wide else (st["small"], st["number"])
    head = [Paragraph(escape(header(c, lang)), st["head"]) for c in columns]
    body: list[list[Any]] = []
    for row in table.rows:
        body.append(
            [
                Paragraph(
                    escape(shown(v, c, lang)),
                    numbers if isinstance(v, int | float) and not isinstance(v, bool) else words,
                )
                for v, c in zip(row, columns, strict=True)
            ]
        )
    if table.total and table.rows:
        totals: list[Any] = [Paragraph(escape(text("total", lang)), words)]
        for j, column in enumerate(columns[1:], start=1):
            if column.summable:
                value = sum(as_float(r[j]) for r in table.rows)
                totals.append(Paragraph(number(value, column.digits), numbers))
            else:
                totals.append("")
        body.append(totals)
    # Text columns get more room than number columns.
    weights = [
        1.0 if c.key in SHORT_TEXT else 2.4 if c.kind in ("text", "label") else 1.2 for c in columns
    ]
    if columns and columns[-1].kind == "text" and len(columns) > 3:
        weights[-1] = 3.2  # the free-text column (basis, summary, missing) last
    scale = WIDTH / sum(weights)
    widths = [w * scale for w in weights]
    flowable = PdfTable([head, *body], colWidths=widths, repeatRows=1)
    commands: list[Any] = [
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#3B6EA5")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#C8CED8")),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F3F6FA")]),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    if table.total and table.rows:
        commands.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#DDE6F0")))
    flowable.setStyle(TableStyle(commands))
    return flowable


def image(png: bytes, width: float) -> Image:
    picture = Image(io.BytesIO(png))
    ratio = picture.imageHeight / picture.imageWidth
    picture.drawWidth, picture.drawHeight = width, width * ratio
    return picture


def headline_value(headline: Headline, lang: str) -> str:
    value = headline.value
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return text("pass" if value else "fail", lang)
    if isinstance(value, int | float):
        return f"{number(value, headline.digits)} {headline.unit}".strip()
    return str(value)


def summary_page(
    report: Report, lang: str, generated: str, font: Path, st: dict[str, ParagraphStyle]
) -> list[Flowable]:
    story: list[Flowable] = [
        Paragraph(escape(title_of(report, lang)), st["title"]),
        Paragraph(
            escape(
                f"{text('period', lang)}: {report.start_local} – {report.end_local} "
                f"({report.timezone})   {text('generated', lang)}: {generated}"
            ),
            st["body"],
        ),
        Spacer(1, 4 * mm),
        Paragraph(escape(text("summary", lang)), st["h1"]),
    ]
    rows = [
        [
            Paragraph(escape(text(h.key, lang)), st["body"]),
            Paragraph(escape(headline_value(h, lang)), st["big"]),
        ]
        for h in report.headlines
    ]
    figures = PdfTable(rows, colWidths=[62 * mm, 48 * mm])
    figures.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#C8CED8")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    chart_width = WIDTH - 118 * mm
    heatmap = report.sections[0].heatmap
    if len(report.monthly_kwh) == 1 and heatmap is not None:
        days = [
            (d, sum(v or 0.0 for v in row))
            for d, row in zip(heatmap.days, heatmap.values, strict=True)
        ]
        png = daily_chart(days, lang, font, (6.0, 3.2))
    else:
        png = monthly_chart(report.monthly_kwh, lang, font, (6.0, 3.2))
    chart = image(png, chart_width)
    side = PdfTable([[figures, chart]], colWidths=[114 * mm, chart_width + 4 * mm])
    side.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [side, Spacer(1, 3 * mm), Paragraph(escape(text("source", lang)), st["h2"])]
    story += [Paragraph(escape(note_text(n, lang)), st["small"]) for n in report.source]
    return story


def section_story(
    section: Section, lang: str, font: Path, st: dict[str, ParagraphStyle]
) -> list[Flowable]:
    story: list[Flowable] = [PageBreak(), Paragraph(escape(text(section.key, lang)), st["h1"])]
    charts = []
    if section.heatmap is not None and section.heatmap.days:
        charts.append(heatmap_chart(section.heatmap, lang, font, (6.4, 3.4)))
    for table in section.tables:
        if table.key == "energy_by_carrier":
            items = [(str(r[0]), float(r[3] or 0.0)) for r in table.rows]
            charts.append(bar_chart("chart.carriers", items, "tce", lang, font, (5.0, 3.4)))
        if section.key == "carbon" and table.key == "carbon_account" and len(table.rows) > 1:
            keep = ("scope1", "scope2_location", "scope2_market", "sinks", "offsets", "net")
            items = [(str(r[0]), float(r[1] or 0.0)) for r in table.rows if r[0] in keep]
            charts.append(bar_chart("chart.carbon", items, "t CO₂", lang, font, (5.0, 3.0)))
    if charts:
        width = WIDTH / len(charts) - 2 * mm
        row = PdfTable([[image(png, width) for png in charts]])
        row.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(row)
    for table in section.tables:
        story.append(
            KeepTogether(
                [
                    Paragraph(escape(text(table.key, lang)), st["h2"]),
                    table_flowable(table, lang, st),
                ]
            )
            if len(table.rows) < 25
            else PdfTable([[Paragraph(escape(text(table.key, lang)), st["h2"])]])
        )
        if len(table.rows) >= 25:
            story.append(table_flowable(table, lang, st))
    if section.notes:
        story.append(Spacer(1, 2 * mm))
        story += [Paragraph(escape(note_text(n, lang)), st["small"]) for n in section.notes]
    return story


def write_pdf(report: Report, lang: str, path: Path, generated: str) -> None:
    """Write the PDF to ``path`` (its folder must exist and be writable)."""
    font = register_font()
    st = styles(lang)
    footer = f"parktwin · {report.park_id} · {report.period}"

    def on_page(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.setFillColor(colors.grey)
        canvas.drawString(MARGIN, 8 * mm, footer)
        canvas.drawRightString(PAGE[0] - MARGIN, 8 * mm, str(document.page))
        canvas.restoreState()

    document = SimpleDocTemplate(
        str(path),
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title_of(report, lang),
        author="parktwin",
    )
    story = summary_page(report, lang, generated, font, st)
    for section in report.sections:
        story += section_story(section, lang, font, st)
    document.build(story, onFirstPage=on_page, onLaterPages=on_page)
