"""Energy: the balance, carriers, places, months, budget, load profile and peak demand."""

from __future__ import annotations

from parktwin.periods import Granularity
from reports.model import (
    Cell,
    Column,
    Headline,
    Heatmap,
    Note,
    Section,
    Table,
    as_float,
)
from reports.replay import HOUR_MS, Gathered, Replayed
from reports.sections.common import Floats, balance_of, change_pct, period_flows
from reports.sections.costs import band_tables
from twin.indicators.energy import energy_balance
from twin.model.topology import Level
from twin.state.compose import place_values
from twin.state.snapshot import PLACE_FIELDS

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
    conversion = twin.settings.conversion
    row = twin.topology.places[Level.ENTERPRISE].ids.index(enterprise) if enterprise else 0
    out: dict[int, float] = {}
    for start, park in replayed.hours.park.items():
        if not start_ms <= start < end_ms:
            continue
        if enterprise is None:
            balance = energy_balance(park, conversion, conversion.electricity_basis)
            out[start] = balance.electricity_consumption_kwh
        else:
            out[start] = float(replayed.hours.enterprise_kwh[start][row])
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
    bands, band_notes = band_tables(g, enterprise)
    tables += bands
    notes += band_notes
    section = Section(
        "energy",
        tables,
        notes,
        heatmap(replayed, hours, period.start_ms, period.end_ms),
    )
    return section, headlines
