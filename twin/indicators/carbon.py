"""Carbon accounting: Scope 1 and 2, green power, sinks, offsets, net emissions and the path to
neutrality. Monthly accounts are the unit: green certificates are bought per month and capped by
that month's grid import; a year is the sum of its months.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from parktwin.park.twin import GreenPower, Sinks, Targets, TwinSettings
from twin.model.topology import Flow

Floats = npt.NDArray[np.float64]

KWH_PER_CERTIFICATE = 1000  # one 绿证 is 1,000 kWh


@dataclass(frozen=True, slots=True)
class CarbonAccount:
    """Emissions of one period in t CO2, with every factor and choice that produced them."""

    gas_co2_t: float
    diesel_co2_t: float
    stack_co2_t: float  # measured by stack monitors
    process_co2_t: float  # stack CO2 counted on top of fuel ("process" mode), else 0
    scope1_co2_t: float
    grid_import_kwh: float
    scope2_location_co2_t: float
    green_certificates: int
    green_direct_kwh: float
    green_applied_kwh: float  # certificates and contracts, capped by each month's grid import
    scope2_market_co2_t: float
    zero_carbon_co2_t: float  # 910号 accounting: non-green grid power at the fossil factor
    sinks_co2_t: float  # reported apart from emissions
    offsets_co2_t: float
    net_co2_t: float
    grid_kg_per_kwh: float
    grid_basis: str
    market_residual_kg_per_kwh: float
    market_basis: str
    fossil_kg_per_kwh: float
    fossil_basis: str
    stack_mode: str
    net_basis: str


def fuel_co2_t(flows: Floats, settings: TwinSettings) -> tuple[Any, Any]:
    """CO2 of natural gas and diesel burnt (t); ``flows`` is one row or a table of rows."""
    factors = settings.emission
    gas = flows[..., Flow.GAS_M3] * factors.natural_gas_kg_per_m3 / 1000
    diesel = flows[..., Flow.DIESEL_KG] * factors.diesel_kg_per_kg / 1000
    return gas, diesel


def process_co2_t(flows: Floats, settings: TwinSettings) -> Any:
    """Stack CO2 that counts on top of fuel: all of it in "process" mode, none otherwise."""
    if settings.accounting.stack_co2 == "process":
        return flows[..., Flow.STACK_CO2_KG] / 1000
    return 0.0


def location_co2_t(electricity_kwh: Any, flows: Floats, settings: TwinSettings) -> Any:
    """Scope 1 and location-based Scope 2 of places (buildings, zones, enterprises), one row
    or a table of rows."""
    gas, diesel = fuel_co2_t(flows, settings)
    grid = electricity_kwh * settings.emission.grid_kg_per_kwh / 1000
    return gas + diesel + process_co2_t(flows, settings) + grid


def sinks_co2_t(sinks: Sinks, elapsed_ms: float, year_ms: float) -> float:
    """Carbon taken up by green space over ``elapsed_ms`` of a year lasting ``year_ms``."""
    annual = sum(
        area * sinks.t_co2_per_ha_year.get(vegetation, 0.0)
        for vegetation, area in sinks.area_ha.items()
    )
    return annual * elapsed_ms / year_ms


def month_account(
    flows: Floats,
    green: GreenPower | None,
    offsets_t: float,
    sinks_t: float,
    settings: TwinSettings,
) -> CarbonAccount:
    """The carbon account of one month from its flow totals and its green-power purchases."""
    factors, choices = settings.emission, settings.accounting
    gas, diesel = (float(x) for x in fuel_co2_t(flows, settings))
    stack = float(flows[Flow.STACK_CO2_KG]) / 1000
    process = float(process_co2_t(flows, settings))
    scope1 = gas + diesel + process
    imported = float(flows[Flow.GRID_IMPORT_KWH])
    green = green or GreenPower()
    bought = green.certificates * KWH_PER_CERTIFICATE + green.direct_kwh
    applied = min(bought, imported)  # unused certificates do not make other power green
    location = imported * factors.grid_kg_per_kwh / 1000
    market = (imported - applied) * factors.market_residual_kg_per_kwh / 1000
    zero_process = process if choices.zero_carbon_includes_process else 0.0
    zero = gas + diesel + zero_process + (imported - applied) * factors.fossil_kg_per_kwh / 1000
    scope2 = market if choices.net_scope2 == "market" else location
    return CarbonAccount(
        gas_co2_t=gas,
        diesel_co2_t=diesel,
        stack_co2_t=stack,
        process_co2_t=process,
        scope1_co2_t=scope1,
        grid_import_kwh=imported,
        scope2_location_co2_t=location,
        green_certificates=green.certificates,
        green_direct_kwh=green.direct_kwh,
        green_applied_kwh=applied,
        scope2_market_co2_t=market,
        zero_carbon_co2_t=zero,
        sinks_co2_t=sinks_t,
        offsets_co2_t=offsets_t,
        net_co2_t=scope1 + scope2 - sinks_t - offsets_t,
        grid_kg_per_kwh=factors.grid_kg_per_kwh,
        grid_basis=factors.grid_label,
        market_residual_kg_per_kwh=factors.market_residual_kg_per_kwh,
        market_basis=factors.market_residual_label,
        fossil_kg_per_kwh=factors.fossil_kg_per_kwh,
        fossil_basis=factors.fossil_label,
        stack_mode=choices.stack_co2,
        net_basis=f"scope 1 + {choices.net_scope2}-based scope 2 - sinks - offsets",
    )


def combine(accounts: list[CarbonAccount], settings: TwinSettings) -> CarbonAccount:
    """The sum of several periods' accounts (factors and bases stay those of the settings)."""
    empty = month_account(np.zeros(len(Flow)), None, 0.0, 0.0, settings)
    totals = {
        f.name: sum(getattr(a, f.name) for a in accounts)
        for f in fields(CarbonAccount)
        if f.name.endswith(("_t", "_kwh", "_certificates")) and not f.name.endswith("per_kwh")
    }
    return replace(empty, **totals)


@dataclass(frozen=True, slots=True)
class CarbonProgress:
    """Progress from a baseline year along a straight line to neutrality in the target year."""

    baseline_year: int | None
    baseline_net_co2_t: float | None
    target_year: int | None
    year: int
    path_net_co2_t: float | None  # where the straight line puts this year's net emissions
    recent_months: list[str]
    recent_net_co2_t: float | None
    annual_net_co2_t: float | None  # recent months scaled to twelve when fewer are known
    annual_basis: str
    progress_pct: float | None  # share of the baseline removed
    on_track: bool | None
    trend_t_co2_per_month: float | None
    projected_neutral_year: float | None
    projection_basis: str


def straight_line(targets: Targets, year: int) -> float | None:
    """Net emissions the straight path allows in ``year`` (baseline → zero at target year)."""
    if targets.baseline_year is None or targets.target_year is None:
        return None
    if targets.baseline_net_co2_t is None or targets.target_year <= targets.baseline_year:
        return None
    span = targets.target_year - targets.baseline_year
    done = min(max(year - targets.baseline_year, 0), span) / span
    return targets.baseline_net_co2_t * (1 - done)


def neutrality_year(month_index: list[int], net_t: list[float]) -> float | None:
    """When a least-squares line through monthly net emissions reaches zero, as a fractional year.

    ``month_index`` counts months as year × 12 + (month − 1); a month's emissions sit at its
    middle. None when the trend is not falling (a zero crossing in the past is returned as is).
    """
    x = np.asarray(month_index, dtype=np.float64) + 0.5
    y = np.asarray(net_t, dtype=np.float64)
    slope, intercept = np.polyfit(x, y, 1)
    if slope >= 0:
        return None
    zero_month = -intercept / slope
    return float(zero_month / 12)


def progress(
    targets: Targets, year: int, months: list[str], monthly_net_t: list[float]
) -> CarbonProgress:
    """Progress and projection from complete months of net emissions (oldest first)."""
    recent = months[-12:]
    recent_net = monthly_net_t[-12:]
    annual = sum(recent_net) * 12 / len(recent) if recent else None
    basis = (
        "sum of the last twelve complete months"
        if len(recent) == 12
        else f"{len(recent)} complete months scaled to twelve"
    )
    path = straight_line(targets, year)
    baseline = targets.baseline_net_co2_t
    progress_pct = (
        100 * (baseline - annual) / baseline
        if baseline is not None and annual is not None
        else None
    )
    trend_months = months[-targets.trend_months :]
    trend_net = monthly_net_t[-targets.trend_months :]
    slope = projected = None
    projection_basis = f"needs {targets.min_trend_months} complete months"
    if len(trend_months) >= targets.min_trend_months:
        index = [int(m[:4]) * 12 + int(m[5:7]) - 1 for m in trend_months]
        slope = float(np.polyfit(index, trend_net, 1)[0])
        projected = neutrality_year(index, trend_net)
        projection_basis = (
            f"least-squares line through {len(trend_months)} months"
            if projected is not None
            else f"least-squares trend through {len(trend_months)} months is not falling"
        )
    return CarbonProgress(
        baseline_year=targets.baseline_year,
        baseline_net_co2_t=baseline,
        target_year=targets.target_year,
        year=year,
        path_net_co2_t=path,
        recent_months=recent,
        recent_net_co2_t=sum(recent_net) if recent else None,
        annual_net_co2_t=annual,
        annual_basis=basis if recent else "no complete month yet",
        progress_pct=progress_pct,
        on_track=(annual <= path) if annual is not None and path is not None else None,
        trend_t_co2_per_month=slope,
        projected_neutral_year=projected,
        projection_basis=projection_basis,
    )
