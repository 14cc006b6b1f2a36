"""The twin's KPIs as InfluxDB points, one measurement per kind of figure, with topology tags.

Every point is stamped with the twin's event-time watermark, so a replay writes the same points
at the same times, and a tick without new readings overwrites the same points. Numbers become
float fields and pass/fail flags boolean fields; a missing figure is left out, never written
as zero. Field names are the snapshot's, joined with ``_`` (``carbon_per_energy_value``).

| measurement | tags | one point per |
|---|---|---|
| twin_balance | park, period; hour_of_day (local) on hour points | each period (running totals) |
| twin_place | park, period, level, zone, building, enterprise | place and period |
| twin_carbon | park, period | month, year |
| twin_zero_carbon, twin_progress, twin_green_park, twin_jobs_housing, twin_devices | park | tick |
| twin_occupancy | park, zone, building, use | building |
| twin_enterprise | park, enterprise | enterprise (with ``grade`` as a string field) |
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from collectors.lineprotocol import format_fields, line, series_key
from parktwin.park.model import Park
from twin.snapshot import TwinSnapshot

Fields = dict[str, float | bool | str]
SKIPPED = frozenset({str, list, type(None)})


def numeric_fields(data: Mapping[str, Any], prefix: str = "") -> Fields:
    """Numbers and flags of a nested mapping, flattened; lists, text and None are left out."""
    out: Fields = {}
    for key, value in data.items():
        kind = type(value)
        if kind in SKIPPED:  # the usual non-numbers, passed over without the checks below
            continue
        name = f"{prefix}{key}"
        # A float as it is (float() would give the same object back), a flag as it is.
        if kind is float or isinstance(value, bool):
            out[name] = value
        elif isinstance(value, int | float):
            out[name] = float(value)
        elif isinstance(value, Mapping):
            out.update(numeric_fields(value, f"{name}_"))
    return out


def _point(measurement: str, tags: dict[str, str], fields: Fields, ts_ms: int) -> str | None:
    return line(series_key(measurement, tags), format_fields(fields), ts_ms) if fields else None


def _place_tags(park: Park, level: str, place_id: str) -> dict[str, str]:
    if level == "buildings":
        building = park.buildings_by_id.get(place_id)
        zone = building.zone if building else ""
        return {"level": "building", "building": place_id, "zone": zone}
    if level == "zones":
        return {"level": "zone", "zone": place_id}
    return {"level": "enterprise", "enterprise": place_id}


def _lines(park: Park, state: dict[str, Any], ts: int) -> Iterator[str | None]:
    base = {"park": park.park.id}
    for period, report in (state.get("periods") or {}).items():
        tags = base | {"period": period}
        balance_tags = tags
        if period == "hour":
            # The local hour ("2026-03-02T14" -> "14"): a heatmap of hour by day groups on it.
            balance_tags = tags | {"hour_of_day": report["label"][-2:]}
        yield _point("twin_balance", balance_tags, numeric_fields(report["balance"]), ts)
        for level in ("buildings", "zones", "enterprises"):
            for place in report[level]:
                place_tags = tags | _place_tags(park, level, place["id"])
                yield _point("twin_place", place_tags, numeric_fields(place), ts)
    for period in ("month", "year"):
        account = state.get(f"carbon_{period}")
        if account:
            yield _point("twin_carbon", base | {"period": period}, numeric_fields(account), ts)
    for name in ("zero_carbon", "progress"):
        if state.get(name):
            yield _point(f"twin_{name}", base, numeric_fields(state[name]), ts)
    green = state.get("green_park")
    if green:
        fields = numeric_fields({k: v for k, v in green.items() if k != "categories"})
        for category in green["categories"]:
            if category["score_pct"] is not None:
                key = category["name"].replace(" ", "_")
                fields[f"{key}_score_pct"] = float(category["score_pct"])
        yield _point("twin_green_park", base, fields, ts)
    occupancy = state.get("occupancy")
    if occupancy:
        for row in occupancy["buildings"]:
            building = park.buildings_by_id.get(row["building"])
            tags = base | {
                "building": row["building"],
                "zone": building.zone if building else "",
                "use": row["use"],
            }
            yield _point("twin_occupancy", tags, numeric_fields(row), ts)
        fields = numeric_fields(occupancy["jobs_housing"])
        if occupancy.get("persons_present") is not None:
            fields["persons_present"] = float(occupancy["persons_present"])
        yield _point("twin_jobs_housing", base, fields, ts)
    evaluation = state.get("enterprises")
    if evaluation:
        for row in evaluation["enterprises"]:
            fields = numeric_fields(row)
            if row.get("grade"):
                fields["grade"] = row["grade"]
            yield _point("twin_enterprise", base | {"enterprise": row["enterprise"]}, fields, ts)
    statuses = Counter(state["devices"]["status"])
    yield _point("twin_devices", base, {s: float(n) for s, n in statuses.items()}, ts)


def kpi_lines(park: Park, snapshot: TwinSnapshot, state: dict[str, Any] | None = None) -> list[str]:
    """Line-protocol points of a snapshot (``state`` is its ``to_dict()``, when already made)."""
    if snapshot.watermark_ms is None:
        return []
    data = state if state is not None else snapshot.to_dict()
    return [p for p in _lines(park, data, snapshot.watermark_ms) if p is not None]
