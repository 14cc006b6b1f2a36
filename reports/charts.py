"""The report's charts, drawn with matplotlib (Agg, no pyplot state) as PNG bytes."""

from __future__ import annotations

import io
import math
from contextlib import AbstractContextManager
from functools import lru_cache
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from reports.i18n import text
from reports.model import Heatmap

DPI = 150
BLUE, GREY, RED = "#3B6EA5", "#B0B7C3", "#D9534F"


@lru_cache(maxsize=4)  # addfont appends to the font list on every call: once per font
def _font_family(font: Path) -> str:
    font_manager.fontManager.addfont(str(font))
    return font_manager.FontProperties(fname=str(font)).get_name()


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


def _context(font: Path) -> AbstractContextManager[None]:
    return matplotlib.rc_context(
        {
            "font.family": _font_family(font),
            # The font has one weight, 500: asking for "normal" (400) warns on every text.
            "font.weight": 500,
            "axes.titleweight": 500,
            "axes.labelweight": 500,
            "font.size": 8,
            "axes.unicode_minus": False,
        }
    )


def thousands(axes: Any) -> None:
    """Plain numbers with separators on the y axis (no "1e6" offset)."""
    axes.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def daily_chart(
    days: list[tuple[str, float]], lang: str, font: Path, size: tuple[float, float]
) -> bytes:
    """Electricity of each day of a month."""
    with _context(font):
        figure = Figure(figsize=size)
        axes = figure.add_subplot()
        axes.bar([d[0][8:] for d in days], [d[1] for d in days], color=BLUE)
        axes.set_ylabel("kWh")
        axes.set_title(text("chart.daily", lang))
        axes.tick_params(axis="x", labelsize=6)
        thousands(axes)
        axes.spines[["top", "right"]].set_visible(False)
        return _png(figure)


def monthly_chart(
    months: list[tuple[str, float, float | None]], lang: str, font: Path, size: tuple[float, float]
) -> bytes:
    """Electricity by month, this period and (grey) the same months last year."""
    with _context(font):
        figure = Figure(figsize=size)
        axes = figure.add_subplot()
        # A year's months by number ("01".."12"); a quarter's in full.
        labels = [m[0] if len(months) <= 4 else m[0][5:] for m in months]
        x = list(range(len(labels)))
        width = 0.38
        axes.bar(
            [i - width / 2 for i in x],
            [m[1] for m in months],
            width,
            color=BLUE,
            label=text("this_period", lang),
        )
        if any(m[2] is not None for m in months):
            axes.bar(
                [i + width / 2 for i in x],
                [m[2] or 0.0 for m in months],
                width,
                color=GREY,
                label=text("same_period_last_year", lang),
            )
        axes.set_xticks(x, labels)
        axes.set_ylabel("kWh")
        axes.set_title(text("chart.monthly", lang))
        thousands(axes)
        axes.legend(loc="upper left", frameon=False)
        axes.spines[["top", "right"]].set_visible(False)
        return _png(figure)


def heatmap_chart(heatmap: Heatmap, lang: str, font: Path, size: tuple[float, float]) -> bytes:
    """Energy of each hour, a row per day."""
    with _context(font):
        figure = Figure(figsize=size)
        axes = figure.add_subplot()
        values = [[math.nan if v is None else v for v in row] for row in heatmap.values]
        image = axes.imshow(values, aspect="auto", cmap="YlOrRd", interpolation="nearest")
        axes.set_xticks(range(0, 24, 2))
        axes.set_xlabel(text("heatmap.hour", lang))
        step = max(1, math.ceil(len(heatmap.days) / 12))
        axes.set_yticks(range(0, len(heatmap.days), step), [d[5:] for d in heatmap.days[::step]])
        axes.set_title(text("heatmap.title", lang))
        figure.colorbar(image, ax=axes, label=heatmap.unit)
        return _png(figure)


def bar_chart(
    title_key: str,
    items: list[tuple[str, float]],
    unit: str,
    lang: str,
    font: Path,
    size: tuple[float, float],
) -> bytes:
    """Horizontal bars of labelled values (negative values in red)."""
    with _context(font):
        figure = Figure(figsize=size)
        axes = figure.add_subplot()
        labels = [text(k, lang) for k, _ in items]
        values = [v for _, v in items]
        axes.barh(labels, values, color=[RED if v < 0 else BLUE for v in values])
        axes.invert_yaxis()
        axes.set_xlabel(unit)
        axes.set_title(text(title_key, lang))
        axes.spines[["top", "right"]].set_visible(False)
        return _png(figure)
