"""The park's energy and carbon, day by day and month by month, from the twin's own ledger.

The ledger keeps per-flow totals of recent days and months (``Retention``); with history
rebuilt from InfluxDB they reach back before the twin started, so the view can show a month of
days and a year of months, and the trend through them. Worked out on request, not each tick:
every period costs a pass over the park's flows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from parktwin.periods import Granularity
from twin.model.counters import NEVER
from twin.state.compose import StateAtWatermark
from twin.state.twin import Twin

DAYS_SHOWN = 31  # the month view: the last 31 days, today included
MONTHS_SHOWN = 12  # the year view: the last 12 months, this one included


def linear_trend(values: list[float]) -> dict[str, float] | None:
    """Least-squares line through equally spaced values: its first and last point, and the
    slope per period as a share of the mean; None with fewer than three values."""
    if len(values) < 3:
        return None
    x = np.arange(len(values), dtype=float)
    slope, intercept = np.polyfit(x, np.asarray(values, dtype=float), 1)
    mean = float(np.mean(values))
    return {
        "start": float(intercept),
        "end": float(intercept + slope * (len(values) - 1)),
        "slope_pct_per_period": 100.0 * float(slope) / mean if mean else 0.0,
    }


def _rows(view: StateAtWatermark, granularity: Granularity) -> list[dict[str, Any]]:
    current = view.start(granularity)
    rows = []
    for start in sorted(view.state.ledger.periods[granularity]):
        if start > view.watermark_ms:
            continue
        balance = view.balance(granularity, start)
        row: dict[str, Any] = {
            "start_ms": start,
            "label": view.label(granularity, start),
            "complete": start < current,
            "electricity_kwh": balance.electricity_consumption_kwh,
            "pv_kwh": balance.pv_generation_kwh,
            "grid_import_kwh": balance.grid_import_kwh,
            "energy_tce": balance.tce.energy_tce,
        }
        if granularity is Granularity.MONTH:
            row["net_co2_t"] = view.account(start).net_co2_t
        rows.append(row)
    return rows


def trends(twin: Twin) -> dict[str, Any]:
    """The last 31 days and 12 months the twin holds (fewer when it holds fewer), each with
    its electricity, PV, grid import and energy, months with net CO2, and the linear trend of
    electricity through the complete periods."""
    if twin.state.watermark_ms == NEVER:
        return {"days": [], "months": [], "day_trend": None, "month_trend": None}
    view = StateAtWatermark(twin.park, twin.settings, twin.topology, twin.calendar, twin.state)
    days = _rows(view, Granularity.DAY)[-DAYS_SHOWN:]
    months = _rows(view, Granularity.MONTH)[-MONTHS_SHOWN:]
    # The oldest period held may have begun before the data did (history starting mid-month,
    # a twin started mid-day): it is shown, marked, and left out of the trend.
    for rows, granularity in ((days, Granularity.DAY), (months, Granularity.MONTH)):
        held = sorted(view.state.ledger.periods[granularity])
        if rows and held and rows[0]["start_ms"] == held[0]:
            rows[0]["partial"] = True
    return {
        "days": days,
        "months": months,
        "day_trend": linear_trend(_whole(days)),
        "month_trend": linear_trend(_whole(months)),
    }


def _whole(rows: list[dict[str, Any]]) -> list[float]:
    return [r["electricity_kwh"] for r in rows if r["complete"] and not r.get("partial")]
