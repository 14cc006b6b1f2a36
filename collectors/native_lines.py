"""The collector's shortcut for the usual message: a ``parktwin/1`` JSON object from a known
device, with epoch-millisecond time, turned straight into its line of line protocol.

The general path (``MessageRouter.readings``, then ``tagging.render``) builds a topic record, a
reading, a checked dict of values and a field set for every message. Here the checks that need
the topic, the device and the set of quantity names are made once and kept: each known device's
topic maps to its series key and kind, and each (kind, quantity names in order) to the value
ranges and a field-set template; what is left per message is orjson, a few type and range
tests and one formatted string.

It accepts a message only when every check of the general path passes, and then writes the
line that path writes; anything else, good or bad (SenML, RFC 3339 time, a colon inside a
string, a value out of range, an unknown topic...), returns ``None`` and goes the general way,
which accepts it or refuses it with its reason. ``tests/test_collector_native_lines.py`` feeds
both the same messages and asks for the same lines, sequence numbers and refusals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import orjson

from parktwin.contract import topics
from parktwin.contract.quantities import KINDS, QUANTITIES
from parktwin.influx.lineprotocol import escape_field_key
from parktwin.park.model import DeviceKind, Park
from parktwin.sequence import SequenceGaps
from parktwin.validation import Limits
from parktwin.wire.inbound import Message

# Field-set templates kept, at most: (kind, names in order) pairs a park's devices really send
# are few, but a device may send any order of its quantities; beyond this the cache starts over.
MAX_TEMPLATES = 4096


@dataclass(frozen=True, slots=True)
class KnownDevice:
    """What the shortcut needs of a device whose telemetry topic it knows."""

    device_id: str
    kind: DeviceKind
    series_key: str  # measurement and tags, escaped: the start of every line of the device


@dataclass(frozen=True, slots=True)
class FieldTemplate:
    """One (kind, quantity names in order): each value's range, and the field set with a
    ``%r`` where each value goes (``%r`` of a float is its ``repr``, as line protocol has it)."""

    ranges: tuple[tuple[float, float], ...]
    fields: str


class NativeLines:
    """Lines of the usual native messages of one park; ``None`` for any other message."""

    def __init__(self, park: Park, limits: Limits, keys: dict[str, str]) -> None:
        self._limits = limits
        self._devices = {
            topics.telemetry(park.park.id, device.id): KnownDevice(
                device.id, device.kind, keys[device.id]
            )
            for device in park.devices
        }
        self._templates: dict[tuple[DeviceKind, tuple[str, ...]], FieldTemplate | None] = {}

    def knows(self, topic: str) -> bool:
        """Whether ``topic`` is a known device's telemetry topic: only then may ``take_run``
        take a message (the collector asks before calling it for a message of another kind)."""
        return topic in self._devices

    def take_run(
        self,
        messages: list[Message],
        start: int,
        most: int,
        arrival_ms: int,
        lines: list[str],
        acks: list[int],
        sequences: SequenceGaps | None,
    ) -> tuple[int, int]:
        """Take ``messages[start:]`` while each is a usual one, at most ``most`` of them: each
        one's line into ``lines``, its id into ``acks`` (QoS 1 and 2), its ``seq`` observed.

        Returns the index of the first message not taken (``start`` if none was: it needs the
        general path, or ``most`` was 0) and the event time of the last one taken (-1 if none).
        The loop is written out: it runs for every message of a drain.
        """
        devices, templates = self._devices, self._templates
        limits = self._limits
        max_bytes, earliest_ms = limits.max_payload_bytes, limits.earliest_ts_ms
        latest_ms = arrival_ms + limits.max_future_ms
        loads, append = orjson.loads, lines.append
        end = min(len(messages), start + most)
        last_ms = -1
        index = start
        while index < end:
            message = messages[index]
            payload = message.payload
            device = devices.get(message.topic)
            if device is None or len(payload) > max_bytes:
                break
            try:
                body = loads(payload)
            except orjson.JSONDecodeError:
                break
            if type(body) is not dict:
                break
            values = body.get("values")
            ts_ms = body.get("ts")
            # Every key is followed by one colon outside a string: as many colons as keys means
            # no key repeats (payload.refuse_duplicate_keys) and no colon hides in a string.
            if (
                type(values) is not dict
                or not values
                or type(ts_ms) is not int
                or payload.count(b":") != len(body) + len(values)
                or not earliest_ms <= ts_ms <= latest_ms
            ):
                break
            version = body.get("v", 1)
            seq = body.get("seq")
            if (type(version) is not int or version != 1) or (
                seq is not None and type(seq) is not int
            ):
                break
            names = tuple(values)
            template = templates.get((device.kind, names), _UNSEEN)
            if template is _UNSEEN:
                template = self._template(device.kind, names)
            if template is None:
                break
            numbers = []
            for value, (low, high) in zip(values.values(), template.ranges, strict=True):
                kind = type(value)
                if kind is int:
                    value = float(value)  # orjson gives a float for integers beyond int64
                elif kind is not float:
                    break
                if not low <= value <= high:  # NaN fails too; JSON has none
                    break
                numbers.append(value)
            else:
                append(f"{device.series_key} {template.fields % tuple(numbers)} {ts_ms}")
                if message.qos:
                    acks.append(message.mid)
                if seq is not None and sequences is not None:
                    sequences.observe_seq(device.device_id, seq)
                last_ms = ts_ms
                index += 1
                continue
            break
        return index, last_ms

    def _template(self, kind: DeviceKind, names: tuple[str, ...]) -> FieldTemplate | None:
        """The template of these names for this kind, or None if a name is unknown, not
        reported by the kind, or has an open range (the general path checks those)."""
        if len(self._templates) >= MAX_TEMPLATES:
            self._templates.clear()
        allowed = KINDS[kind].quantities
        quantities = [QUANTITIES.get(name) for name in names]
        template = None
        if all(
            q is not None
            and name in allowed
            and math.isfinite(q.min_value)
            and math.isfinite(q.max_value)
            for name, q in zip(names, quantities, strict=True)
        ):
            ranges = tuple((q.min_value, q.max_value) for q in quantities if q is not None)
            template = FieldTemplate(ranges, field_template(names))
        self._templates[(kind, names)] = template
        return template


def field_template(names: tuple[str, ...]) -> str:
    """The field set of these quantity names in order, with a ``%r`` where each value goes:
    ``template % values`` is ``format_fields`` of them when every value is a finite float.
    ``ValueError`` (from ``escape_field_key``) if a name has no exact encoding."""
    return ",".join(f"{escape_field_key(name).replace('%', '%%')}=%r" for name in names)


_UNSEEN = FieldTemplate((), "")  # the cache's "not looked at yet", apart from None ("no")
