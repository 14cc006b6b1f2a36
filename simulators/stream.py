"""The park's telemetry as MQTT messages: readings encoded, some in SenML, faults injected.

This is the whole simulator without a broker: the same seed and start give the same
(topic, payload) sequence, which the publisher then only paces and sends.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import orjson

from parktwin.contract import topics
from parktwin.contract.payload import VERSION
from parktwin.contract.reading import Reading
from simulators.faults import Encoder, FaultCounts, FaultInjector, FaultOptions, Message
from simulators.noise import stable_key, uniform
from simulators.park import ParkSimulator
from simulators.senml import encode_senml
from simulators.sparkplug import SparkplugEdge


def encode_json(reading: Reading) -> bytes:
    """A ``parktwin/1`` payload, built directly (the contract's encoder, minus a copy)."""
    return orjson.dumps(
        {"v": VERSION, "ts": reading.ts_ms, "seq": reading.seq, "values": reading.values}
    )


def uses_senml(seed: int, device_id: str, senml_share: float) -> bool:
    """Whether a device speaks SenML: a fixed share of devices, chosen by the seed."""
    return senml_share > 0 and uniform(stable_key(seed, "senml", device_id), 0) < senml_share


class TelemetryStream:
    """Messages of a simulated park in event-time order (held-back ones excepted)."""

    def __init__(
        self,
        simulator: ParkSimulator,
        faults: FaultOptions | None = None,
        senml_share: float = 0.0,
        device_formats: Mapping[str, tuple[str, Encoder]] | None = None,
        sparkplug: SparkplugEdge | None = None,
    ) -> None:
        """``device_formats``: devices that publish like a real firmware or gateway (their
        topic and encoder, from the park's mappings); ``sparkplug``: the edge nodes of the
        park's Sparkplug devices (no faults: their births and ``seq`` are a session's); the
        others speak the contract."""
        self.simulator = simulator
        park_id = simulator.park.park.id
        self._topics = {d.id: topics.telemetry(park_id, d.id) for d in simulator.park.devices}
        self._encoders: dict[str, Encoder] = {
            d.id: encode_senml if uses_senml(simulator.seed, d.id, senml_share) else encode_json
            for d in simulator.park.devices
        }
        self._mapped = frozenset(device_formats or {})
        for device_id, (topic, encode) in (device_formats or {}).items():
            self._topics[device_id], self._encoders[device_id] = topic, encode
        self.sparkplug = sparkplug
        self._sparkplug = sparkplug.devices if sparkplug else frozenset()
        self._faults = FaultInjector(faults, simulator.seed) if faults and faults.any() else None

    @property
    def fault_counts(self) -> FaultCounts:
        return self._faults.counts if self._faults else FaultCounts()

    def advance(self, until_ms: int) -> Iterator[Message]:
        """Messages for every reading with an event time before ``until_ms``."""
        topic_of, encoder_of, faults = self._topics, self._encoders, self._faults
        for reading in self.simulator.advance(until_ms):
            device = reading.device_id
            if device in self._sparkplug:
                assert self.sparkplug is not None
                topic, payload = self.sparkplug.encode(reading)
                yield Message(topic, payload, device, reading.ts_ms, True)
            elif faults is None:
                payload = encoder_of[device](reading)
                yield Message(topic_of[device], payload, device, reading.ts_ms, True)
            else:
                mapped = device in self._mapped
                yield from faults.apply(reading, topic_of[device], encoder_of[device], mapped)

    def flush(self) -> Iterator[Message]:
        """Messages still held back by the out-of-order fault."""
        if self._faults is not None:
            yield from self._faults.flush()
