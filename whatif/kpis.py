"""The KPIs of a window's flows, made by the twin's own indicator maths: the energy balance, the
monthly carbon accounts (green power capped by each month's import), the "1+5" core indicator
and clean-energy share, and the least-squares path to neutrality."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from parktwin.park.twin import GreenPower, TwinSettings
from parktwin.periods import Granularity
from twin.indicators.carbon import combine, month_account, progress, sinks_co2_t
from twin.indicators.energy import energy_balance
from twin.indicators.zero_carbon import zero_carbon_report
from twin.model.topology import Flow
from whatif.costs import Pricing
from whatif.window import Window

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Kpis:
    """One run's figures over the window (a baseline or a scenario)."""

    electricity_consumption_kwh: float
    grid_import_kwh: float
    grid_export_kwh: float
    pv_generation_kwh: float
    pv_self_consumption_kwh: float
    battery_charge_kwh: float
    battery_discharge_kwh: float
    gas_m3: float
    heat_gj: float
    energy_tce: float
    scope1_co2_t: float
    scope2_location_co2_t: float
    scope2_market_co2_t: float
    green_applied_kwh: float
    net_co2_t: float
    zero_carbon_co2_t: float
    carbon_per_energy_t_co2_per_tce: float | None
    carbon_per_energy_threshold: float
    carbon_per_energy_passes: bool | None
    clean_energy_share_pct: float | None
    clean_energy_share_threshold_pct: float
    clean_energy_share_passes: bool | None
    peak_demand_kw: float
    annual_net_co2_t: float | None
    projected_neutral_year: float | None
    # Costs under the park's tariffs (None without a ``tariffs:`` section), see whatif/costs.py.
    cost_total_yuan: float | None = None
    cost_energy_yuan: float | None = None
    cost_basic_yuan: float | None = None
    cost_gas_yuan: float | None = None
    cost_heat_yuan: float | None = None
    cost_green_yuan: float | None = None
    cost_carbon_yuan: float | None = None
    feed_in_revenue_yuan: float | None = None

    def as_dict(self) -> dict[str, float | bool | None]:
        return asdict(self)


@dataclass(frozen=True)
class MonthFigures:
    """Figures of one month of a run."""

    month: str
    grid_import_kwh: float
    peak_demand_kw: float
    net_co2_t: float
    scope2_market_co2_t: float


NUMBERS = tuple(
    name for name, kind in Kpis.__annotations__.items() if kind in ("float", "float | None")
)


def peak_kw(window: Window, flows: Floats) -> Floats:
    """Each month's highest grid import, as the mean power of one step (kW)."""
    power = flows[:, Flow.GRID_IMPORT_KWH] / window.steps.step_h
    peaks = np.zeros(len(window.months))
    np.maximum.at(peaks, window.month_of_step, power)
    return peaks


def kpis(
    window: Window,
    flows: Floats,
    settings: TwinSettings,
    extra_green: list[GreenPower] | None = None,
    pricing: Pricing | None = None,
) -> tuple[Kpis, list[MonthFigures]]:
    """The KPIs of per-step park flows over the window."""
    monthly = window.monthly(flows)
    calendar = window.calendar
    accounts = []
    for i, month in enumerate(window.months):
        recorded = settings.green_power.get(month) or GreenPower()
        extra = extra_green[i] if extra_green else GreenPower()
        green = GreenPower(
            certificates=recorded.certificates + extra.certificates,
            direct_kwh=recorded.direct_kwh + extra.direct_kwh,
        )
        start = calendar.parse_label(Granularity.MONTH, month)
        year = calendar.start_of(Granularity.YEAR, start)
        year_ms = calendar.shift(Granularity.YEAR, year, 1) - year
        length = calendar.shift(Granularity.MONTH, start, 1) - start
        accounts.append(
            month_account(
                monthly[i],
                green,
                settings.offsets_t_co2.get(month, 0.0),
                sinks_co2_t(settings.sinks, length, year_ms),
                settings,
            )
        )
    account = combine(accounts, settings)
    conversion = settings.conversion
    balance = energy_balance(monthly.sum(axis=0), conversion, conversion.electricity_basis)
    configured = settings.zero_carbon.band_annual_energy_tce
    band = configured if configured is not None else balance.tce.energy_tce * 12 / len(monthly)
    zero = zero_carbon_report(
        f"{window.months[0]}..{window.months[-1]}",
        window.months,
        balance,
        account,
        band,
        "configured annual energy" if configured is not None else "the window scaled to a year",
        {},
        settings,
    )
    last_year = int(window.months[-1][:4])
    path = progress(settings.targets, last_year, window.months, [a.net_co2_t for a in accounts])
    peaks = peak_kw(window, flows)
    months = [
        MonthFigures(
            m, float(row[Flow.GRID_IMPORT_KWH]), float(p), a.net_co2_t, a.scope2_market_co2_t
        )
        for m, row, p, a in zip(window.months, monthly, peaks, accounts, strict=True)
    ]
    money = {}
    if pricing is not None:
        costs = pricing.costs(window, flows, accounts)
        money = {
            "cost_total_yuan": costs.total,
            "cost_energy_yuan": costs.energy,
            "cost_basic_yuan": costs.basic,
            "cost_gas_yuan": costs.gas,
            "cost_heat_yuan": costs.heat,
            "cost_green_yuan": costs.green,
            "cost_carbon_yuan": costs.carbon,
            "feed_in_revenue_yuan": costs.feed_in_revenue,
        }
    result = Kpis(
        electricity_consumption_kwh=balance.electricity_consumption_kwh,
        grid_import_kwh=balance.grid_import_kwh,
        grid_export_kwh=balance.grid_export_kwh,
        pv_generation_kwh=balance.pv_generation_kwh,
        pv_self_consumption_kwh=balance.pv_self_consumption_kwh,
        battery_charge_kwh=balance.battery_charge_kwh,
        battery_discharge_kwh=balance.battery_discharge_kwh,
        gas_m3=balance.gas_m3,
        heat_gj=balance.heat_gj,
        energy_tce=balance.tce.energy_tce,
        scope1_co2_t=account.scope1_co2_t,
        scope2_location_co2_t=account.scope2_location_co2_t,
        scope2_market_co2_t=account.scope2_market_co2_t,
        green_applied_kwh=account.green_applied_kwh,
        net_co2_t=account.net_co2_t,
        zero_carbon_co2_t=account.zero_carbon_co2_t,
        carbon_per_energy_t_co2_per_tce=zero.carbon_per_energy.value,
        carbon_per_energy_threshold=zero.carbon_per_energy.threshold or 0.0,
        carbon_per_energy_passes=zero.carbon_per_energy.passes,
        clean_energy_share_pct=zero.clean_energy_share.value,
        clean_energy_share_threshold_pct=zero.clean_energy_share.threshold or 0.0,
        clean_energy_share_passes=zero.clean_energy_share.passes,
        peak_demand_kw=float(peaks.max()) if len(peaks) else 0.0,
        annual_net_co2_t=path.annual_net_co2_t,
        projected_neutral_year=path.projected_neutral_year,
        **money,
    )
    return result, months
