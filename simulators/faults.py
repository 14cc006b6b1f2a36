"""Faults a real device fleet shows, injected on purpose and reproducibly from the seed.

Each fault is a probability per reading. Draws come from (seed, device id, sequence number), so
the same run always breaks the same readings in the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import orjson

from parktwin.contract.quantities import QUANTITIES
from parktwin.contract.reading import Reading
from simulators.noise import stable_key, uniform


@dataclass(frozen=True)
class FaultOptions:
    """Probabilities per reading (0..1) of each fault, and how long the lasting ones last."""

    dropout: float = 0.0  # the reading is never sent
    stuck: float = 0.0  # the sensor freezes and repeats its last values...
    stuck_readings: int = 10  # ...for this many readings
    spike: float = 0.0  # a gauge jumps, staying inside its contract range (stored)
    spike_out_of_range: float = 0.0  # a gauge jumps beyond its range (the collector rejects it)
    duplicate: float = 0.0  # the same payload is sent twice
    out_of_order: float = 0.0  # the message is held back...
    out_of_order_hold: int = 5  # ...until this many later messages have gone out
    malformed: float = 0.0  # truncated JSON or wrong value types

    def any(self) -> bool:
        """Whether any fault is switched on."""
        return any(
            p > 0
            for p in (
                self.dropout,
                self.stuck,
                self.spike,
                self.spike_out_of_range,
                self.duplicate,
                self.out_of_order,
                self.malformed,
            )
        )


@dataclass
class FaultCounts:
    """How many readings each fault touched."""

    dropped: int = 0
    duplicated: int = 0
    malformed: int = 0
    out_of_order: int = 0
    spikes: int = 0
    spikes_out_of_range: int = 0
    stuck: int = 0


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT message to publish. ``ledger`` marks the one copy of a reading to be stored."""

    topic: str
    payload: bytes
    device_id: str
    ts_ms: int
    ledger: bool


Encoder = Callable[[Reading], bytes]


@dataclass(slots=True)
class _Held:
    left: int  # later messages still to go out before this one
    message: Message


@dataclass
class FaultInjector:
    """Turns clean readings into the messages a faulty fleet would send."""

    options: FaultOptions
    seed: int
    counts: FaultCounts = field(default_factory=FaultCounts)
    _keys: dict[str, int] = field(default_factory=dict)
    _stuck_left: dict[str, int] = field(default_factory=dict)
    _last_values: dict[str, dict[str, float]] = field(default_factory=dict)
    _held: list[_Held] = field(default_factory=list)

    def _key(self, device_id: str) -> int:
        key = self._keys.get(device_id)
        if key is None:
            key = self._keys[device_id] = stable_key(self.seed, "faults", device_id)
        return key

    def apply(
        self, reading: Reading, topic: str, encode: Encoder, per_value: bool = False
    ) -> Iterator[Message]:
        """The messages for one reading (none, one or two), then any held ones now due.

        ``per_value``: the device's messages are mapped, and a mapping refuses a value out of
        range on its own: the reading is still stored with its other values.
        """
        o = self.options
        key = self._key(reading.device_id)
        n = 8 * (reading.seq or 0)
        device = reading.device_id
        if o.dropout and uniform(key, n) < o.dropout:
            self.counts.dropped += 1
            return
        values, valid = self._stick(device, key, n, reading.values), True
        if (o.spike or o.spike_out_of_range) and values is reading.values:
            values, valid = self._spike(key, n, values)
            valid = valid or (per_value and len(values) > 1)
        if values is not reading.values:
            reading = Reading(device, reading.ts_ms, values, reading.seq)
        payload = encode(reading)
        if o.malformed and uniform(key, n + 5) < o.malformed:
            self.counts.malformed += 1
            payload, valid = _malform(payload, uniform(key, n + 6)), False
        message = Message(topic, payload, device, reading.ts_ms, valid)
        if o.out_of_order and uniform(key, n + 7) < o.out_of_order:
            self.counts.out_of_order += 1
            self._held.append(_Held(o.out_of_order_hold, message))
            return
        yield message
        if o.duplicate and uniform(key, n + 4) < o.duplicate:
            self.counts.duplicated += 1
            yield Message(topic, payload, device, reading.ts_ms, False)
        yield from self._due()

    def flush(self) -> Iterator[Message]:
        """Every message still held back, at the end of a run."""
        held, self._held = self._held, []
        for entry in held:
            yield entry.message

    def _due(self) -> Iterator[Message]:
        if not self._held:
            return
        keep: list[_Held] = []
        due: list[Message] = []
        for entry in self._held:
            entry.left -= 1
            if entry.left <= 0:
                due.append(entry.message)
            else:
                keep.append(entry)
        self._held = keep
        yield from due

    def _stick(self, device: str, key: int, n: int, values: dict[str, float]) -> dict[str, float]:
        left = self._stuck_left.get(device, 0)
        if left > 0 and device in self._last_values:
            self._stuck_left[device] = left - 1
            self.counts.stuck += 1
            return self._last_values[device]
        if self.options.stuck and uniform(key, n + 1) < self.options.stuck:
            self._stuck_left[device] = self.options.stuck_readings - 1
            self.counts.stuck += 1
        self._last_values[device] = values
        return values

    def _spike(self, key: int, n: int, values: dict[str, float]) -> tuple[dict[str, float], bool]:
        gauges = [name for name in values if not QUANTITIES[name].counter]
        if not gauges:
            return values, True
        u = uniform(key, n + 2)
        o = self.options
        name = gauges[int(uniform(key, n + 3) * len(gauges))]
        quantity = QUANTITIES[name]
        if u < o.spike_out_of_range:
            self.counts.spikes_out_of_range += 1
            return {**values, name: quantity.max_value * 10 + 1}, False
        if u < o.spike_out_of_range + o.spike:
            self.counts.spikes += 1
            jumped = min(quantity.max_value, max(abs(values[name]) * 10, 1.0))
            return {**values, name: round(jumped, 3)}, True
        return values, True


def _malform(payload: bytes, u: float) -> bytes:
    """A broken payload: cut short, or with the values turned to text."""
    if u < 0.5:
        return payload[: max(1, len(payload) // 2)]
    body = orjson.loads(payload)
    if isinstance(body, dict) and isinstance(body.get("values"), dict) and "v" in body:
        body["values"] = {name: str(value) for name, value in body["values"].items()}
    elif isinstance(body, dict):  # a mapped device's message: every number becomes text
        body = _numbers_as_text(body)
    else:
        for record in body:
            if "v" in record:
                record["v"] = str(record["v"])
    return orjson.dumps(body)


def _numbers_as_text(node: object) -> object:
    if isinstance(node, dict):
        return {k: _numbers_as_text(v) for k, v in node.items()}
    if isinstance(node, int | float) and not isinstance(node, bool):
        return str(node)
    return node
