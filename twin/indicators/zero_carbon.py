"""Zero-carbon park indicators, "1+5" (发改环资〔2025〕910号 annex 3).

The core indicator, carbon per unit of energy, is a veto. Five guiding indicators follow; four
of them come from monthly inputs, as no sensor measures them. Every rate over a year is the
ratio of the year's sums.
"""

from __future__ import annotations

from dataclasses import dataclass

from parktwin.park.twin import TwinSettings, ZeroCarbonThresholds
from twin.indicators.carbon import CarbonAccount
from twin.indicators.energy import EnergyBalance
from twin.indicators.indicator import Indicator, field_ratio_pct, ratio, ratio_pct
from twin.model.inputs import MonthlyInputs

GUIDING_BASIS = "guiding indicator, one secondary source, unconfirmed against annex 3"


@dataclass(frozen=True, slots=True)
class Band:
    """The park's size band and its carbon-per-energy threshold."""

    name: str
    t_co2_per_tce: float
    basis: str


def size_band(annual_energy_tce: float, limits: ZeroCarbonThresholds) -> Band:
    """Threshold of the band holding the park's annual energy use."""
    if annual_energy_tce >= limits.large_min_tce:
        return Band(">= 1,000,000 tce", limits.large_t_co2_per_tce, "confirmed by two sources")
    if annual_energy_tce >= limits.medium_min_tce:
        return Band(
            "200,000 - 1,000,000 tce", limits.medium_t_co2_per_tce, "confirmed by two sources"
        )
    return Band(
        "< 200,000 tce", limits.small_t_co2_per_tce, "assumed: no threshold found for this band"
    )


@dataclass(frozen=True, slots=True)
class ProductCheck:
    """One product's energy per unit over the year against grade 2 of its quota standard."""

    enterprise: str
    product: str
    unit: str
    output_units: float
    energy_tce: float
    kgce_per_unit: float
    quota_kgce_per_unit: float
    share_of_quota_pct: float


@dataclass(frozen=True, slots=True)
class ZeroCarbonReport:
    """The "1+5" indicators of one year to date."""

    year: str
    co2_t: float
    energy_tce: float
    electricity_basis: str
    band: str
    band_energy_tce: float
    band_basis: str
    carbon_per_energy: Indicator
    clean_energy_tce: float
    clean_energy_share: Indicator
    product_energy: Indicator
    products: list[ProductCheck]
    solid_waste_utilisation: Indicator
    waste_heat_utilisation: Indicator
    industrial_water_reuse: Indicator

    @property
    def core_passes(self) -> bool | None:
        return self.carbon_per_energy.passes


def clean_energy_tce(
    balance: EnergyBalance, account: CarbonAccount, settings: TwinSettings
) -> float:
    """Non-fossil energy used: PV consumed on site (directly or through the battery) and grid
    power backed by certificates or direct green contracts, capped by consumption; natural gas
    too when the settings count it as clean."""
    clean_kwh = min(
        balance.pv_self_consumption_kwh + account.green_applied_kwh,
        balance.electricity_consumption_kwh,
    )
    clean = clean_kwh * balance.tce.electricity_kgce_per_kwh / 1000
    if settings.accounting.natural_gas_is_clean:
        clean += balance.tce.gas_tce
    return clean


def product_checks(months: list[str], inputs: dict[str, MonthlyInputs]) -> list[ProductCheck]:
    """Energy per unit of each product over the months given (ratio of sums)."""
    sums: dict[tuple[str, str], list[float]] = {}
    last: dict[tuple[str, str], tuple[str, float]] = {}
    for month in months:
        item = inputs.get(month)
        for product in (item.products or []) if item else []:
            key = (product.enterprise, product.product)
            total = sums.setdefault(key, [0.0, 0.0])
            total[0] += product.output_units
            total[1] += product.energy_tce
            last[key] = (product.unit, product.quota_kgce_per_unit)
    checks = []
    for (enterprise, name), (output, energy) in sorted(sums.items()):
        unit, quota = last[(enterprise, name)]
        per_unit = energy * 1000 / output
        checks.append(
            ProductCheck(
                enterprise, name, unit, output, energy, per_unit, quota, 100 * per_unit / quota
            )
        )
    return checks


def zero_carbon_report(
    year: str,
    months: list[str],
    balance: EnergyBalance,
    account: CarbonAccount,
    band_energy_tce: float,
    band_energy_basis: str,
    inputs: dict[str, MonthlyInputs],
    settings: TwinSettings,
) -> ZeroCarbonReport:
    """The indicators for a year to date; ``months`` are the year's months so far."""
    limits = settings.zero_carbon
    band = size_band(band_energy_tce, limits)
    energy = balance.tce.energy_tce
    clean = clean_energy_tce(balance, account, settings)
    process = "in" if settings.accounting.zero_carbon_includes_process else "out"
    core = Indicator(
        name="carbon per unit of energy",
        unit="t CO2/tce",
        value=ratio(account.zero_carbon_co2_t, energy),
        threshold=band.t_co2_per_tce,
        comparison="at_most",
        basis=(
            f"core indicator (veto); band {band.name}: {band.basis}; electricity at "
            f"{balance.tce.electricity_basis} equivalent; non-green grid power at the fossil "
            f"factor; process CO2 {process}"
        ),
    )
    checks = product_checks(months, inputs)
    worst = max((c.share_of_quota_pct for c in checks), default=None)
    product_missing = [m for m in months if inputs.get(m) is None or inputs[m].products is None]

    def reported(numerator: str, denominator: str, name: str, threshold: float) -> Indicator:
        value, missing = field_ratio_pct(months, inputs, numerator, denominator)
        return Indicator(name, "%", value, threshold, "at_least", GUIDING_BASIS, missing)

    return ZeroCarbonReport(
        year=year,
        co2_t=account.zero_carbon_co2_t,
        energy_tce=energy,
        electricity_basis=balance.tce.electricity_basis,
        band=band.name,
        band_energy_tce=band_energy_tce,
        band_basis=band_energy_basis,
        carbon_per_energy=core,
        clean_energy_tce=clean,
        clean_energy_share=Indicator(
            "clean-energy share of consumption",
            "%",
            ratio_pct(clean, energy),
            limits.clean_energy_share_min_pct,
            "at_least",
            GUIDING_BASIS
            + (
                "; natural gas counted as clean" if settings.accounting.natural_gas_is_clean else ""
            ),
        ),
        product_energy=Indicator(
            "worst product energy per unit, share of quota grade 2",
            "%",
            worst,
            100.0,
            "at_most",
            GUIDING_BASIS,
            product_missing,
        ),
        products=checks,
        solid_waste_utilisation=reported(
            "solid_waste_utilised_t",
            "solid_waste_generated_t",
            "industrial solid waste utilisation",
            limits.solid_waste_utilisation_min_pct,
        ),
        waste_heat_utilisation=reported(
            "waste_heat_recovered_gj",
            "waste_heat_available_gj",
            "waste heat utilisation",
            limits.waste_heat_utilisation_min_pct,
        ),
        industrial_water_reuse=reported(
            "industrial_water_reused_m3",
            "industrial_water_use_m3",
            "industrial water reuse",
            limits.industrial_water_reuse_min_pct,
        ),
    )
