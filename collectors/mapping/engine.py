"""Apply compiled mappings to MQTT messages: readings, and a reason for everything refused.

One message may give several readings (channels, arrays, phases fan out to several devices)
and refuse some values while accepting others (a bad quality code, a tag in error, a value of
the wrong type): each refusal carries its own reason. A message refused as a whole (not JSON,
no mapping matches, no identity, no time) raises PayloadError, like a native one.

State: for ``partial`` mappings the engine keeps each channel's last known document, so that a
notification carrying only what changed is laid over it. Collectors sharing a subscription
each see part of a device's messages; give such devices full status (or one collector).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from collectors.mapping.compiled import CompiledMapping, CompiledValue
from collectors.mapping.paths import MISSING
from collectors.mapping.units import conversion
from parktwin.contract.reading import PayloadError, Reading
from parktwin.contract.timestamps import parse_ts_ms
from parktwin.contract.values import check_value
from parktwin.park.mappings import TimeFormat

_TOPIC_CACHE_LIMIT = 100_000  # distinct topics remembered; beyond it the cache starts anew
_TEXT_TIMES_LIMIT = 10_000  # time texts remembered per mapping; beyond it the cache starts anew


@dataclass(frozen=True, slots=True)
class Direct:
    """A topic whose messages one simple mapping reads for one device: the mapping's first
    candidate on the topic matches every payload, takes its identity from the topic (known to
    the mapping), has no channels, quality, error codes or partial documents, and reads each
    value by one plain path in a fixed unit. What ``apply`` works out per message for such a
    topic is worked out once; ``read_direct`` is what is left."""

    mapping: CompiledMapping
    device_id: str


class MappingEngine:
    """Turns messages on the mapped topics into readings."""

    def __init__(self, mappings: list[CompiledMapping]) -> None:
        self.mappings = mappings
        self._by_topic: dict[str, list[CompiledMapping]] = {}
        self._last: dict[tuple[int, str, str | None], dict[str, Any]] = {}

    @property
    def topic_filters(self) -> list[str]:
        """The topic filters to subscribe to, each once."""
        return list(dict.fromkeys(m.topic for m in self.mappings))

    def candidates(self, topic: str) -> list[CompiledMapping]:
        """The mappings whose filter matches the topic, in park-file order."""
        found = self._by_topic.get(topic)
        if found is None:
            levels = topic.split("/")
            found = [m for m in self.mappings if m.matches_topic(levels)]
            if len(self._by_topic) >= _TOPIC_CACHE_LIMIT:
                self._by_topic.clear()
            self._by_topic[topic] = found
        return found

    def apply(
        self, topic: str, payload: bytes, arrival_ms: int, refused: list[PayloadError]
    ) -> list[Reading]:
        """Readings of one message; values refused one by one are appended to ``refused``.

        Raises PayloadError when the whole message is refused.
        """
        candidates = self.candidates(topic)
        if not candidates:
            raise PayloadError("no_mapping_matched", f"no mapping takes topic {topic[:120]!r}")
        try:
            body = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            reason = "not_utf8" if "utf-8" in str(exc).lower() else "malformed_json"
            raise PayloadError(reason, str(exc)[:120]) from exc
        for mapping in candidates:
            if mapping.match_path is None or _matches(mapping, body):
                return self._apply(mapping, topic, body, arrival_ms, refused)
        names = ", ".join(m.name for m in candidates)
        raise PayloadError("no_mapping_matched", f"the payload matches none of: {names}"[:200])

    def direct(self, topic: str) -> Direct | None:
        """The topic as a ``Direct`` one, or None when its messages need ``apply``."""
        candidates = self.candidates(topic)
        if not candidates:
            return None
        mapping = candidates[0]  # ``apply`` takes it for every payload: no match_path
        level = mapping.identity_level
        if (
            mapping.match_path is not None
            or level is None
            or mapping.channels_path is not None
            or mapping.quality_path is not None
            or mapping.errors_path is not None
            or mapping.partial
            or not mapping.values
            or any(value.plain is None for value in mapping.values)
        ):
            return None
        levels = topic.split("/")
        identity = levels[level] if level < len(levels) else ""
        if not identity or (mapping.identities is not None and identity not in mapping.identities):
            return None
        device_id = identity if mapping.devices is None else mapping.devices.get(identity)
        return Direct(mapping, device_id) if device_id is not None else None

    def read_direct(self, direct: Direct, payload: bytes, arrival_ms: int) -> Reading | None:
        """The reading ``apply`` gives for a message on a ``Direct`` topic when every value is
        where the mapping says and in range; None for any other message (``apply`` then takes
        it and says why). PayloadError as ``apply`` raises it (a bad or missing time)."""
        try:
            body = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return None
        mapping = direct.mapping
        ts_ms = _event_time(mapping, body, arrival_ms)
        values: dict[str, float] = {}
        for value in mapping.values:
            number = _plain_number(value, body)
            if number is None:
                return None
            values[value.quantity] = number
        return Reading(
            direct.device_id, ts_ms, values, None, mapping.time_format is TimeFormat.ARRIVAL
        )

    def _apply(
        self,
        mapping: CompiledMapping,
        topic: str,
        body: Any,
        arrival_ms: int,
        refused: list[PayloadError],
    ) -> list[Reading]:
        identity = _identity(mapping, topic, body)
        if mapping.identities is not None and identity not in mapping.identities:
            raise PayloadError(
                "unknown_identity", f"{identity[:120]!r} is not in the mapping's devices"
            )
        ts_ms = _event_time(mapping, body, arrival_ms)
        on_arrival = mapping.time_format is TimeFormat.ARRIVAL
        errors = mapping.errors_path.one(body) if mapping.errors_path is not None else None
        if type(errors) is not dict:
            errors = None
        by_device: dict[str, dict[str, float]] = {}
        unknown: set[str] = set()
        devices, partial = mapping.devices, mapping.partial
        channels = ((None, body),) if mapping.channels_path is None else _channels(mapping, body)
        for channel, node in channels:
            if partial:
                node = self._overlay(mapping.index, identity, channel, node)
            prefix = identity if channel is None else f"{identity}/{channel}"
            if mapping.quality_path is not None and not _good(mapping, node, body):
                refused.append(PayloadError("bad_quality", f"{prefix}: quality is not good"))
                continue
            for value in mapping.values:
                for suffix, number in _numbers(value, node, errors, partial, refused):
                    key = prefix if suffix is None else f"{prefix}/{suffix}"
                    device = key if devices is None else devices.get(key)
                    if device is None:
                        unknown.add(key)
                        continue
                    found = by_device.get(device)
                    if found is None:
                        by_device[device] = found = {}
                    found[value.quantity] = number
        for key in sorted(unknown):
            refused.append(
                PayloadError("unknown_identity", f"{key[:120]!r} is not in the mapping's devices")
            )
        if not by_device and not refused and not mapping.partial:
            # A partial notification may change nothing mapped (Shelly's wifi, sys); a full
            # message that holds nothing at all is worth a look.
            raise PayloadError("no_values", f"{mapping.name}: the message holds no mapped value")
        return [Reading(d, ts_ms, v, None, on_arrival) for d, v in by_device.items()]

    def _overlay(
        self, index: int, identity: str, channel: str | None, node: Any
    ) -> dict[str, Any] | Any:
        if type(node) is not dict:
            return node
        key = (index, identity, channel)
        last = self._last.get(key)
        merged = node if last is None else _merge(last, node)
        self._last[key] = merged
        return merged


def _good(mapping: CompiledMapping, node: Any, body: Any) -> bool:
    """Whether the quality code beside the values (in the channel, else the message) is good."""
    assert mapping.quality_path is not None
    code = mapping.quality_path.one(node)
    if code is MISSING and node is not body:
        code = mapping.quality_path.one(body)
    return not isinstance(code, bool) and code in mapping.quality_good


def _matches(mapping: CompiledMapping, body: Any) -> bool:
    assert mapping.match_path is not None
    found = mapping.match_path.one(body)
    return found is not MISSING and any(
        found == want and type(found) is type(want) for want in mapping.match_values
    )


def _identity(mapping: CompiledMapping, topic: str, body: Any) -> str:
    if mapping.identity_level is not None:
        levels = topic.split("/")
        if mapping.identity_level < len(levels) and levels[mapping.identity_level]:
            return levels[mapping.identity_level]
        raise PayloadError("missing_identity", f"topic level {mapping.identity_level} is empty")
    assert mapping.identity_path is not None
    found = mapping.identity_path.one(body)
    if isinstance(found, str) and found:
        return found
    if isinstance(found, int) and not isinstance(found, bool):
        return str(found)  # an IMEI sent as a number
    where = mapping.identity_path.text
    if found is MISSING:
        raise PayloadError("missing_identity", f"{where} is not in the message")
    raise PayloadError("missing_identity", f"{where} is not text: {type(found).__name__}")


def _event_time(mapping: CompiledMapping, body: Any, arrival_ms: int) -> int:
    form = mapping.time_format
    if form is TimeFormat.ARRIVAL:
        return arrival_ms
    assert mapping.time_path is not None
    where = mapping.time_path.text
    value = mapping.time_path.one(body)
    if value is MISSING:
        raise PayloadError("bad_timestamp", f"{where} is not in the message")
    if form is TimeFormat.ISO or form is TimeFormat.LOCAL:
        if not isinstance(value, str):
            kind = "RFC 3339" if form is TimeFormat.ISO else "ISO 8601"
            raise PayloadError("bad_timestamp", f"{where} must be {kind} text")
        known = mapping.text_times.get(value)
        if known is None:
            known = _text_ms(mapping, value, where)  # PayloadError: not kept
            if len(mapping.text_times) >= _TEXT_TIMES_LIMIT:
                mapping.text_times.clear()
            mapping.text_times[value] = known
        return known
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PayloadError("bad_timestamp", f"{where} must be a finite number ({form.value})")
    if form is TimeFormat.EPOCH_S:
        return round(value * 1000)
    if form is TimeFormat.EPOCH_US:
        return round(value / 1000)
    return round(value)


def _text_ms(mapping: CompiledMapping, value: str, where: str) -> int:
    """Epoch ms of a time text in the mapping's format (ISO or LOCAL), or PayloadError."""
    if mapping.time_format is TimeFormat.ISO:
        return parse_ts_ms(value, where)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadError("bad_timestamp", f"{where} is not ISO 8601: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        return _local_ms(mapping, value, parsed)
    return round(parsed.timestamp() * 1000)


_EPOCH = datetime(1970, 1, 1)


def _local_ms(mapping: CompiledMapping, text: str, naive: datetime) -> int:
    """Epoch ms of a local time in the mapping's zone (the earlier of an ambiguous hour).

    Zone rules change on whole minutes, and a fleet's messages share their minutes: the UTC
    offset of each local minute ("YYYY-MM-DDTHH:MM") is looked up in the zone once and kept.
    """
    minute = text[:16] if len(text) >= 16 and text[10] in "T " else None
    offset_s = mapping.offsets.get(minute) if minute is not None else None
    if offset_s is None:
        offset = mapping.zone.utcoffset(naive)
        offset_s = offset.total_seconds() if offset is not None else 0.0
        if minute is not None:
            if len(mapping.offsets) >= 10_000:
                mapping.offsets.clear()
            mapping.offsets[minute] = offset_s
    return round(((naive - _EPOCH).total_seconds() - offset_s) * 1000)


def _channels(mapping: CompiledMapping, body: Any) -> list[tuple[str | None, Any]]:
    if mapping.channels_path is None:
        return [(None, body)]
    container = mapping.channels_path.one(body)
    if type(container) is dict:
        keys = mapping.channel_keys
        return [(k, v) for k, v in container.items() if keys is None or keys.match(k)]
    if type(container) is list:
        return [(str(i), v) for i, v in enumerate(container)]
    return []


def _numbers(
    value: CompiledValue,
    node: Any,
    errors: dict[str, Any] | None,
    partial: bool,
    refused: list[PayloadError],
) -> list[tuple[str | None, float]]:
    """The value's numbers in the node, by fan-out suffix (None when it is a single one)."""
    if errors is None:
        number = _plain_number(value, node)
        if number is not None:
            return [(None, number)]
    found: list[Any] = []
    used = value.paths[0]
    for path in value.paths:
        found = path.all(node)
        if found:
            used = path
            break
    name = used.last_name
    if errors is not None and name is not None and name in errors:
        code = str(errors[name])[:40]
        refused.append(PayloadError("device_error", f"{value.quantity} ({name}): error {code}"))
        return []
    if not found:
        if not partial:
            where = " | ".join(p.text for p in value.paths)
            refused.append(PayloadError("missing_value", f"{value.quantity}: {where} not found"))
        return []
    if len(found) == 1 and type(found[0]) is list:
        items: list[tuple[str | None, Any]] = [(str(i), v) for i, v in enumerate(found[0])]
    elif len(found) == 1:
        items = [(None, found[0])]
    else:
        items = [(str(i), v) for i, v in enumerate(found)]
    convert = value.conversion
    if convert is None:
        assert value.unit_path is not None
        unit = value.unit_path.one(node)
        convert = conversion(unit, value.quantity_unit) if isinstance(unit, str) else None
        if convert is None:
            refused.append(
                PayloadError(
                    "unknown_unit",
                    f"{value.quantity}: unit {str(unit)[:20]!r} does not convert to"
                    f" {value.quantity_unit}",
                )
            )
            return []
    numbers: list[tuple[str | None, float]] = []
    for suffix, raw in items:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            refused.append(
                PayloadError(
                    "bad_value",
                    f"{value.quantity} ({used.text}) must be a number, got {type(raw).__name__}",
                )
            )
            continue
        try:
            numbers.append((suffix, check_value(value.quantity, convert.apply(raw * value.scale))))
        except PayloadError as exc:
            refused.append(exc)
    return numbers


def _plain_number(value: CompiledValue, node: Any) -> float | None:
    """The usual case, walked inline: one plain path to one number in a fixed unit, in its
    quantity's range; None for anything else (``_numbers`` then says why, or fans out)."""
    keys = value.plain
    if keys is None:
        return None
    node_: Any = node
    for key in keys:
        if type(key) is str:
            node_ = node_.get(key, MISSING) if type(node_) is dict else MISSING
        elif type(node_) is list and type(key) is int and -len(node_) <= key < len(node_):
            node_ = node_[key]
        else:
            return None
        if node_ is MISSING:
            return None
    kind = type(node_)
    if kind is float or kind is int:
        number: float = node_ * value.factor + value.offset
        if value.low <= number <= value.high:
            return number
    return None


def _merge(last: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    merged = dict(last)
    for key, new in change.items():
        old = merged.get(key)
        merged[key] = _merge(old, new) if type(old) is dict and type(new) is dict else new
    return merged
