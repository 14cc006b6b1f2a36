"""The other way round: how a device of a mapping would have sent a reading.

Used by the simulator, so that the demo park's mapped devices publish the very messages the
collector then maps back (a Tasmota plug's tele/<topic>/SENSOR, a Shelly's NotifyStatus...),
and by tests. Only mappings whose paths are plain chains of names can be inverted; a device
keyed by its identity, or "identity/channel" when the mapping has channels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from collectors.mapping.compiled import CompiledMapping, compile_mappings
from collectors.mapping.paths import Path
from parktwin.contract.reading import Reading
from parktwin.park.mappings import TimeFormat
from parktwin.park.model import Park


@dataclass(frozen=True)
class DeviceFormat:
    """The topic a mapped device publishes on and how it writes a reading."""

    mapping: str
    topic: str
    encode: Callable[[Reading], bytes]


def device_formats(park: Park) -> dict[str, DeviceFormat]:
    """The wire format of every park device a mapping names and can be inverted (first wins)."""
    formats: dict[str, DeviceFormat] = {}
    for mapping in compile_mappings(park):
        for key, device_id in (mapping.devices or {}).items():
            if device_id not in formats:
                found = _format(mapping, key)
                if found is not None:
                    formats[device_id] = found
    return formats


def wire_formats(park: Park) -> dict[str, tuple[str, Callable[[Reading], bytes]]]:
    """``device_formats`` as the simulator takes them: device id -> (topic, encoder)."""
    return {device: (f.topic, f.encode) for device, f in device_formats(park).items()}


def _format(mapping: CompiledMapping, key: str) -> DeviceFormat | None:
    identity, channel = key, None
    if mapping.channels_path is not None:
        identity, _, channel = key.rpartition("/")
        if not identity or mapping.channels_path.keys is None:
            return None
        if mapping.channel_keys is not None and not mapping.channel_keys.match(channel):
            return None
    paths = [v.paths[0] for v in mapping.values]
    if any(p.keys is None for p in paths) or any(v.conversion is None for v in mapping.values):
        return None
    for path in (mapping.time_path, mapping.identity_path, mapping.match_path):
        if path is not None and path.keys is None:
            return None
    if mapping.quality_path is not None and mapping.quality_path.keys is None:
        return None
    topic = _topic(mapping, identity)
    if topic is None or not mapping.matches_topic(topic.split("/")):
        return None

    def encode(reading: Reading) -> bytes:
        body: dict[str, Any] = {}
        if mapping.match_path is not None:
            _put(body, mapping.match_path, mapping.match_values[0])
        if mapping.identity_path is not None:
            _put(body, mapping.identity_path, identity)
        if mapping.time_path is not None:
            _put(body, mapping.time_path, _time(mapping, reading.ts_ms))
        node = body
        if mapping.channels_path is not None and channel is not None:
            node = _node(_node(body, mapping.channels_path.keys or ()), (channel,))
        if mapping.quality_path is not None:
            _put(node, mapping.quality_path, min(mapping.quality_good))
        for value in mapping.values:
            if value.quantity in reading.values:
                assert value.conversion is not None
                number = reading.values[value.quantity]
                raw = (number - value.conversion.offset) / value.conversion.factor / value.scale
                _put(node, value.paths[0], float(f"{raw:.12g}"))
        return orjson.dumps(body)

    return DeviceFormat(mapping.name, topic, encode)


def _topic(mapping: CompiledMapping, identity: str) -> str | None:
    """The mapping's filter with its wildcards filled: the identity where it is read."""
    levels = []
    for i, level in enumerate(mapping.levels):
        if level == "+":
            own = mapping.identity_level in (None, i)
            levels.append(identity if own else "sim")
        elif level == "#":
            levels.append(identity)
        else:
            levels.append(level)
    if mapping.identity_level is not None and levels[mapping.identity_level] != identity:
        return None
    return "/".join(levels)


def _time(mapping: CompiledMapping, ts_ms: int) -> object:
    form = mapping.time_format
    if form is TimeFormat.EPOCH_S:
        return ts_ms / 1000
    if form is TimeFormat.EPOCH_US:
        return ts_ms * 1000
    if form is TimeFormat.EPOCH_MS:
        return ts_ms
    utc = datetime.fromtimestamp(ts_ms / 1000, UTC)
    if form is TimeFormat.ISO:
        return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    local = utc.astimezone(mapping.zone).replace(tzinfo=None)
    # Devices such as Tasmota write whole seconds; milliseconds only when there are some.
    return local.isoformat(timespec="milliseconds" if ts_ms % 1000 else "seconds")


def _node(body: dict[str, Any], keys: tuple[str | int, ...]) -> Any:
    """The object at ``keys``, made on the way where missing."""
    node: Any = body
    for key in keys:
        node = node.setdefault(key, {})
    return node


def _put(body: dict[str, Any], path: Path, value: object) -> None:
    assert path.keys is not None
    *parents, last = path.keys
    _node(body, tuple(parents))[str(last)] = value
