"""Energy by tariff band, the month's demand against the contract, and what the period cost.

Every figure is the replayed twin's own cost ledger, read through the twin's cost code
(``Twin.period_costs``, ``Twin.bills``, ``Twin.month_demand``): the code behind ``/api/costs``
and ``parktwin bill``, on the same readings. Nothing is priced here; a quarter or a year adds
up its months. An enterprise's report holds its own bill only.
"""

from __future__ import annotations

from dataclasses import dataclass

from parktwin.park.alerts import FORECAST_SUFFIX, CostBudgetRule, split_place
from parktwin.periods import Granularity
from reports.history import AlertChange
from reports.model import Cell, Column, Headline, Note, Section, Table
from reports.replay import Gathered
from tariffs.bills import TenantBill
from tariffs.timeline import WINDOW_MS
from twin.state.cost_report import MonthDemand, PeriodCost

LEVEL_TABLES = {"building": "buildings", "zone": "zones", "enterprise": "enterprises"}
UNPRICED = "unpriced"


@dataclass(frozen=True, slots=True)
class MonthCosts:
    """The twin's costs of each month of the period it counted something in."""

    currency: str
    costs: list[PeriodCost]
    demand: list[MonthDemand]


def month_costs(g: Gathered) -> MonthCosts | None:
    """The replayed twin's month costs and demand; None when the park has no tariffs."""
    tariffs = g.park.tariffs
    if tariffs is None:
        return None
    twin = g.replayed.twin
    costs = [c for m in g.period.months if (c := twin.period_costs(Granularity.MONTH, m))]
    demand = [d for m in g.period.months if (d := twin.month_demand(m))]
    return MonthCosts(tariffs.currency, costs, demand)


def enterprise_bills(g: Gathered, enterprise: str) -> list[TenantBill]:
    """The enterprise's own bill of each month of the period (never another tenant's)."""
    found = []
    for month in g.period.months:
        bills = g.replayed.twin.bills(month)
        if bills is not None:
            found += [b for b in bills.bills if b.enterprise == enterprise]
    return found


def band_table(rows: dict[str, list[float]], currency: str) -> Table:
    """kWh and cost per band, its mean price a formula."""
    return Table(
        "by_tariff_band",
        [
            Column("tariff_band", kind="label"),
            Column("electricity", "kWh", summable=True),
            Column("cost", currency, summable=True, digits=2),
            Column("mean_price", f"{currency}/kWh", digits=4),
        ],
        [[band, kwh, yuan, yuan / kwh if kwh else None] for band, (kwh, yuan) in rows.items()],
        total=True,
        ratios={3: (2, 1, 1.0)},
    )


def park_bands(months: MonthCosts) -> dict[str, list[float]]:
    rows: dict[str, list[float]] = {}
    for cost in months.costs:
        for band in cost.park.bands:
            row = rows.setdefault(band.band, [0.0, 0.0])
            row[0] += band.kwh
            row[1] += band.yuan
        if cost.park.unpriced_kwh:
            rows.setdefault(UNPRICED, [0.0, 0.0])[0] += cost.park.unpriced_kwh
    return rows


def bill_bands(bills: list[TenantBill]) -> dict[str, list[float]]:
    rows: dict[str, list[float]] = {}
    for bill in bills:
        for line in bill.lines:
            if line.item.startswith("energy:"):
                row = rows.setdefault(line.item.removeprefix("energy:"), [0.0, 0.0])
                row[0] += line.quantity
                row[1] += line.amount_yuan
    return rows


def demand_table(g: Gathered, months: MonthCosts) -> Table:
    """Each month's highest 15-minute demand against the contract: the park's (the main
    meters together), and each main meter's when there are several."""
    calendar = g.replayed.twin.calendar
    rows: list[list[Cell]] = []

    def when(ms: int | None) -> str:
        return calendar.local(ms).strftime("%Y-%m-%d %H:%M") if ms is not None else ""

    for month in months.demand:
        excess = {bill.meter: bill.excess_kw for bill in month.basic.demand}
        rows.append(
            [month.month, "park", month.max_kw, when(month.at_ms), month.contracted_kw, None,
             sum(excess.values()) if excess else None]
        )  # fmt: skip
        if len(month.meters) > 1:
            for meter in month.meters:
                rows.append(
                    [month.month, meter.meter, meter.max_kw, when(meter.at_ms),
                     meter.contracted_kw, None, excess.get(meter.meter)]
                )  # fmt: skip
    for row in rows:
        peak, contract = row[2], row[4]
        if isinstance(peak, float) and isinstance(contract, float) and contract:
            row[5] = 100 * peak / contract
    return Table(
        "demand_15min",
        [
            Column("month", kind="text"),
            Column("meter", kind="label"),
            Column("peak_demand", "kW"),
            Column("window_start", kind="text"),
            Column("contracted_demand", "kW"),
            Column("of_contract", "%"),
            Column("excess_over_threshold", "kW"),
        ],
        rows,
        ratios={5: (2, 4, 100.0)},
    )


def band_tables(g: Gathered, enterprise: str | None) -> tuple[list[Table], list[Note]]:
    """The energy section's tables: energy by tariff band and its cost; the park's demand."""
    months = month_costs(g)
    if months is None:
        return [], [Note("note.no_tariffs")]
    if enterprise is not None:
        bands = bill_bands(enterprise_bills(g, enterprise))
        return [band_table(bands, months.currency)], [Note("note.bands_enterprise")]
    tables = [band_table(park_bands(months), months.currency)]
    notes = [Note("note.bands_park")]
    if any(m.contracted_kw is not None or m.max_kw for m in months.demand):
        tables.append(demand_table(g, months))
        notes.append(Note("note.demand_15min"))
    return tables, notes


PARK_CHARGES = ("energy_yuan", "basic_yuan", "gas_yuan", "heat_yuan", "carbon_yuan",
                "green_yuan")  # fmt: skip


def park_cost_table(months: MonthCosts) -> Table:
    """Each month's cost by charge; the total a formula over the row (feed-in revenue taken
    off), PV savings beside it (the total already lacks the PV power's energy)."""
    cur = months.currency
    rows: list[list[Cell]] = []
    for cost in months.costs:
        p = cost.park
        rows.append(
            [cost.label, p.grid_import_kwh, *(getattr(p, c) for c in PARK_CHARGES),
             p.feed_in_revenue_yuan, p.total_yuan, p.pv_savings_yuan]
        )  # fmt: skip
    money = [Column(key, cur, summable=True, digits=2) for key in PARK_CHARGES]
    return Table(
        "cost_by_charge",
        [
            Column("month", kind="text"),
            Column("grid_import", "kWh", summable=True),
            *money,
            Column("feed_in_revenue", cur, summable=True, digits=2),
            Column("total_cost", cur, summable=True, digits=2),
            Column("pv_savings_yuan", cur, summable=True, digits=2),
        ],
        rows,
        total=True,
        sums={9: ((2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1), (8, -1))},
    )


def bill_table(bills: list[TenantBill], currency: str) -> Table:
    """The enterprise's bill of each month; the total a formula over the row."""
    rows: list[list[Cell]] = [
        [b.month, b.electricity_kwh, b.energy_yuan, b.basic_share_pct, b.basic_yuan, b.gas_m3,
         b.gas_yuan, b.heat_gj, b.heat_yuan, b.total_yuan]
        for b in bills
    ]  # fmt: skip
    return Table(
        "bill_by_month",
        [
            Column("month", kind="text"),
            Column("electricity", "kWh", summable=True),
            Column("energy_yuan", currency, summable=True, digits=2),
            Column("basic_share", "%", digits=2),
            Column("basic_yuan", currency, summable=True, digits=2),
            Column("natural_gas", "m³", summable=True),
            Column("gas_yuan", currency, summable=True, digits=2),
            Column("heat", "GJ", summable=True),
            Column("heat_yuan", currency, summable=True, digits=2),
            Column("total_cost", currency, summable=True, digits=2),
        ],
        rows,
        total=True,
        sums={9: ((2, 1), (4, 1), (6, 1), (8, 1))},
    )


def tariff_notes(g: Gathered) -> list[Note]:
    tariffs = g.park.tariffs
    assert tariffs is not None
    calendar = g.replayed.twin.calendar
    notes = []
    for version in tariffs.versions:
        start = calendar.parse_label(Granularity.DAY, version.valid_from.isoformat())
        if start < g.period.end_ms:
            notes.append(
                Note(
                    "note.tariff_example" if version.example else "note.tariff",
                    {"from": version.valid_from.isoformat(), "source": version.source or ""},
                )
            )
    return notes


def costs_section(g: Gathered, enterprise: str | None) -> tuple[Section | None, list[Headline]]:
    """The cost section (None without tariffs): the park's costs by charge, or the
    enterprise's own bill."""
    months = month_costs(g)
    if months is None:
        return None, []
    notes = [Note("note.costs_source"), *tariff_notes(g)]
    if enterprise is not None:
        bills = enterprise_bills(g, enterprise)
        notes.append(Note("note.basic_share"))
        total = sum(b.total_yuan for b in bills)
        return Section("costs", [bill_table(bills, months.currency)], notes), [
            Headline("total_cost", total, months.currency, 0)
        ]
    notes.append(Note("note.pv_savings"))
    total = sum(c.park.total_yuan for c in months.costs)
    headlines = [Headline("total_cost", total, months.currency, 0)]
    if months.demand:
        top = max(months.demand, key=lambda m: m.max_kw)
        headlines.append(Headline("peak_15min_demand", top.max_kw, "kW", 0))
    return Section("costs", [park_cost_table(months)], notes), headlines


def label_at(g: Gathered, granularity: Granularity, ms: int) -> str:
    calendar = g.replayed.twin.calendar
    return calendar.label(granularity, calendar.start_of(granularity, ms))


def alert_cost(g: Gathered, change: AlertChange) -> tuple[float | None, str]:
    """What an alert cost, where the twin knows it, and how that was found (an i18n key).

    A contract demand alert: the excess of the window it warned of over the contracted demand
    × the demand price (what that window adds to the month's basic charge, at the demand
    price, should it stay the month's highest). A cost budget alert (or its forecast): the
    period's cost over the budget. Other alerts: not known.
    """
    twin = g.replayed.twin
    if change.kind == "contract_demand":
        month = label_at(g, Granularity.MONTH, change.at_ms)
        demand = twin.month_demand(month)
        if demand is None or demand.contracted_kw is None or not demand.basic.demand:
            return None, "alert_cost.not_known"
        slot = (change.at_ms - change.at_ms % WINDOW_MS - demand.start_ms) // WINDOW_MS
        if not 0 <= slot < len(demand.park_kw):
            return None, "alert_cost.not_known"
        price = demand.basic.demand[0].price_yuan_per_kw_month
        excess = max(demand.park_kw[slot] - demand.contracted_kw, 0.0)
        return excess * price, "alert_cost.demand_excess"
    if change.kind in ("cost_budget", "cost_budget_forecast"):
        rule = next(
            (
                r
                for r in g.park.alerts.rules
                if isinstance(r, CostBudgetRule) and change.rule in (r.id, r.id + FORECAST_SUFFIX)
            ),
            None,
        )
        if rule is None:
            return None, "alert_cost.not_known"
        granularity = Granularity(rule.period)
        cost = twin.period_costs(granularity, label_at(g, granularity, change.at_ms))
        if cost is None:
            return None, "alert_cost.not_kept"
        level, place_id = split_place(rule.place)
        if level == "park":
            total: float | None = cost.park.total_yuan
        else:
            row = getattr(cost, LEVEL_TABLES[level]).get(place_id)
            total = None if row is None else row["total_yuan"]
        if total is None:
            return None, "alert_cost.not_known"
        return max(total - rule.budget_yuan, 0.0), "alert_cost.over_budget"
    return None, "alert_cost.not_known"
