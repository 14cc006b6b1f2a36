"""A compact view of the twin's state: the figures an operator looks at first.

It is what the retained MQTT state topic carries and what ``/api/kpis`` answers; the full state
(every device, place and period) is at ``/api/state``. It picks figures from the snapshot (and
adds up the latest power of the park's meters), so the two views never disagree.

``kpi_summary`` reads a snapshot's ``to_dict()``; ``SummaryOfSnapshots``, which the twin service
keeps from tick to tick, reads the snapshot itself (its ``outputs_dict`` and its columns as
arrays) and gives the same summary without making the JSON form of every device and channel.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import numpy.typing as npt

from parktwin.contract.quantities import DeviceKind
from parktwin.park.model import Park
from twin.model.columns import STATUS_NAMES, ChannelTable, DeviceTable
from twin.state.snapshot import TwinSnapshot

POWER_KINDS = (DeviceKind.GRID_MAIN_METER, DeviceKind.PV_INVERTER)


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
    channels = state["channels"]
    latest = dict(zip(channels["keys"], channels["value"], strict=True))
    power = {kind: _latest_power_kw(park, latest, kind) for kind in POWER_KINDS}
    return _summary(park, state, power, dict(Counter(state["devices"]["status"])))


def _summary(
    park: Park,
    state: dict[str, Any],
    power_kw: dict[DeviceKind, float | None],
    statuses: dict[str, int],
) -> dict[str, Any]:
    """The summary of a JSON form (the columns' figures given apart)."""
    periods = state.get("periods") or {}
    day = periods.get("day")
    zero = state.get("zero_carbon")
    progress = state.get("progress") or {}
    occupancy = state.get("occupancy") or {}
    evaluation = state.get("enterprises") or {}
    carbon_year = state.get("carbon_year") or {}
    return {
        "park": park.park.id,
        "watermark_ms": state.get("watermark_ms"),
        "local_time": state.get("local_time"),
        "grid_power_kw": power_kw[DeviceKind.GRID_MAIN_METER],
        "pv_power_kw": power_kw[DeviceKind.PV_INVERTER],
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
        "devices": statuses,
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


def status_counts(devices: DeviceTable) -> dict[str, int]:
    """How many devices have each status, in the order the statuses first appear in the table
    (as ``Counter`` of the status column counts them)."""
    codes = devices.status_codes
    if not len(codes):
        return {}
    found, first = np.unique(codes, return_index=True)
    counts = np.bincount(codes, minlength=len(STATUS_NAMES))
    order = found[np.argsort(first)].tolist()
    return {STATUS_NAMES[c]: int(counts[c]) for c in order}


class SummaryOfSnapshots:
    """``kpi_summary`` of successive snapshots of one park, read from the snapshots' arrays.

    Where each power meter's ``power_kw`` channel sits among the channels is found once.
    """

    def __init__(self, park: Park) -> None:
        self.park = park
        self._channel_keys: list[str] | None = None
        self._power_index: dict[DeviceKind, npt.NDArray[np.int64]] = {}

    def __call__(self, snapshot: TwinSnapshot, outputs: dict[str, Any]) -> dict[str, Any]:
        """The summary of ``snapshot``; ``outputs`` is its ``outputs_dict()``."""
        power = {kind: self._latest_power_kw(snapshot.channels, kind) for kind in POWER_KINDS}
        return _summary(self.park, outputs, power, status_counts(snapshot.devices))

    def _latest_power_kw(self, channels: ChannelTable, kind: DeviceKind) -> float | None:
        """The sum of the kind's meters' latest power, in the park's device order (as
        ``_latest_power_kw`` adds up the JSON form's values); None when none is known."""
        keys, values, seen = channels.all_keys, channels.all_values, channels.seen
        if keys is not self._channel_keys:
            at = {key: i for i, key in enumerate(keys)}
            self._power_index = {
                k: np.array(
                    [
                        at[key]
                        for device in self.park.devices
                        if device.kind is k and (key := f"{device.id}|power_kw") in at
                    ],
                    dtype=np.int64,
                )
                for k in POWER_KINDS
            }
            self._channel_keys = keys
        index = self._power_index[kind]
        found = values[index]
        numbers: list[float] = found[seen[index] & np.isfinite(found)].tolist()
        return sum(numbers) if numbers else None
