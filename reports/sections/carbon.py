"""Carbon: the account of the period, green power, months, progress and every factor used."""

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
from reports.sections.common import period_flows, view_of
from reports.sections.energy import place_table
from twin.indicators.carbon import CarbonAccount, combine
from twin.model.topology import Level

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
