"""A comparison as a text table, JSON and CSV: every KPI, baseline against each scenario."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson

from whatif.kpis import NUMBERS
from whatif.run import Comparison

# The rows of the table, in reading order, with their labels.
TABLE_ROWS: tuple[tuple[str, str], ...] = (
    ("electricity_consumption_kwh", "electricity used, kWh"),
    ("grid_import_kwh", "grid import, kWh"),
    ("grid_export_kwh", "grid export, kWh"),
    ("pv_generation_kwh", "PV generation, kWh"),
    ("pv_self_consumption_kwh", "PV used on site, kWh"),
    ("peak_demand_kw", "highest monthly demand, kW"),
    ("gas_m3", "natural gas, m3"),
    ("energy_tce", "energy, tce"),
    ("scope1_co2_t", "Scope 1, t CO2"),
    ("scope2_location_co2_t", "Scope 2 location-based, t CO2"),
    ("scope2_market_co2_t", "Scope 2 market-based, t CO2"),
    ("net_co2_t", "net emissions, t CO2"),
    ("carbon_per_energy_t_co2_per_tce", "carbon per energy, t CO2/tce"),
    ("carbon_per_energy_passes", "  core indicator passes"),
    ("clean_energy_share_pct", "clean-energy share, %"),
    ("clean_energy_share_passes", "  clean-energy share passes"),
    ("projected_neutral_year", "projected neutrality year"),
)
COST_ROWS: tuple[tuple[str, str], ...] = (
    ("cost_energy_yuan", "energy cost"),
    ("cost_basic_yuan", "basic (demand) charge"),
    ("cost_gas_yuan", "gas cost"),
    ("cost_green_yuan", "certificates and green premiums"),
    ("cost_carbon_yuan", "carbon cost"),
    ("feed_in_revenue_yuan", "feed-in revenue"),
    ("cost_total_yuan", "total cost (a negative change saves)"),
)


def _minus(a: Any, b: Any) -> float | None:
    return None if a is None or b is None else float(a) - float(b)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if abs(value) < 0.0005:
            return "0"
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:,.3f}"
    return str(value)


def table(result: Comparison) -> str:
    """A plain-text table: one column for the baseline, two (value, change) per scenario."""
    header = ["", "baseline"]
    for s in result.scenarios:
        header += [s.name[:28], "change"]
    rows = [header]
    base = result.baseline.as_dict()
    priced = base["cost_total_yuan"] is not None
    for key, label in TABLE_ROWS + (COST_ROWS if priced else ()):
        row = [label, _cell(base[key])]
        for s in result.scenarios:
            value = s.kpis.as_dict()[key]
            change = (
                _cell(_minus(value, base[key]))
                if key in NUMBERS
                else ("changes" if value != base[key] else "same")
            )
            row += [_cell(value), change]
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    window = (
        f"park {result.park_id}, {result.months[0]} to {result.months[-1]} ({result.span.basis}); "
        f"{result.steps_read} of {result.steps} {result.step_min}-minute steps measured"
    )
    notes = [window, "ESTIMATES, not measurements: nothing here enters the live twin's KPIs."]
    for s in result.scenarios:
        notes.append(f"{s.name} assumed:")
        notes += [f"  - {a}" for a in s.assumptions]
    notes.append(f"Costs: {result.costs_basis}.")
    return "\n".join([*lines, "", *notes])


def as_json(result: Comparison) -> bytes:
    return orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2)


def as_csv(result: Comparison) -> str:
    """One row per KPI and run: kpi, run, value, baseline, difference."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["kpi", "run", "value", "baseline", "difference", "label"])
    base = result.baseline.as_dict()
    for key in base:
        writer.writerow([key, "baseline", base[key], base[key], "", "measured window"])
        for s in result.scenarios:
            value = s.kpis.as_dict()[key]
            diff = _minus(value, base[key]) if key in NUMBERS else ""
            writer.writerow([key, s.name, value, base[key], diff, "estimate"])
    return out.getvalue()
