"""A green-park score in the categories of GB/T 36132-2018, from what the twin knows.

Each indicator scores its ratio to a lead value (capped at 100 %); a category scores the mean
of its indicators that have a value; the park scores the mean of categories with a score. The
lead values are a published benchmark for low-carbon parks, not the standard's text (which was
not found). An indicator without data is reported missing and left out, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from parktwin.park.twin import TwinSettings
from twin.indicators.carbon import CarbonAccount
from twin.indicators.energy import EnergyBalance
from twin.indicators.indicator import Comparison, field_ratio_pct, ratio, ratio_pct
from twin.model.inputs import MonthlyInputs


@dataclass(frozen=True, slots=True)
class GreenIndicator:
    """An indicator's value, its lead value and its score (value over lead, at most 100 %)."""

    name: str
    unit: str
    value: float | None
    lead_value: float | None
    comparison: Comparison
    score_pct: float | None
    missing_months: list[str]
    note: str


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    score_pct: float | None
    indicators: list[GreenIndicator]


@dataclass(frozen=True, slots=True)
class GreenParkReport:
    year: str
    score_pct: float | None
    categories: list[Category]
    missing: list[str]
    not_assessed: list[str]
    lead_basis: str


def score(value: float | None, lead: float | None, comparison: Comparison) -> float | None:
    """100 × value / lead (at least) or lead / value (at most), capped at 100."""
    if value is None or lead is None or lead <= 0:
        return None
    if comparison == "at_least":
        return min(value / lead, 1.0) * 100
    return 100.0 if value <= lead else 100 * lead / value


def indicator(
    name: str,
    unit: str,
    value: float | None,
    lead: float | None,
    comparison: Comparison,
    missing_months: list[str] | None = None,
    note: str = "",
) -> GreenIndicator:
    """An indicator scored against its lead value."""
    return GreenIndicator(
        name,
        unit,
        value,
        lead,
        comparison,
        score(value, lead, comparison),
        missing_months or [],
        note,
    )


def green_park_report(
    year: str,
    months: list[str],
    balance: EnergyBalance,
    account: CarbonAccount,
    value_added_10k_yuan: float | None,
    value_added_note: str,
    inputs: dict[str, MonthlyInputs],
    settings: TwinSettings,
) -> GreenParkReport:
    """Score one year to date."""
    leads = settings.green_park
    energy = balance.tce.energy_tce
    renewable_kwh = min(
        balance.pv_self_consumption_kwh + account.green_applied_kwh,
        balance.electricity_consumption_kwh,
    )
    renewable_tce = renewable_kwh * balance.tce.electricity_kgce_per_kwh / 1000
    co2 = account.scope1_co2_t + (
        account.scope2_market_co2_t
        if settings.accounting.net_scope2 == "market"
        else account.scope2_location_co2_t
    )

    per_va = value_added_10k_yuan
    energy_use = [
        indicator(
            "energy per unit of value added",
            "tce/10k yuan",
            ratio(energy, per_va) if per_va else None,
            leads.energy_per_value_added_tce_per_10k_yuan,
            "at_most",
            note=value_added_note,
        ),
        indicator(
            "non-fossil share of energy",
            "%",
            ratio_pct(renewable_tce, energy),
            leads.non_fossil_share_pct,
            "at_least",
        ),
        indicator(
            "renewable electricity share",
            "%",
            ratio_pct(renewable_kwh, balance.electricity_consumption_kwh),
            leads.renewable_electricity_share_pct,
            "at_least",
        ),
    ]
    waste, waste_missing = field_ratio_pct(
        months, inputs, "solid_waste_utilised_t", "solid_waste_generated_t"
    )
    water, water_missing = field_ratio_pct(
        months, inputs, "industrial_water_reused_m3", "industrial_water_use_m3"
    )
    heat, heat_missing = field_ratio_pct(
        months, inputs, "waste_heat_recovered_gj", "waste_heat_available_gj"
    )
    resource_use = [
        indicator(
            "general solid waste utilisation",
            "%",
            waste,
            leads.solid_waste_utilisation_pct,
            "at_least",
            waste_missing,
        ),
        indicator(
            "industrial water reuse",
            "%",
            water,
            leads.industrial_water_reuse_pct,
            "at_least",
            water_missing,
        ),
        indicator(
            "waste heat recovery",
            "%",
            heat,
            leads.waste_heat_recovery_pct,
            "at_least",
            heat_missing,
        ),
    ]
    environment = [
        indicator(
            "CO2 per unit of value added",
            "t CO2/10k yuan",
            ratio(co2, per_va) if per_va else None,
            leads.co2_per_value_added_t_per_10k_yuan,
            "at_most",
            note=value_added_note,
        )
    ]
    categories = [
        _category("energy use", energy_use),
        _category("resource use", resource_use),
        _category("ecological environment", environment),
    ]
    scored = [c.score_pct for c in categories if c.score_pct is not None]
    return GreenParkReport(
        year=year,
        score_pct=sum(scored) / len(scored) if scored else None,
        categories=categories,
        missing=[i.name for c in categories for i in c.indicators if i.value is None],
        not_assessed=["infrastructure", "industry", "operational management"],
        lead_basis=leads.basis,
    )


def _category(name: str, indicators: list[GreenIndicator]) -> Category:
    scores = [i.score_pct for i in indicators if i.score_pct is not None]
    return Category(name, sum(scores) / len(scores) if scores else None, indicators)
