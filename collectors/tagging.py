"""Tag readings with the park's topology and render them as InfluxDB line protocol.

Every reading becomes one point: measurement = the device's medium (electricity, gas, ...),
tags = park, zone, building, enterprise, device, kind; fields = its quantities. The series key of
each device is computed once, so the per-reading cost is formatting its fields.
"""

from __future__ import annotations

from collections.abc import Iterable

from parktwin.contract.reading import Reading
from parktwin.influx.lineprotocol import format_fields, line, series_key
from parktwin.park.model import Park


def device_tags(park: Park, device_id: str) -> dict[str, str]:
    """The topology tags of one device; absent places are left out."""
    device = park.devices_by_id[device_id]
    tags = {
        "park": park.park.id,
        "zone": park.device_zone(device),
        "device": device.id,
        "kind": device.kind.value,
    }
    if device.building is not None:
        tags["building"] = device.building
    if device.enterprise is not None:
        tags["enterprise"] = device.enterprise
    return tags


def series_keys(park: Park) -> dict[str, str]:
    """Series key (measurement and tags, escaped) of every device of the park."""
    return {
        device.id: series_key(device.medium.value, device_tags(park, device.id))
        for device in park.devices
    }


def render(keys: dict[str, str], readings: Iterable[Reading]) -> list[str]:
    """Line-protocol lines for readings of known devices."""
    return [line(keys[r.device_id], format_fields(r.values), r.ts_ms) for r in readings]
