"""Apply a scenario's changes to the measured steps: the park's flows as they would have been.

Load changes (efficiency, new tenants, electrified heat) are each worked out from the measured
flows of their place and add up; PV comes next; a battery then dispatches against the net grid
flow that results; green power is bought on the grid import that remains. A change of the net
grid flow first uses up the other direction (less import before more export, and the reverse),
so a step without change keeps its measured import and export.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from parktwin.contract.quantities import DeviceKind
from parktwin.park.model import Park
from parktwin.park.tariffs import Tariffs
from parktwin.park.twin import GreenPower, TwinSettings
from twin.model.topology import Flow, Level
from whatif.battery import dispatch
from whatif.pv import pv_generation_kwh
from whatif.scenario import (
    AddPv,
    Battery,
    Efficiency,
    ElectrifyHeat,
    GreenPowerPurchase,
    GridFactor,
    NewTenant,
    Scenario,
    TariffChange,
)
from whatif.window import Window

Floats = npt.NDArray[np.float64]

KJ_PER_KGCE = 29_307.6  # 1 kgce = 29,307.6 kJ (GB/T 2589-2020)
CARRIER_FLOW = {"electricity": Flow.ELECTRICITY_KWH, "gas": Flow.GAS_M3, "heat": Flow.HEAT_GJ}


@dataclass(frozen=True)
class Applied:
    """A scenario's flows per step, the green power it buys per month, and its settings."""

    park: Floats  # (steps, N_FLOWS)
    green_by_month: list[GreenPower]  # extra purchases, aligned with the window's months
    settings: TwinSettings
    assumptions: list[str]
    tariffs: Tariffs | None  # the park's, or the scenario's own versions


def gas_kwh_per_m3(settings: TwinSettings) -> float:
    """Natural gas's heating value in kWh/m3, from its tce factor (one factor, one gas)."""
    return settings.conversion.natural_gas_kgce_per_m3 * KJ_PER_KGCE / 3600


def shift_net(imported: Floats, exported: Floats, delta: Floats) -> tuple[Floats, Floats]:
    """Import and export after the net grid flow moves by ``delta`` (import positive)."""
    less = np.minimum(delta, 0.0)
    more = np.maximum(delta, 0.0)
    # Less net import: import falls first, the rest becomes export.
    new_import = imported + less
    new_export = exported + np.maximum(-new_import, 0.0)
    new_import = np.maximum(new_import, 0.0)
    # More net import: export falls first, the rest is imported.
    reduced_export = new_export - more
    new_import = new_import + np.maximum(-reduced_export, 0.0)
    return new_import, np.maximum(reduced_export, 0.0)


def place_flows(window: Window, change: Efficiency | ElectrifyHeat | NewTenant) -> Floats:
    """The measured flows per step of the place a change works on."""
    if isinstance(change, NewTenant):
        return window.place(Level.BUILDING, change.like)
    if isinstance(change, Efficiency) and change.enterprise is not None:
        return window.place(Level.ENTERPRISE, change.enterprise)
    if change.building is not None:
        return window.place(Level.BUILDING, change.building)
    return window.park


def apply(scenario: Scenario, window: Window, park: Park, settings: TwinSettings) -> Applied:
    """The scenario's flows over the window (see the module's docstring for the order)."""
    base = window.park
    delta = np.zeros_like(base)  # additions to the park's flows per step
    assumptions: list[str] = []
    tariffs = park.tariffs
    for change in scenario.changes:
        if isinstance(change, Efficiency):
            flows = place_flows(window, change)
            place = change.building or change.enterprise
            for carrier in change.carriers:
                flow = CARRIER_FLOW[carrier]
                delta[:, flow] -= flows[:, flow] * change.cut_pct / 100
            assumptions.append(
                f"efficiency: {change.cut_pct:g} % less {', '.join(change.carriers)} in "
                f"{place}, every hour alike"
            )
        elif isinstance(change, NewTenant):
            flows = place_flows(window, change)
            like = park.buildings_by_id[change.like]
            scale = change.floor_area_m2 / like.floor_area_m2
            for carrier in change.carriers:
                flow = CARRIER_FLOW[carrier]
                delta[:, flow] += flows[:, flow] * scale
            assumptions.append(
                f"new tenant {change.name or ''}: {like.id}'s measured "
                f"{', '.join(change.carriers)} x {scale:.3g} ({change.floor_area_m2:g} m2 / "
                f"{like.floor_area_m2:g} m2)"
            )
        elif isinstance(change, ElectrifyHeat):
            flows = place_flows(window, change)
            gas = flows[:, Flow.GAS_M3] * change.share_pct / 100
            heat_kwh = gas * gas_kwh_per_m3(settings) * change.gas_boiler_efficiency
            efficiency = change.cop if change.to == "heat_pump" else None
            efficiency = efficiency or change.electric_boiler_efficiency
            delta[:, Flow.GAS_M3] -= gas
            delta[:, Flow.ELECTRICITY_KWH] += heat_kwh / efficiency
            assumptions.append(
                f"electrify heat of {change.building or 'the whole park'}: {change.share_pct:g} % "
                f"of its gas, heat = gas x {gas_kwh_per_m3(settings):.3f} kWh/m3 x gas boiler "
                f"efficiency {change.gas_boiler_efficiency:g}, made by "
                + (
                    f"heat pumps at COP {change.cop:g}"
                    if change.to == "heat_pump"
                    else f"electric boilers at {change.electric_boiler_efficiency:g}"
                )
            )
        elif isinstance(change, AddPv):
            measured_kwp = sum(
                d.capacity_kwp or 0.0 for d in park.devices if d.kind is DeviceKind.PV_INVERTER
            )
            generation, note = pv_generation_kwh(
                change,
                window.steps.bounds_ms,
                park.park.location,
                base[:, Flow.PV_KWH],
                measured_kwp,
            )
            # Only where the park was measured: a step without readings has no baseline either.
            delta[:, Flow.PV_KWH] += np.where(window.steps.read, generation, 0.0)
            assumptions.append(f"PV on {change.building or 'the park'}: {note}")
        elif isinstance(change, TariffChange):
            tariffs = (
                tariffs.model_copy(update={"versions": change.versions, "meters": {}})
                if tariffs is not None
                else Tariffs(versions=change.versions)
            )
            assumptions.append(f"tariff: {change.label} (every meter at these versions)")
        elif isinstance(change, GridFactor):
            emission = settings.emission.model_copy(
                update={
                    key: value
                    for key, value in (
                        ("grid_kg_per_kwh", change.grid_kg_per_kwh),
                        ("market_residual_kg_per_kwh", change.market_residual_kg_per_kwh),
                        ("fossil_kg_per_kwh", change.fossil_kg_per_kwh),
                    )
                    if value is not None
                }
                | {
                    label: change.label
                    for label, value in (
                        ("grid_label", change.grid_kg_per_kwh),
                        ("market_residual_label", change.market_residual_kg_per_kwh),
                        ("fossil_label", change.fossil_kg_per_kwh),
                    )
                    if value is not None
                }
            )
            settings = settings.model_copy(update={"emission": emission})
            assumptions.append(f"grid factors: {change.label}")
    # The net grid flow after load changes and PV, then the batteries in order.
    scenario_flows = base + delta
    net = (
        base[:, Flow.GRID_IMPORT_KWH]
        - base[:, Flow.GRID_EXPORT_KWH]
        + delta[:, Flow.ELECTRICITY_KWH]
        - delta[:, Flow.PV_KWH]
    )
    for change in scenario.changes:
        if isinstance(change, Battery):
            stored = dispatch(
                change, net, window.steps.step_h, window.local_hour, window.steps.read
            )
            scenario_flows[:, Flow.CHARGE_KWH] += stored.charge_kwh
            scenario_flows[:, Flow.DISCHARGE_KWH] += stored.discharge_kwh
            net = net + stored.charge_kwh - stored.discharge_kwh
            rule = dispatch_rule(change)
            assumptions.append(
                f"battery {change.kwh:g} kWh / {change.kw:g} kW, round trip "
                f"{change.round_trip_efficiency:g}, starts at {change.initial_soc_pct:g} %, {rule}"
            )
    moved = net - (base[:, Flow.GRID_IMPORT_KWH] - base[:, Flow.GRID_EXPORT_KWH])
    imported, exported = shift_net(
        base[:, Flow.GRID_IMPORT_KWH], base[:, Flow.GRID_EXPORT_KWH], moved
    )
    scenario_flows[:, Flow.GRID_IMPORT_KWH] = imported
    scenario_flows[:, Flow.GRID_EXPORT_KWH] = exported
    # Measured amounts never go below zero (an efficiency cut and electrified heat of one gas).
    np.maximum(scenario_flows, 0.0, out=scenario_flows)
    green = [GreenPower() for _ in window.months]
    monthly_import = window.monthly(scenario_flows)[:, Flow.GRID_IMPORT_KWH]
    for change in scenario.changes:
        if isinstance(change, GreenPowerPurchase):
            green = [
                _add(bought, _purchase(change, kwh))
                for bought, kwh in zip(green, monthly_import, strict=True)
            ]
            amount = (
                f"{change.share_pct:g} % of each month's grid import"
                if change.share_pct is not None
                else f"{change.mwh_per_month:g} MWh a month"
            )
            what = {
                "certificates": "certificates (whole ones, 1,000 kWh each, rounded up)",
                "direct": "direct green power",
            }[change.instrument]
            assumptions.append(f"green power: {amount} as {what}")
    return Applied(scenario_flows, green, settings, assumptions, tariffs)


def dispatch_rule(battery: Battery) -> str:
    """The battery's dispatch rule in words."""
    if battery.dispatch == "pv_surplus":
        return "stores PV surplus, discharges when importing"
    if battery.dispatch == "peak_shave":
        return f"keeps import under {battery.target_kw:g} kW where it can"
    return f"charges at hours {battery.charge_hours}, discharges at hours {battery.discharge_hours}"


def _purchase(change: GreenPowerPurchase, import_kwh: float) -> GreenPower:
    """What one month's purchase is: whole certificates, rounded up, or direct kWh."""
    if change.share_pct is not None:
        kwh = import_kwh * change.share_pct / 100
    else:
        assert change.mwh_per_month is not None  # one of the two, checked by the schema
        kwh = change.mwh_per_month * 1000
    if change.instrument == "certificates":
        return GreenPower(certificates=int(np.ceil(kwh / 1000 - 1e-9)))
    return GreenPower(direct_kwh=kwh)


def _add(a: GreenPower, b: GreenPower) -> GreenPower:
    return GreenPower(
        certificates=a.certificates + b.certificates, direct_kwh=a.direct_kwh + b.direct_kwh
    )
