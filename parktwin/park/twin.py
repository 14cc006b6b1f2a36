"""Every factor, threshold, weight and target the twin uses, with its source.

Defaults come from /work/shared/domain.md (Chinese parks). A park elsewhere, or a park with its
own audited figures, replaces them in the ``twin:`` section of its park file. Figures marked
"assumed" or "unconfirmed" carry that word in the output next to the number they produce.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
"""A calendar month of the park's local time, ``YYYY-MM``."""

NonNegative = Annotated[float, Field(ge=0)]
ElectricityBasis = Literal["calorific", "generation"]


class Section(BaseModel):
    """Unknown keys are errors, as in the rest of the park file."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ConversionFactors(Section):
    """Energy to tonnes of standard coal equivalent (GB/T 2589-2020, 综合能耗计算通则)."""

    # Which electricity factor park totals and the zero-carbon core indicator use; shown in output.
    electricity_basis: ElectricityBasis = "calorific"
    electricity_calorific_kgce_per_kwh: NonNegative = 0.1229  # 当量值, GB/T 2589-2020, confirmed
    # 等价值: not fixed by the standard; 0.28-0.30 in local use. 0.29 is assumed, set your own.
    electricity_generation_kgce_per_kwh: NonNegative = 0.29
    natural_gas_kgce_per_m3: NonNegative = 1.2143  # gas-field gas; oilfield gas is 1.3300
    heat_tce_per_gj: NonNegative = 0.0341  # GB/T 2589-2020, confirmed
    diesel_kgce_per_kg: NonNegative = 1.4571  # GB/T 2589-2020, confirmed

    def electricity_kgce_per_kwh(self, basis: ElectricityBasis) -> float:
        """The electricity factor of the named basis."""
        if basis == "calorific":
            return self.electricity_calorific_kgce_per_kwh
        return self.electricity_generation_kgce_per_kwh


class EmissionFactors(Section):
    """CO2 factors: grid (MEE/NBS) and fuels (national GHG accounting guidelines)."""

    # Location-based Scope 2. MEE/NBS national average for data year 2023. Regional 2023 values:
    # North 0.6361, Northeast 0.5122, East 0.5500, Central 0.5271, Northwest 0.5543,
    # South 0.4042, Southwest 0.2472. (0.5703 is untraceable: do not use it.)
    grid_kg_per_kwh: NonNegative = 0.5306
    grid_label: str = "national average 2023 (MEE/NBS)"
    # Market-based Scope 2, power not covered by certificates or direct green contracts. Guides
    # differ (national average vs. 0.6096 "excluding market-traded non-fossil"); default national.
    market_residual_kg_per_kwh: NonNegative = 0.5306
    market_residual_label: str = "national average 2023 (MEE/NBS); guides differ"
    # Zero-carbon park accounting (发改环资〔2025〕910号 annex 4, per two secondary sources,
    # unconfirmed): non-green grid power at the fossil-power factor, 2022 data year.
    fossil_kg_per_kwh: NonNegative = 0.8325
    fossil_label: str = "fossil power 2022 (MEE/NBS); annex 4 reading unconfirmed"
    natural_gas_kg_per_m3: NonNegative = 2.1622  # national GHG accounting guidelines
    diesel_kg_per_kg: NonNegative = 3.0959  # national GHG accounting guidelines


class Accounting(Section):
    """Choices where guides differ; each is stated next to the figure it shapes."""

    # A stack monitor usually sits on a boiler whose gas is already metered, so by default its
    # CO2 is a cross-check of combustion, not added. "process" adds it on top (kilns, reactors).
    stack_co2: Literal["combustion_check", "process"] = "combustion_check"
    # Whether process emissions (stack CO2 in "process" mode) enter the zero-carbon core
    # indicator: not settled by the sources found.
    zero_carbon_includes_process: bool = True
    net_scope2: Literal["market", "location"] = "market"
    # Chinese statistics count natural gas as clean (清洁能源); a zero-carbon park's 90 % share
    # is read here as non-fossil only (assumed).
    natural_gas_is_clean: bool = False


class Targets(Section):
    """A straight-line path from a baseline year to carbon neutrality in a target year."""

    baseline_year: int | None = None
    baseline_net_co2_t: float | None = Field(default=None, gt=0)
    target_year: int | None = None
    trend_months: int = Field(default=12, ge=2)  # complete months fed to the least-squares trend
    min_trend_months: int = Field(default=3, ge=2)


class GreenPower(Section):
    """Green power bought in one month: certificates (1 绿证 = 1,000 kWh) and direct contracts."""

    certificates: int = Field(default=0, ge=0)
    direct_kwh: NonNegative = 0.0


class Sinks(Section):
    """Carbon sinks of green space. No official per-area figure exists: default zero."""

    # t CO2 per hectare per year, per vegetation type (park's own figures). The often repeated
    # "24 t per mu per year" is implausible and must not be used.
    t_co2_per_ha_year: dict[str, NonNegative] = Field(default_factory=dict)
    area_ha: dict[str, NonNegative] = Field(default_factory=dict)


class Financials(Section):
    """An enterprise's figures for a month (``YYYY-MM``) or a year (``YYYY``), in 10k yuan."""

    tax_10k_yuan: NonNegative | None = None
    value_added_10k_yuan: NonNegative | None = None
    revenue_10k_yuan: NonNegative | None = None
    rnd_10k_yuan: NonNegative | None = None
    employees: int | None = Field(default=None, ge=0)  # average headcount over the period


class PerMuWeights(Section):
    """Huangyan 2022 weights for enterprises above the size threshold (domain.md §5)."""

    tax_per_mu: NonNegative = 30
    value_added_per_mu: NonNegative = 20
    labour_productivity: NonNegative = 20
    value_added_per_tce: NonNegative = 10
    value_added_per_t_co2: NonNegative = 10
    rnd_share: NonNegative = 10


class SmallEnterpriseWeights(Section):
    """Enterprises below the size threshold: tax per mu 50, tax per kWh 50 (domain.md §5)."""

    tax_per_mu: NonNegative = 50
    tax_per_kwh: NonNegative = 50


class ClassShares(Section):
    """A/B/C/D class sizes: A at most, D at least, B its share; C takes the remainder."""

    a_max_pct: float = Field(default=20, ge=0, le=100)  # one city caps A at 20 %
    b_pct: float = Field(default=40, ge=0, le=100)  # assumed
    d_min_pct: float = Field(default=5, ge=0, le=100)  # the same city requires at least 5 % in D


class PerMu(Section):
    """Per-mu evaluation of enterprises (亩均论英雄)."""

    weights: PerMuWeights = Field(default_factory=PerMuWeights)
    small_weights: SmallEnterpriseWeights = Field(default_factory=SmallEnterpriseWeights)
    # Benchmark per indicator name; a missing one is the park's own value (ratio of sums).
    benchmarks: dict[str, float] = Field(default_factory=dict)
    # Cap of value/benchmark per indicator, so one outlier cannot carry a whole score; None: no cap.
    max_ratio: float | None = Field(default=None, gt=0)
    classes: ClassShares = Field(default_factory=ClassShares)
    # Energy in "value added per unit of energy" is taken at the generation equivalent (§5).
    electricity_basis: ElectricityBasis = "generation"
    evaluation_year: int | None = None  # None: the year of the watermark


class GreenParkLeads(Section):
    """Lead values per indicator: a published benchmark for low-carbon industrial parks, NOT the
    text of GB/T 36132 (whose lead values were not found). None: no lead value, not scored."""

    energy_per_value_added_tce_per_10k_yuan: float | None = 0.35  # at most
    co2_per_value_added_t_per_10k_yuan: float | None = 0.6  # at most
    non_fossil_share_pct: float | None = 20  # at least
    renewable_electricity_share_pct: float | None = 30  # at least
    solid_waste_utilisation_pct: float | None = 96  # at least
    industrial_water_reuse_pct: float | None = 85  # at least
    waste_heat_recovery_pct: float | None = 95  # at least
    basis: str = "benchmark set for low-carbon industrial parks, not the standard's text"


class ZeroCarbonThresholds(Section):
    """ "1+5" indicators (发改环资〔2025〕910号 annex 3)."""

    # t CO2 / tce by the park's annual energy use: >= 1,000,000 tce: 0.3, 200,000-1,000,000: 0.2
    # (both confirmed by two press sources); below 200,000 none was found: 0.2 assumed.
    large_min_tce: float = 1_000_000
    large_t_co2_per_tce: float = 0.3
    medium_min_tce: float = 200_000
    medium_t_co2_per_tce: float = 0.2
    small_t_co2_per_tce: float = 0.2
    # Guiding indicators, one secondary source, unconfirmed against annex 3.
    clean_energy_share_min_pct: float = 90
    solid_waste_utilisation_min_pct: float = 80
    waste_heat_utilisation_min_pct: float = 50
    industrial_water_reuse_min_pct: float = 80
    # The size band is taken from this annual figure when set, else from the trailing year.
    band_annual_energy_tce: float | None = Field(default=None, ge=0)


class StatusThresholds(Section):
    """A device is stale after this many reporting intervals without a reading, then offline."""

    stale_after_intervals: float = Field(default=2, gt=0)
    offline_after_intervals: float = Field(default=5, gt=0)


class OccupancyRules(Section):
    # An hour whose mean occupancy is below this counts as "empty" for wasted-energy figures.
    empty_below_persons: NonNegative = 0.5
    # An hour's occupancy is known when the people counters were read (within their stale
    # limit) for at least this share of it; other hours are unknown, never empty. Assumed.
    min_known_pct: float = Field(default=50.0, gt=0, le=100)


class Retention(Section):
    """How many periods of per-meter totals the twin keeps (memory grows with devices × this)."""

    hours: int = Field(default=30, ge=2)  # the whole local day plus margin
    days: int = Field(default=40, ge=2)
    months: int = Field(default=14, ge=13)  # the current year and twelve complete months
    years: int = Field(default=4, ge=1)


class TwinSettings(Section):
    """The ``twin:`` section of a park file."""

    conversion: ConversionFactors = Field(default_factory=ConversionFactors)
    emission: EmissionFactors = Field(default_factory=EmissionFactors)
    accounting: Accounting = Field(default_factory=Accounting)
    targets: Targets = Field(default_factory=Targets)
    green_power: dict[Month, GreenPower] = Field(default_factory=dict)
    offsets_t_co2: dict[Month, NonNegative] = Field(default_factory=dict)
    sinks: Sinks = Field(default_factory=Sinks)
    # enterprise id -> period ("YYYY" or "YYYY-MM") -> figures
    financials: dict[str, dict[str, Financials]] = Field(default_factory=dict)
    per_mu: PerMu = Field(default_factory=PerMu)
    green_park: GreenParkLeads = Field(default_factory=GreenParkLeads)
    zero_carbon: ZeroCarbonThresholds = Field(default_factory=ZeroCarbonThresholds)
    status: StatusThresholds = Field(default_factory=StatusThresholds)
    occupancy: OccupancyRules = Field(default_factory=OccupancyRules)
    retention: Retention = Field(default_factory=Retention)
