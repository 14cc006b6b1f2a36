"""The park's energy balance and its conversion to tonnes of standard coal equivalent (tce)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from parktwin.park.twin import ConversionFactors, ElectricityBasis
from twin.model.topology import Flow

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class CarrierTce:
    """Energy of each carrier in tce, with the electricity basis that was used."""

    electricity_tce: float
    gas_tce: float
    heat_tce: float
    diesel_tce: float
    energy_tce: float
    electricity_basis: str
    electricity_kgce_per_kwh: float


def tce_by_carrier(
    electricity_kwh: Any, flows: Floats, factors: ConversionFactors, basis: ElectricityBasis
) -> tuple[Any, Any, Any, Any]:
    """Electricity, gas, heat and diesel in tce; ``flows`` is one row or a table of rows."""
    electricity = electricity_kwh * factors.electricity_kgce_per_kwh(basis) / 1000
    gas = flows[..., Flow.GAS_M3] * factors.natural_gas_kgce_per_m3 / 1000
    heat = flows[..., Flow.HEAT_GJ] * factors.heat_tce_per_gj
    diesel = flows[..., Flow.DIESEL_KG] * factors.diesel_kgce_per_kg / 1000
    return electricity, gas, heat, diesel


def carrier_tce(
    electricity_kwh: float,
    flows: Floats,
    factors: ConversionFactors,
    basis: ElectricityBasis,
) -> CarrierTce:
    """Electricity, gas, heat and diesel in tce (GB/T 2589-2020 factors from settings)."""
    per_kwh = factors.electricity_kgce_per_kwh(basis)
    split = tce_by_carrier(electricity_kwh, flows, factors, basis)
    electricity, gas, heat, diesel = (float(x) for x in split)
    return CarrierTce(
        electricity_tce=electricity,
        gas_tce=gas,
        heat_tce=heat,
        diesel_tce=diesel,
        energy_tce=electricity + gas + heat + diesel,
        electricity_basis=basis,
        electricity_kgce_per_kwh=per_kwh,
    )


@dataclass(frozen=True, slots=True)
class EnergyBalance:
    """Where the park's electricity came from and went, and all carriers in tce."""

    grid_import_kwh: float
    grid_export_kwh: float
    pv_generation_kwh: float
    pv_self_consumption_kwh: float
    battery_charge_kwh: float
    battery_discharge_kwh: float
    electricity_consumption_kwh: float
    sub_metered_kwh: float
    unmetered_kwh: float
    gas_m3: float
    heat_gj: float
    diesel_kg: float
    water_m3: float
    tce: CarrierTce


def energy_balance(
    flows: Floats, factors: ConversionFactors, basis: ElectricityBasis
) -> EnergyBalance:
    """The balance of one period from the park's flow totals.

    Consumption = import − export + PV + discharge − charge: what the park's loads used,
    battery losses included. PV self-consumption = PV − export (PV stored in the battery
    and used later is self-consumed); export beyond PV (a battery selling) floors it at zero.
    """
    imported = float(flows[Flow.GRID_IMPORT_KWH])
    exported = float(flows[Flow.GRID_EXPORT_KWH])
    pv = float(flows[Flow.PV_KWH])
    charge = float(flows[Flow.CHARGE_KWH])
    discharge = float(flows[Flow.DISCHARGE_KWH])
    consumption = max(imported - exported + pv + discharge - charge, 0.0)
    sub_metered = float(flows[Flow.ELECTRICITY_KWH])
    return EnergyBalance(
        grid_import_kwh=imported,
        grid_export_kwh=exported,
        pv_generation_kwh=pv,
        pv_self_consumption_kwh=max(pv - exported, 0.0),
        battery_charge_kwh=charge,
        battery_discharge_kwh=discharge,
        electricity_consumption_kwh=consumption,
        sub_metered_kwh=sub_metered,
        unmetered_kwh=consumption - sub_metered,
        gas_m3=float(flows[Flow.GAS_M3]),
        heat_gj=float(flows[Flow.HEAT_GJ]),
        diesel_kg=float(flows[Flow.DIESEL_KG]),
        water_m3=float(flows[Flow.WATER_M3]),
        tce=carrier_tce(consumption, flows, factors, basis),
    )
