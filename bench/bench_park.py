"""Synthetic parks for the benchmarks, built as data (no YAML) so that large sizes load fast.

20 devices a building, 5 buildings an enterprise, 10 zones. ``kinds`` repeats over the devices;
the twin benchmark uses a mix, the ingest benchmarks electricity sub-meters only, so that every
message is one point of one measurement and a single InfluxQL count checks the whole run.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from parktwin.park.model import Park
from parktwin.park.tariffs import Tariffs

MIXED_KINDS = (
    ["sub_meter"] * 14 + ["occupancy_counter"] * 2 + ["gas_meter"] * 2 + ["pv_inverter"] * 2
)
SUB_METERS = ["sub_meter"]
SPARKPLUG_GROUP = "bench"
SPARKPLUG_DEVICES_PER_NODE = 100  # assumed: a gateway with a hundred meters behind it


def park_document(devices: int, kinds: list[str], park_id: str = "bench") -> dict[str, Any]:
    """A park file's content: one grid meter and ``devices - 1`` devices of ``kinds``."""
    buildings = max(1, devices // 20)
    enterprises = max(1, buildings // 5)
    zones = 10
    device_rows: list[dict[str, Any]] = [
        {"id": "grid", "kind": "grid_main_meter", "zone": "z0", "interval_s": 60}
    ]
    for i in range(devices - 1):
        kind = kinds[i % len(kinds)]
        row: dict[str, Any] = {"id": f"d{i}", "kind": kind, "building": f"b{i % buildings}"}
        if kind == "pv_inverter":
            row["capacity_kwp"] = 100
        if kind == "sub_meter" and i % 7 == 0 and i > 0:
            row["parent"] = f"d{i - 1}" if kinds[(i - 1) % len(kinds)] == "sub_meter" else "grid"
        device_rows.append(row)
    return {
        "park": {
            "id": park_id,
            "name": "Bench",
            "timezone": "Asia/Shanghai",
            "location": {"latitude": 31, "longitude": 121},
        },
        "zones": [{"id": f"z{z}", "name": f"Z{z}", "type": "production"} for z in range(zones)],
        "buildings": [
            {
                "id": f"b{b}",
                "name": f"B{b}",
                "zone": f"z{b % zones}",
                "use": "factory",
                "floor_area_m2": 1000,
                "occupant_capacity": 100,
            }
            for b in range(buildings)
        ],
        "enterprises": [
            {
                "id": f"e{e}",
                "name": f"E{e}",
                "industry": "x",
                "land_area_mu": 10,
                "buildings": [f"b{b}" for b in range(e, buildings, enterprises)],
            }
            for e in range(enterprises)
        ],
        "devices": device_rows,
    }


def synthetic_park(devices: int, kinds: list[str] = MIXED_KINDS) -> Park:
    """The park of ``park_document``, validated."""
    return Park.model_validate(park_document(devices, kinds))


def priced_from_2024(tariffs: Tariffs) -> Tariffs:
    """The tariffs with their first version valid from 2024-01-01. The benchmarks' readings
    fall in 2024 (``twin_tick.T0_MS``), before the demo park's example tariff (2026): without
    this every reading would be counted as unpriced, which is cheaper than pricing it (bands,
    prices, the quarter-hour demand windows) and not what a real park runs."""
    first = tariffs.versions[0].model_copy(update={"valid_from": date(2024, 1, 1)})
    return tariffs.model_copy(update={"versions": [first, *tariffs.versions[1:]]})


def write_park_file(
    path: Path,
    devices: int,
    kinds: list[str] = SUB_METERS,
    mapped: bool = False,
    sparkplug: bool = False,
) -> Park:
    """Write a park file for the services under test; returns the same park, validated.

    ``mapped``: every sub-meter is also a Tasmota plug (tele/tas-<id>/SENSOR, preset tasmota).
    ``sparkplug``: every sub-meter is also a Sparkplug B device, SPARKPLUG_DEVICES_PER_NODE
    behind each edge node of group SPARKPLUG_GROUP (energy in kWh, power in W).
    """
    document = park_document(devices, kinds)
    meters = [d["id"] for d in document["devices"] if d["kind"] == "sub_meter"]
    if mapped:
        document["mappings"] = [
            {"name": "plugs", "preset": "tasmota", "devices": {f"tas-{d}": d for d in meters}}
        ]
    if sparkplug:
        per_node = SPARKPLUG_DEVICES_PER_NODE
        document["sparkplug"] = [
            {
                "group": SPARKPLUG_GROUP,
                "devices": {f"edge-{i // per_node}/{d}": d for i, d in enumerate(meters)},
                "values": {
                    "energy_kwh": {"metric": "Energy/Total"},
                    "power_kw": {"metric": "Power/Active", "scale": 0.001},
                },
            }
        ]
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return Park.model_validate(document)
