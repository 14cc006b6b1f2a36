"""The twin service's shortcut for the usual message: a ``parktwin/1`` JSON object from a known
device's telemetry topic, with epoch-millisecond time, turned straight into its reading.

Every decoder the service is given (the contract's ``NativeDecoder``, the collectors'
``MessageRouter``) takes a park device's telemetry topic through ``validate_message``: decode,
then ``check_reading``. That path builds a topic record and a checked dict of values for every
message and looks the device and each quantity up again. Here the checks that need the topic,
the device and the set of quantity names are made once and kept: each known device's topic
maps to its id and kind, and each (kind, quantity names in order) to the values' ranges; what
is left per message is orjson, a few type and range tests and the reading.

It takes a message only when every check of the general path passes, and then makes the
reading that path makes; anything else, good or bad (SenML, RFC 3339 time, a colon inside a
string, a value out of range, a name the kind does not report...), gives ``None`` and goes the
general way, which accepts it or refuses it with its reason. ``tests/test_twin_native_readings.py``
feeds both the same messages and asks for the same readings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from operator import le

import orjson

from parktwin.contract import topics
from parktwin.contract.quantities import KINDS, QUANTITIES
from parktwin.contract.reading import Reading
from parktwin.park.model import DeviceKind, Park
from parktwin.validation import Limits

# Range sets kept, at most: (kind, names in order) pairs a park's devices really send are few,
# but a device may send its quantities in any order; beyond this the cache starts over.
MAX_RANGE_SETS = 4096


@dataclass(frozen=True, slots=True)
class Ranges:
    """One (kind, quantity names in order): each value's lowest and highest allowed value,
    and the types of values that need no conversion (all floats)."""

    low: tuple[float, ...]
    high: tuple[float, ...]
    floats: tuple[type, ...]


@dataclass(frozen=True, slots=True)
class KnownDevice:
    """What the shortcut needs of a device whose telemetry topic it knows."""

    device_id: str
    kind: DeviceKind


class NativeReadings:
    """Readings of the usual native messages of one park; ``None`` for any other message."""

    def __init__(self, park: Park, limits: Limits) -> None:
        self._limits = limits
        self._devices = {
            topics.telemetry(park.park.id, device.id): KnownDevice(device.id, device.kind)
            for device in park.devices
        }
        self._ranges: dict[tuple[DeviceKind, tuple[str, ...]], Ranges | None] = {}

    def reading(self, topic: str, payload: bytes, arrival_ms: int) -> Reading | None:
        """The reading of a usual message, as ``validate_message`` makes it, or None when the
        message needs the general path (which then accepts or refuses it)."""
        device = self._devices.get(topic)
        limits = self._limits
        if device is None or len(payload) > limits.max_payload_bytes:
            return None
        try:
            body = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return None
        if type(body) is not dict:
            return None
        values = body.get("values")
        ts_ms = body.get("ts")
        # Every key is followed by one colon outside a string: as many colons as keys means
        # no key repeats (payload.refuse_duplicate_keys) and no colon hides in a string.
        if (
            type(values) is not dict
            or not values
            or type(ts_ms) is not int
            or payload.count(b":") != len(body) + len(values)
            or not limits.earliest_ts_ms <= ts_ms <= arrival_ms + limits.max_future_ms
        ):
            return None
        version = body.get("v", 1)
        seq = body.get("seq")
        if (type(version) is not int or version != 1) or (seq is not None and type(seq) is not int):
            return None
        names = tuple(values)
        ranges = self._ranges.get((device.kind, names), _UNSEEN)
        if ranges is _UNSEEN:
            ranges = self._range_set(device.kind, names)
        if ranges is None:
            return None
        numbers = tuple(values.values())
        if tuple(map(type, numbers)) != ranges.floats:
            # Not all floats: integers are stored as floats, anything else is refused there.
            if not all(type(n) is int or type(n) is float for n in numbers):
                return None
            numbers = tuple(map(float, numbers))
            values = dict(zip(names, numbers, strict=True))
        # Each value inside its quantity's range (NaN fails too; JSON has none).
        if not (all(map(le, ranges.low, numbers)) and all(map(le, numbers, ranges.high))):
            return None
        return Reading(device.device_id, ts_ms, values, seq)

    def _range_set(self, kind: DeviceKind, names: tuple[str, ...]) -> Ranges | None:
        """The ranges of these names for this kind, or None if a name is unknown, not reported
        by the kind, or has an open range (the general path checks those)."""
        if len(self._ranges) >= MAX_RANGE_SETS:
            self._ranges.clear()
        allowed = KINDS[kind].quantities
        quantities = [QUANTITIES.get(name) for name in names]
        ranges: Ranges | None = None
        if all(
            q is not None
            and name in allowed
            and math.isfinite(q.min_value)
            and math.isfinite(q.max_value)
            for name, q in zip(names, quantities, strict=True)
        ):
            known = [q for q in quantities if q is not None]
            ranges = Ranges(
                tuple(q.min_value for q in known),
                tuple(q.max_value for q in known),
                (float,) * len(known),
            )
        self._ranges[(kind, names)] = ranges
        return ranges


_UNSEEN = Ranges((), (), ())  # the cache's "not looked at yet", apart from None ("no")
