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


def series_keys(park: Park, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Series key (measurement and tags, escaped) of every device of the park.

    ``extra`` tags are added to every key: ``{"ts_source": "arrival"}`` marks the points of
    devices that send no time, whose time is the message's arrival (docs/devices.md).
    """
    return {
        device.id: series_key(
            device.medium.value, {**device_tags(park, device.id), **(extra or {})}
        )
        for device in park.devices
    }


def render(
    keys: dict[str, str], readings: Iterable[Reading], arrival_keys: dict[str, str] | None = None
) -> list[str]:
    """Line-protocol lines for readings of known devices.

    Readings timed on arrival take their key from ``arrival_keys`` (required if there are any).
    """
    return [
        line(
            (arrival_keys if r.ts_from_arrival else keys)[r.device_id],  # type: ignore[index]
            format_fields(r.values),
            r.ts_ms,
        )
        for r in readings
    ]
