"""Battery dispatch: store PV at midday, give it back at the evening peak."""

from __future__ import annotations

from dataclasses import dataclass

CHARGE_EFFICIENCY = 0.95
DISCHARGE_EFFICIENCY = 0.95
SOC_MIN_PCT = 10.0
SOC_MAX_PCT = 95.0
EVENING_PEAK_HOURS = (17.0, 22.0)
MIDDAY_HOURS = (10.0, 15.0)


@dataclass(frozen=True, slots=True)
class Dispatch:
    """Power flows of one battery during a step (both >= 0, at most one non-zero)."""

    charge_kw: float
    discharge_kw: float


def dispatch(
    soc_pct: float,
    capacity_kwh: float,
    rated_kw: float,
    pv_surplus_kw: float,
    load_kw: float,
    hour: float,
    step_s: float,
) -> Dispatch:
    """Charge from PV surplus (and at midday anyway), discharge into the evening peak."""
    step_h = step_s / 3600.0
    room_kw = max(0.0, (SOC_MAX_PCT - soc_pct) / 100.0 * capacity_kwh / CHARGE_EFFICIENCY / step_h)
    stored_kw = max(0.0, (soc_pct - SOC_MIN_PCT) / 100.0 * capacity_kwh * DISCHARGE_EFFICIENCY)
    stored_kw /= step_h
    if pv_surplus_kw > 0.0:
        return Dispatch(min(rated_kw, pv_surplus_kw, room_kw), 0.0)
    if MIDDAY_HOURS[0] <= hour < MIDDAY_HOURS[1]:
        return Dispatch(min(0.3 * rated_kw, room_kw), 0.0)
    if EVENING_PEAK_HOURS[0] <= hour < EVENING_PEAK_HOURS[1]:
        return Dispatch(0.0, min(rated_kw, max(0.0, load_kw), stored_kw))
    return Dispatch(0.0, 0.0)


def next_soc_pct(soc_pct: float, capacity_kwh: float, flows: Dispatch, step_s: float) -> float:
    """State of charge after a step of ``flows``."""
    step_h = step_s / 3600.0
    stored_kwh = (
        flows.charge_kw * CHARGE_EFFICIENCY - flows.discharge_kw / DISCHARGE_EFFICIENCY
    ) * step_h
    return max(0.0, min(100.0, soc_pct + 100.0 * stored_kwh / capacity_kwh))
