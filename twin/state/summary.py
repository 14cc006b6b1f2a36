"""A compact view of the twin's state: the figures an operator looks at first.

It is what the retained MQTT state topic carries and what ``/api/kpis`` answers; the full state
(every device, place and period) is at ``/api/state``. It picks figures from the snapshot (and
adds up the latest power of the park's meters), so the two views never disagree.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from parktwin.contract.quantities import DeviceKind
from parktwin.park.model import Park


def _indicator(data: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
    if not data or key not in data:
        return None
    item = data[key]
    return {k: item.get(k) for k in ("value", "unit", "threshold", "passes", "missing", "basis")}


def _latest_power_kw(park: Park, values: dict[str, Any], kind: DeviceKind) -> float | None:
    found = [values.get(f"{device.id}|power_kw") for device in park.devices if device.kind is kind]
    numbers = [v for v in found if v is not None]
    return sum(numbers) if numbers else None


def _green_indicator(green: dict[str, Any] | None, name: str) -> float | None:
    for category in (green or {}).get("categories", []):
        for item in category["indicators"]:
            if item["name"] == name:
                return item.get("value")
    return None


def kpi_summary(park: Park, state: dict[str, Any]) -> dict[str, Any]:
    """The operator's first look, from a snapshot's ``to_dict()``."""
    periods = state.get("periods") or {}
    day = periods.get("day")
    zero = state.get("zero_carbon")
    progress = state.get("progress") or {}
    occupancy = state.get("occupancy") or {}
    evaluation = state.get("enterprises") or {}
    carbon_year = state.get("carbon_year") or {}
    channels = state["channels"]
    latest = dict(zip(channels["keys"], channels["value"], strict=True))
    return {
        "park": park.park.id,
        "watermark_ms": state.get("watermark_ms"),
        "local_time": state.get("local_time"),
        "grid_power_kw": _latest_power_kw(park, latest, DeviceKind.GRID_MAIN_METER),
        "pv_power_kw": _latest_power_kw(park, latest, DeviceKind.PV_INVERTER),
        "today": None if day is None else {"label": day["label"], **day["balance"]},
        "renewable_electricity_share_pct": _green_indicator(
            state.get("green_park"), "renewable electricity share"
        ),
        "clean_energy_share": _indicator(zero, "clean_energy_share"),
        "carbon_per_energy": _indicator(zero, "carbon_per_energy"),
        "net_co2_t_year": carbon_year.get("net_co2_t"),
        "carbon_neutral_progress_pct": progress.get("progress_pct"),
        "projected_neutral_year": progress.get("projected_neutral_year"),
        "green_park_score_pct": (state.get("green_park") or {}).get("score_pct"),
        "persons_present": occupancy.get("persons_present"),
        "jobs_housing": occupancy.get("jobs_housing"),
        "enterprise_grades": evaluation.get("grade_counts"),
        "devices": dict(Counter(state["devices"]["status"])),
        "costs": cost_summary(state.get("costs")),
    }


def cost_summary(costs: dict[str, Any] | None) -> dict[str, Any] | None:
    """Today's and this month's cost, the band and price now, the month's demand so far."""
    if not costs:
        return None
    periods = costs["periods"]
    demand = costs["demand"]

    def period(name: str) -> dict[str, Any]:
        park = periods[name]["park"]
        keys = ("total_yuan", "energy_yuan", "basic_yuan", "gas_yuan", "heat_yuan",
                "feed_in_revenue_yuan", "pv_savings_yuan", "carbon_yuan")  # fmt: skip
        return {"label": periods[name]["label"], **{k: park[k] for k in keys}}

    return {
        "currency": costs["currency"],
        "band_now": costs["band_now"],
        "price_now_yuan_per_kwh": costs["price_now_yuan_per_kwh"],
        "today": period("day"),
        "month": period("month"),
        "demand_max_kw": demand["max_kw"],
        "demand_at_local": demand["at_local"],
        "contracted_kw": demand["contracted_kw"],
        "window_projected_kw": demand["window_projected_kw"],
        "tariff_example": costs["tariff_example"],
    }
