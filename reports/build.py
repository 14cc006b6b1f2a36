"""A report's content from a replayed period: the twin's own figures, arranged in sections.

Every figure is the twin's (twin.report.View over the replayed ledger, the snapshot at the
period's last reading) or is added up from the twin's period totals; nothing is recomputed
with other rules. An enterprise's own report holds its figures and the park's benchmarks only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import fields

import numpy as np
import numpy.typing as npt

from parktwin.park.model import Park
from reports.history import AlertChange
from reports.model import (
    Cell,
    Column,
    Headline,
    Heatmap,
    Note,
    Report,
    Section,
    Table,
    as_float,
)
from reports.replay import HOUR_MS, Gathered, Replayed
from twin.carbon import CarbonAccount, combine
from twin.energy import EnergyBalance, energy_balance
from twin.enterprises import EnterpriseResult
from twin.indicator import Indicator
from twin.periods import Granularity
from twin.report import View, place_values
from twin.snapshot import PLACE_FIELDS
from twin.topology import Flow, Level

Floats = npt.NDArray[np.float64]


class UnknownEnterpriseError(ValueError):
    """An enterprise id the park file does not name."""


def view_of(replayed: Replayed) -> View:
    twin = replayed.twin
    return View(twin.park, twin.settings, twin.topology, twin.calendar, twin.state)


def period_flows(replayed: Replayed, month_starts: Iterable[int]) -> Floats:
    """Per-flow totals of the given months, from the twin's ledger."""
    ledger = replayed.twin.state.ledger
    total = np.zeros(ledger.n_flows)
    for start in month_starts:
        total = total + ledger.totals(Granularity.MONTH, start)
    return total


def balance_of(replayed: Replayed, flows: Floats) -> EnergyBalance:
    twin = replayed.twin
    park_flows = twin.topology.places[Level.PARK].totals(flows)[0]
    conversion = twin.settings.conversion
    return energy_balance(park_flows, conversion, conversion.electricity_basis)


def change_pct(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before == 0:
        return None
    return 100.0 * (now - before) / before


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


# -- energy ---------------------------------------------------------------------------------


BALANCE_ROWS = (
    ("grid_import", "grid_import_kwh"),
    ("grid_export", "grid_export_kwh"),
    ("pv_generation", "pv_generation_kwh"),
    ("pv_self_consumption", "pv_self_consumption_kwh"),
    ("battery_charge", "battery_charge_kwh"),
    ("battery_discharge", "battery_discharge_kwh"),
    ("electricity_consumption", "electricity_consumption_kwh"),
    ("sub_metered", "sub_metered_kwh"),
    ("unmetered", "unmetered_kwh"),
)

CARRIERS = (
    ("electricity", "electricity_consumption_kwh", "kWh", "electricity_tce"),
    ("natural_gas", "gas_m3", "m³", "gas_tce"),
    ("heat", "heat_gj", "GJ", "heat_tce"),
    ("diesel", "diesel_kg", "kg", "diesel_tce"),
)

PLACE_COLUMNS = (
    ("electricity_kwh", "electricity", "kWh"),
    ("pv_kwh", "pv_generation", "kWh"),
    ("gas_m3", "natural_gas", "m³"),
    ("heat_gj", "heat", "GJ"),
    ("water_m3", "water", "m³"),
    ("energy_tce", "energy_tce", "tce"),
    ("co2_t", "co2_location", "t CO₂"),
)


def place_table(
    key: str, replayed: Replayed, level: Level, flows: Floats, only: str | None = None
) -> Table:
    """Totals of every place of one level over the period (one place when ``only``)."""
    places = replayed.twin.topology.places[level]
    values = place_values(places.totals(flows), replayed.twin.settings)
    index = [PLACE_FIELDS.index(name) - 1 for name, _, _ in PLACE_COLUMNS]
    rows: list[list[Cell]] = []
    for place, row in zip(places.ids, values.tolist(), strict=True):
        if only is None or place == only:
            rows.append([place, *(float(row[i]) for i in index)])
    columns = [Column("place", kind="text")] + [
        Column(label, unit, summable=True) for _, label, unit in PLACE_COLUMNS
    ]
    return Table(key, columns, rows, total=len(rows) > 1)


def hour_values(
    replayed: Replayed, start_ms: int, end_ms: int, enterprise: str | None
) -> dict[int, float]:
    """Electricity used in each hour of the period: the park's consumption (balance), or the
    enterprise's sub-metered electricity."""
    twin = replayed.twin
    out: dict[int, float] = {}
    for start, flows in replayed.twin.state.ledger.periods[Granularity.HOUR].items():
        if not start_ms <= start < end_ms:
            continue
        if enterprise is None:
            out[start] = balance_of(replayed, flows).electricity_consumption_kwh
        else:
            places = twin.topology.places[Level.ENTERPRISE]
            row = places.ids.index(enterprise)
            out[start] = float(places.totals(flows)[row, Flow.ELECTRICITY_KWH])
    return out


def heatmap(replayed: Replayed, hours: dict[int, float], start_ms: int, end_ms: int) -> Heatmap:
    calendar = replayed.twin.calendar
    days: list[str] = []
    values: list[list[float | None]] = []
    day = start_ms
    while day < end_ms:
        row: list[float | None] = [None] * 24
        following = calendar.shift(Granularity.DAY, day, 1)
        hour = day
        while hour < following:
            local = calendar.local(hour).hour
            if hour in hours:
                row[local] = (row[local] or 0.0) + hours[hour]
            hour = calendar.shift(Granularity.HOUR, hour, 1)
        days.append(calendar.label(Granularity.DAY, day))
        values.append(row)
        day = following
    return Heatmap(days, values, "kWh")


def budget_table(g: Gathered, consumption_kwh: float, enterprise: str | None) -> Table | None:
    """The period's share of each energy budget set in the park's alert rules."""
    calendar = g.replayed.twin.calendar
    period = g.period
    days = 0
    day = period.start_ms
    while day < period.end_ms:
        days += 1
        day = calendar.shift(Granularity.DAY, day, 1)
    wanted = "park" if enterprise is None else f"enterprise:{enterprise}"
    rows: list[list[Cell]] = []
    for rule in g.park.alerts.rules:
        if getattr(rule, "kind", "") != "budget" or getattr(rule, "place", "") != wanted:
            continue
        if getattr(rule, "measure", "") != "consumption":
            continue
        per, budget_kwh = str(getattr(rule, "period", "")), float(getattr(rule, "budget_kwh", 0))
        budget = budget_kwh * (days if per == "day" else len(period.months))
        rows.append([rule.id, f"{budget_kwh:g} kWh / {per}", budget, consumption_kwh])
    if not rows:
        return None
    columns = [
        Column("rule", kind="text"),
        Column("budget_rule", kind="text"),
        Column("budget", "kWh"),
        Column("electricity_consumption", "kWh"),
        Column("budget_used", "%"),
    ]
    for row in rows:
        row.append(100.0 * float(row[3]) / float(row[2]))  # type: ignore[arg-type]
    return Table("energy_budget", columns, rows, ratios={4: (3, 2, 100.0)})


def energy_section(g: Gathered, enterprise: str | None) -> tuple[Section, list[Headline]]:
    replayed, period = g.replayed, g.period
    flows = period_flows(replayed, period.month_starts)
    last_flows = period_flows(g.last_year, g.last_year_period.month_starts)
    tables: list[Table] = []
    notes: list[Note] = []
    headlines: list[Headline] = []
    if enterprise is None:
        now, before = balance_of(replayed, flows), balance_of(g.last_year, last_flows)
        had_last_year = g.last_year.readings_in_period > 0
        rows: list[list[Cell]] = []
        for label, name in BALANCE_ROWS:
            a, b = getattr(now, name), getattr(before, name) if had_last_year else None
            rows.append([label, a, b, change_pct(a, b)])
        tables.append(
            Table(
                "electricity_balance",
                [
                    Column("item", kind="label"),
                    Column("this_period", "kWh"),
                    Column("same_period_last_year", "kWh"),
                    Column("change", "%"),
                ],
                rows,
            )
        )
        carrier_rows: list[list[Cell]] = []
        for label, amount, unit, tce in CARRIERS:
            a_tce = getattr(now.tce, tce)
            b_tce = getattr(before.tce, tce) if had_last_year else None
            carrier_rows.append(
                [label, getattr(now, amount), unit, a_tce, b_tce, change_pct(a_tce, b_tce)]
            )
        tables.append(
            Table(
                "energy_by_carrier",
                [
                    Column("carrier", kind="label"),
                    Column("quantity"),
                    Column("unit", kind="text"),
                    Column("energy_tce", "tce", summable=True, digits=3),
                    Column("same_period_last_year", "tce", summable=True, digits=3),
                    Column("change", "%"),
                ],
                carrier_rows,
                total=True,
            )
        )
        notes.append(
            Note(
                "note.electricity_basis",
                {
                    "basis": now.tce.electricity_basis,
                    "factor": now.tce.electricity_kgce_per_kwh,
                },
            )
        )
        if not had_last_year:
            notes.append(Note("note.no_last_year", {"period": g.last_year_period.label}))
        consumption = now.electricity_consumption_kwh
        headlines += [
            Headline("electricity_consumption", consumption, "kWh", 0),
            Headline("energy_tce", now.tce.energy_tce, "tce", 2),
            Headline(
                "change_on_last_year",
                change_pct(now.tce.energy_tce, before.tce.energy_tce) if had_last_year else None,
                "%",
            ),
        ]
        tables.append(place_table("by_building", replayed, Level.BUILDING, flows))
        tables.append(place_table("by_zone", replayed, Level.ZONE, flows))
        tables.append(place_table("by_enterprise", replayed, Level.ENTERPRISE, flows))
    else:
        table = place_table("by_enterprise", replayed, Level.ENTERPRISE, flows, enterprise)
        before_table = place_table(
            "by_enterprise", g.last_year, Level.ENTERPRISE, last_flows, enterprise
        )
        this_row, last_row = table.rows[0], before_table.rows[0]
        had_last_year = g.last_year.readings_in_period > 0
        rows = []
        for i, (_, label, unit) in enumerate(PLACE_COLUMNS, start=1):
            b = last_row[i] if had_last_year else None
            rows.append([label, unit, this_row[i], b, change_pct(this_row[i], b)])  # type: ignore[arg-type]
        tables.append(
            Table(
                "enterprise_energy",
                [
                    Column("item", kind="label"),
                    Column("unit", kind="text"),
                    Column("this_period"),
                    Column("same_period_last_year"),
                    Column("change", "%"),
                ],
                rows,
            )
        )
        consumption = float(this_row[1])  # type: ignore[arg-type]
        headlines += [
            Headline("electricity", consumption, "kWh", 0),
            Headline("energy_tce", this_row[6], "tce", 2),
        ]
        if not had_last_year:
            notes.append(Note("note.no_last_year", {"period": g.last_year_period.label}))
    # Months of the period, with last year's.
    month_rows: list[list[Cell]] = []
    for label, start, before_start in zip(
        period.months, period.month_starts, g.last_year_period.month_starts, strict=True
    ):
        a_flows = period_flows(replayed, [start])
        b_flows = period_flows(g.last_year, [before_start])
        if enterprise is None:
            a = balance_of(replayed, a_flows).electricity_consumption_kwh
            b = balance_of(g.last_year, b_flows).electricity_consumption_kwh
        else:
            a = as_float(
                place_table("", replayed, Level.ENTERPRISE, a_flows, enterprise).rows[0][1]
            )
            b = as_float(
                place_table("", g.last_year, Level.ENTERPRISE, b_flows, enterprise).rows[0][1]
            )
        month_rows.append([label, a, b if g.last_year.readings_in_period else None])
    tables.append(
        Table(
            "by_month",
            [
                Column("month", kind="text"),
                Column("electricity_consumption", "kWh", summable=True, digits=0),
                Column("same_period_last_year", "kWh", summable=True, digits=0),
            ],
            month_rows,
            total=len(month_rows) > 1,
        )
    )
    budget = budget_table(g, consumption, enterprise)
    if budget is not None:
        tables.append(budget)
        used = budget.rows[0][4]
        headlines.append(Headline("budget_used", used, "%"))
    # Load profile and peak demand: hourly energy is the hour's mean demand in kW.
    hours = hour_values(replayed, period.start_ms, period.end_ms, enterprise)
    calendar = replayed.twin.calendar
    if hours:
        peak_at = max(hours, key=lambda h: hours[h])
        days: dict[int, float] = {}
        for start, value in hours.items():
            day = calendar.start_of(Granularity.DAY, start)
            days[day] = days.get(day, 0.0) + value
        top_day = max(days, key=lambda d: days[d])
        tables.append(
            Table(
                "peak_demand",
                [
                    Column("item", kind="label"),
                    Column("when", kind="text"),
                    Column("value"),
                    Column("unit", kind="text"),
                ],
                [
                    [
                        "peak_hour_demand",
                        calendar.local(peak_at).strftime("%Y-%m-%d %H:00"),
                        hours[peak_at] * HOUR_MS / 3_600_000,
                        "kW",
                    ],
                    [
                        "mean_demand",
                        "",
                        sum(hours.values()) / len(hours),
                        "kW",
                    ],
                    [
                        "peak_day",
                        calendar.label(Granularity.DAY, top_day),
                        days[top_day],
                        "kWh",
                    ],
                ],
            )
        )
        notes.append(Note("note.peak_demand"))
        headlines.append(Headline("peak_hour_demand", hours[peak_at], "kW", 0))
    notes.append(Note("note.no_tariff_bands"))
    section = Section(
        "energy",
        tables,
        notes,
        heatmap(replayed, hours, period.start_ms, period.end_ms),
    )
    return section, headlines


# -- carbon ---------------------------------------------------------------------------------

ACCOUNT_ROWS = (
    ("gas_co2", "gas_co2_t"),
    ("diesel_co2", "diesel_co2_t"),
    ("process_co2", "process_co2_t"),
    ("scope1", "scope1_co2_t"),
    ("scope2_location", "scope2_location_co2_t"),
    ("scope2_market", "scope2_market_co2_t"),
    ("zero_carbon_co2", "zero_carbon_co2_t"),
    ("sinks", "sinks_co2_t"),
    ("offsets", "offsets_co2_t"),
    ("net", "net_co2_t"),
)


def period_account(g: Gathered) -> CarbonAccount:
    view = view_of(g.replayed)
    accounts = [view.account(m) for m in g.period.month_starts if m <= view.watermark_ms]
    return combine(accounts, view.settings)


def factor_table(g: Gathered, account: CarbonAccount) -> Table:
    settings = g.replayed.twin.settings
    emission, conversion = settings.emission, settings.conversion
    rows: list[list[Cell]] = [
        ["grid_factor", account.grid_kg_per_kwh, "kg CO₂/kWh", account.grid_basis],
        [
            "market_factor",
            account.market_residual_kg_per_kwh,
            "kg CO₂/kWh",
            account.market_basis,
        ],
        ["fossil_factor", account.fossil_kg_per_kwh, "kg CO₂/kWh", account.fossil_basis],
        [
            "gas_factor",
            emission.natural_gas_kg_per_m3,
            "kg CO₂/m³",
            "national GHG accounting guidelines",
        ],
        [
            "diesel_factor",
            emission.diesel_kg_per_kg,
            "kg CO₂/kg",
            "national GHG accounting guidelines",
        ],
        [
            "electricity_calorific",
            conversion.electricity_calorific_kgce_per_kwh,
            "kgce/kWh",
            "GB/T 2589-2020 (当量值), confirmed",
        ],
        [
            "electricity_generation",
            conversion.electricity_generation_kgce_per_kwh,
            "kgce/kWh",
            "等价值: not fixed by GB/T 2589-2020; assumed, local use 0.28-0.30",
        ],
        [
            "gas_tce_factor",
            conversion.natural_gas_kgce_per_m3,
            "kgce/m³",
            "GB/T 2589-2020 (gas-field gas; oilfield gas 1.3300)",
        ],
        ["heat_tce_factor", conversion.heat_tce_per_gj, "tce/GJ", "GB/T 2589-2020, confirmed"],
        [
            "diesel_tce_factor",
            conversion.diesel_kgce_per_kg,
            "kgce/kg",
            "GB/T 2589-2020, confirmed",
        ],
        ["stack_mode", None, "", account.stack_mode],
        ["net_basis", None, "", account.net_basis],
    ]
    return Table(
        "factors",
        [
            Column("factor", kind="label"),
            Column("value", digits=4),
            Column("unit", kind="text"),
            Column("source", kind="text"),
        ],
        rows,
    )


def carbon_section(g: Gathered, enterprise: str | None) -> tuple[Section, list[Headline]]:
    view = view_of(g.replayed)
    account = period_account(g)
    tables: list[Table] = []
    notes: list[Note] = []
    headlines: list[Headline] = []
    if enterprise is None:
        rows: list[list[Cell]] = [[label, getattr(account, name)] for label, name in ACCOUNT_ROWS]
        tables.append(
            Table(
                "carbon_account",
                [Column("item", kind="label"), Column("co2", "t CO₂", digits=2)],
                rows,
            )
        )
        tables.append(
            Table(
                "green_power",
                [
                    Column("item", kind="label"),
                    Column("value", digits=0),
                    Column("unit", kind="text"),
                ],
                [
                    ["grid_import", account.grid_import_kwh, "kWh"],
                    ["green_certificates", account.green_certificates, "1,000 kWh"],
                    ["green_direct", account.green_direct_kwh, "kWh"],
                    ["green_applied", account.green_applied_kwh, "kWh"],
                ],
            )
        )
        month_rows: list[list[Cell]] = []
        for label, start in zip(g.period.months, g.period.month_starts, strict=True):
            if start > view.watermark_ms:
                continue
            a = view.account(start)
            month_rows.append(
                [
                    label,
                    a.scope1_co2_t,
                    a.scope2_location_co2_t,
                    a.scope2_market_co2_t,
                    a.sinks_co2_t,
                    a.offsets_co2_t,
                    a.net_co2_t,
                ]
            )
        tables.append(
            Table(
                "carbon_by_month",
                [Column("month", kind="text")]
                + [
                    Column(k, "t CO₂", summable=True, digits=2)
                    for k in (
                        "scope1",
                        "scope2_location",
                        "scope2_market",
                        "sinks",
                        "offsets",
                        "net",
                    )
                ],
                month_rows,
                total=len(month_rows) > 1,
            )
        )
        snapshot = g.replayed.snapshot
        progress = snapshot.progress if snapshot is not None else None
        if progress is not None:
            tables.append(
                Table(
                    "carbon_progress",
                    [
                        Column("item", kind="label"),
                        Column("value", digits=2),
                        Column("basis", kind="text"),
                    ],
                    [
                        ["baseline_year", progress.baseline_year, ""],
                        ["baseline_net", progress.baseline_net_co2_t, "t CO₂"],
                        ["target_year", progress.target_year, ""],
                        ["path_net", progress.path_net_co2_t, f"t CO₂, {progress.year}"],
                        ["annual_net", progress.annual_net_co2_t, progress.annual_basis],
                        ["progress", progress.progress_pct, "%"],
                        ["on_track", progress.on_track, ""],
                        ["trend", progress.trend_t_co2_per_month, "t CO₂ / month"],
                        [
                            "projected_year",
                            progress.projected_neutral_year,
                            progress.projection_basis,
                        ],
                    ],
                )
            )
            if progress.baseline_net_co2_t is None:
                notes.append(Note("note.no_targets"))
        headlines += [
            Headline("scope1", account.scope1_co2_t, "t CO₂", 2),
            Headline("scope2_market", account.scope2_market_co2_t, "t CO₂", 2),
            Headline("net", account.net_co2_t, "t CO₂", 2),
        ]
        if progress is not None and progress.projected_neutral_year is not None:
            headlines.append(Headline("projected_year", progress.projected_neutral_year, "", 1))
    else:
        flows = period_flows(g.replayed, g.period.month_starts)
        table = place_table("", g.replayed, Level.ENTERPRISE, flows, enterprise)
        co2 = table.rows[0][7]
        tables.append(
            Table(
                "carbon_account",
                [Column("item", kind="label"), Column("co2", "t CO₂", digits=2)],
                [["co2_location", co2]],
            )
        )
        notes.append(Note("note.enterprise_carbon"))
        headlines.append(Headline("co2_location", co2, "t CO₂", 2))
    tables.append(factor_table(g, account))
    assumed = sorted(
        {
            text
            for text in (account.grid_basis, account.market_basis, account.fossil_basis)
            if "assumed" in text or "unconfirmed" in text or "differ" in text
        }
    )
    for text in assumed:
        notes.append(Note("note.assumed", {"what": text}))
    return Section("carbon", tables, notes), headlines


# -- zero-carbon and green park ----------------------------------------------------------------


def indicator_row(item: Indicator) -> list[Cell]:
    return [
        item.name,
        item.unit,
        _finite(item.value),
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
                    _finite(item.value),
                    item.lead_value,
                    item.comparison,
                    _finite(item.score_pct),
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
        Headline("carbon_per_energy", _finite(zero.carbon_per_energy.value), "t CO₂/tce", 3),
        Headline("core_indicator", zero.carbon_per_energy.passes),
        Headline("green_score", _finite(green.score_pct), "%"),
    ]
    return [
        Section("zero_carbon", [zero_table, facts], zero_notes),
        Section("green_park", [green_table], green_notes),
    ], headlines


# -- per-mu evaluation ---------------------------------------------------------------------------


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
                *(_finite(r.indicators.get(n)) for n in names),
                _finite(r.score),
                r.grade,
                rank.get(r.enterprise),
                ", ".join(r.missing),
            ]
        )
    bench_rows: list[list[Cell]] = [
        [
            f"permu.{n}",
            _finite(evaluation.benchmarks.get(n)),
            evaluation.weights.get(n, evaluation.small_weights.get(n)),
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
            Headline("score", _finite(mine.score), "", 1),
            Headline("grade", mine.grade),
            Headline("rank", f"{rank[enterprise]} / {len(rank)}" if enterprise in rank else None),
        ]
    return Section("per_mu", tables, notes), headlines


# -- alerts ---------------------------------------------------------------------------------------


def alert_rows(g: Gathered, enterprise: str | None) -> list[list[Cell]]:
    """Each alert that was firing during the period: when it fired, when it was resolved and for
    how long it fired inside the period."""
    period, calendar = g.period, g.replayed.twin.calendar
    places: set[str] | None = None
    if enterprise is not None:
        found = next(e for e in g.park.enterprises if e.id == enterprise)
        places = {enterprise, *found.buildings}
    open_: dict[str, AlertChange] = {}
    spans: list[tuple[AlertChange, AlertChange | None]] = []
    for change in g.alerts:
        if change.state == "firing":
            open_.setdefault(change.fingerprint, change)
        elif change.state == "resolved" and change.fingerprint in open_:
            spans.append((open_.pop(change.fingerprint), change))
    spans += [(fired, None) for fired in open_.values()]
    rows: list[list[Cell]] = []
    for fired, resolved in sorted(spans, key=lambda s: s[0].at_ms):
        end = resolved.at_ms if resolved is not None else period.end_ms
        if end < period.start_ms or fired.at_ms >= period.end_ms:
            continue
        if places is not None and fired.place not in places:
            continue
        inside = min(end, period.end_ms) - max(fired.at_ms, period.start_ms)
        rows.append(
            [
                fired.rule,
                fired.severity,
                fired.place,
                calendar.local(fired.at_ms).strftime("%Y-%m-%d %H:%M"),
                calendar.local(resolved.at_ms).strftime("%Y-%m-%d %H:%M") if resolved else "",
                inside / HOUR_MS,
                fired.summary,
            ]
        )
    return rows


def alerts_section(g: Gathered, enterprise: str | None) -> tuple[Section, list[Headline]]:
    rows = alert_rows(g, enterprise)
    table = Table(
        "alerts_fired",
        [
            Column("rule", kind="text"),
            Column("severity", kind="text"),
            Column("place", kind="text"),
            Column("fired", kind="text"),
            Column("resolved", kind="text"),
            Column("firing_in_period", "h", summable=True, digits=2),
            Column("summary", kind="text"),
        ],
        rows,
        total=len(rows) > 1,
    )
    notes = [Note("note.alerts_source"), Note("note.alert_cost")]
    if not rows:
        notes.insert(0, Note("note.no_alerts"))
    return Section("alerts", [table], notes), [Headline("alerts_count", len(rows), "", 0)]


# -- data quality ---------------------------------------------------------------------------------


def longest_run(missing: list[bool]) -> int:
    best = run = 0
    for gap in missing:
        run = run + 1 if gap else 0
        best = max(best, run)
    return best


def quality_section(g: Gathered, enterprise: str | None) -> tuple[Section, list[Headline]]:
    period, replayed = g.period, g.replayed
    topology = replayed.twin.topology
    calendar = replayed.twin.calendar
    hours: list[int] = []
    hour = period.start_ms
    end = min(period.end_ms, (replayed.last_ms or period.start_ms) + 1)
    while hour < end:
        hours.append(hour)
        hour = calendar.shift(Granularity.HOUR, hour, 1)
    covered_ms = max(end - period.start_ms, 0)
    resets = replayed.resets_at_end - replayed.resets_at_start
    owner = {d.id: d.enterprise for d in g.park.devices}
    enterprise_buildings = set()
    if enterprise is not None:
        enterprise_buildings = set(
            next(e for e in g.park.enterprises if e.id == enterprise).buildings
        )
    rows: list[list[Cell]] = []
    received_total = expected_total = 0.0
    for i, device in enumerate(topology.device_ids):
        if enterprise is not None:
            found = g.park.devices_by_id[device]
            if owner.get(device) != enterprise and found.building not in enterprise_buildings:
                continue
        counts = g.counts.by_device.get(device, {})
        interval_s = float(topology.interval_ms[i]) / 1000
        expected = covered_ms / 1000 / interval_s if interval_s > 0 else 0.0
        received = float(sum(counts.values()))
        gaps = [counts.get(h, 0) == 0 for h in hours]
        received_total += min(received, expected)
        expected_total += expected
        rows.append(
            [
                device,
                topology.device_kind_value[i],
                interval_s,
                expected,
                received,
                100.0 * received / expected if expected else None,
                sum(gaps),
                longest_run(gaps),
                int(resets[i]),
            ]
        )
    table = Table(
        "device_completeness",
        [
            Column("device", kind="text"),
            Column("kind", kind="text"),
            Column("interval", "s", digits=0),
            Column("expected_readings", digits=0, summable=True),
            Column("received_readings", digits=0, summable=True),
            Column("received_share", "%"),
            Column("hours_without_readings", "h", digits=0),
            Column("longest_gap", "h", digits=0),
            Column("counter_resets", digits=0, summable=True),
        ],
        rows,
        total=len(rows) > 1,
        ratios={5: (4, 3, 100.0)},
    )
    stats, before = replayed.stats_at_end, replayed.stats_at_start
    ingest_rows: list[list[Cell]] = [
        [f.name, getattr(stats, f.name) - getattr(before, f.name)] for f in fields(stats)
    ]
    ingest = Table(
        "replay_ingest",
        [Column("item", kind="label"), Column("count", digits=0)],
        ingest_rows,
    )
    notes = [
        Note("note.quality_expected"),
        Note("note.quality_replay", {"resolution": 900}),
        Note("note.dead_letters", {"topic": f"parks/{g.park.park.id}/deadletter"}),
    ]
    share = 100.0 * received_total / expected_total if expected_total else None
    return Section("data_quality", [table, ingest], notes), [
        Headline("data_completeness", share, "%")
    ]


# -- the report -----------------------------------------------------------------------------------


def check_enterprise_id(park: Park, enterprise: str | None) -> None:
    """UnknownEnterpriseError when the park file does not name ``enterprise``."""
    if enterprise is not None and enterprise not in {e.id for e in park.enterprises}:
        known = ", ".join(sorted(e.id for e in park.enterprises)) or "(none)"
        raise UnknownEnterpriseError(
            f"enterprise {enterprise!r} is not in park {park.park.id} (known: {known})"
        )


def build_report(g: Gathered, enterprise: str | None = None) -> Report:
    """The report of a gathered period, for the park or for one of its enterprises."""
    check_enterprise_id(g.park, enterprise)
    calendar = g.replayed.twin.calendar
    energy, energy_heads = energy_section(g, enterprise)
    carbon, carbon_heads = carbon_section(g, enterprise)
    sections = [energy, carbon]
    headlines = energy_heads + carbon_heads
    if enterprise is None:
        zero_green, zg_heads = zero_green_section(g)
        sections += zero_green
        headlines += zg_heads
    per_mu, mu_heads = per_mu_section(g, enterprise)
    if per_mu is not None:
        sections.append(per_mu)
        headlines += mu_heads
    alerts, alert_heads = alerts_section(g, enterprise)
    quality, quality_heads = quality_section(g, enterprise)
    sections += [alerts, quality]
    headlines += alert_heads + quality_heads
    fmt = "%Y-%m-%d %H:%M"
    replayed = g.replayed
    source = [
        Note(
            "note.source",
            {
                "since": calendar.local(g.replay_since_ms).strftime(fmt),
                "until": calendar.local(g.period.end_ms).strftime(fmt),
                "readings": replayed.readings_in_period,
            },
        ),
        Note(
            "note.range",
            {
                "first": calendar.local(replayed.first_ms).strftime(fmt)
                if replayed.first_ms
                else "",
                "last": calendar.local(replayed.last_ms).strftime(fmt) if replayed.last_ms else "",
            },
        ),
        Note("note.inputs", {"source": g.inputs_source}),
    ]
    if (
        replayed.last_ms is not None
        and calendar.shift(
            Granularity.HOUR, calendar.start_of(Granularity.HOUR, replayed.last_ms), 1
        )
        < g.period.end_ms
    ):
        source.append(
            Note("note.partial", {"last": calendar.local(replayed.last_ms).strftime(fmt)})
        )
    monthly = []
    energy_months = next(t for t in energy.tables if t.key == "by_month")
    for row in energy_months.rows:
        monthly.append(
            (str(row[0]), as_float(row[1]), None if row[2] is None else as_float(row[2]))
        )
    name = None
    if enterprise is not None:
        name = next(e.name for e in g.park.enterprises if e.id == enterprise)
    return Report(
        park_id=g.park.park.id,
        park_name=g.park.park.name,
        period=g.period.label,
        enterprise=enterprise,
        enterprise_name=name,
        timezone=str(g.park.park.timezone),
        start_local=calendar.local(g.period.start_ms).strftime(fmt),
        end_local=calendar.local(g.period.end_ms).strftime(fmt),
        source=source,
        headlines=headlines,
        sections=sections,
        monthly_kwh=monthly,
    )
