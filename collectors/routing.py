"""Which decoder a message goes to: the contract's own (parks/{park}/devices/+/telemetry),
Sparkplug B (spBv1.0/<group>/..., the park file's ``sparkplug:``) or the park file's mappings
(any other subscribed topic). All give readings that then pass the same checks
(parktwin.validation.check_reading), so a mapped reading is stored, tagged, dead-lettered and
counted exactly like a native one. The collectors and the twin route through the same class,
so both accept exactly the same readings."""

from __future__ import annotations

import logging

from collectors.mapping.compiled import compile_mappings
from collectors.mapping.engine import MappingEngine
from collectors.sparkplug.host import SparkplugHost
from parktwin.contract import topics
from parktwin.contract.reading import PayloadError, Reading
from parktwin.decoding import SessionEvents
from parktwin.park.model import Park
from parktwin.validation import Limits, check_reading, validate_message

log = logging.getLogger(__name__)


class MessageRouter:
    """Decode and check one message, native or mapped."""

    def __init__(self, park: Park, limits: Limits) -> None:
        self.park = park
        self.limits = limits
        self._native_prefix = f"{topics.ROOT}/{park.park.id}/devices/"
        self._own_prefix = f"{topics.ROOT}/{park.park.id}/"
        mappings = compile_mappings(park)  # MappingError: check-config names file and line
        self.engine = MappingEngine(mappings) if mappings else None
        self.sparkplug = SparkplugHost(park, limits) if park.sparkplug else None
        self._events: SessionEvents | None = None

    def subscriptions(self, shared_group: str | None = None) -> list[str]:
        """The native telemetry filter and every mapped topic filter, shared if asked."""
        filters = [topics.telemetry_filter(self.park.park.id)]
        if self.engine is not None:
            filters += self.engine.topic_filters
        # A broker may deliver a message once per matching subscription: keep only filters
        # that no other one covers (the first of equal ones).
        kept = [
            f
            for i, f in enumerate(filters)
            if not any(
                covers(g, f) and (not covers(f, g) or j < i)
                for j, g in enumerate(filters)
                if j != i
            )
        ]
        shared = [topics.shared(f, shared_group) if shared_group else f for f in kept]
        # Sparkplug groups are never shared: a host must see every birth of a node.
        return shared + (self.sparkplug.subscriptions() if self.sparkplug is not None else [])

    def readings(
        self, topic: str, payload: bytes, arrival_ms: int, refused: list[PayloadError]
    ) -> list[Reading]:
        """Checked readings of a message; PayloadError if it is refused as a whole.

        Values or readings of a mapped message refused one by one are appended to ``refused``.
        """
        sparkplug = self.sparkplug
        if sparkplug is not None and topic.startswith(sparkplug.prefix):
            return self._sparkplug(sparkplug, topic, payload, arrival_ms, refused)
        engine = self.engine
        if engine is None or topic.startswith(self._native_prefix):
            return validate_message(self.park, self.limits, topic, payload, arrival_ms)
        if topic.startswith(self._own_prefix):
            # The park's own topics (dead letters, twin state, alerts) reach us only through a
            # wide mapping filter such as "#": they are not device messages, and refusing them
            # would dead-letter our own dead letters.
            return []
        if not engine.candidates(topic):
            # Not mapped: the native decoder says why (bad topic, another park's...).
            return validate_message(self.park, self.limits, topic, payload, arrival_ms)
        limit = self.limits.max_payload_bytes
        if len(payload) > limit:
            raise PayloadError("too_large", f"{len(payload)} bytes exceeds {limit}")
        try:
            decoded = engine.apply(topic, payload, arrival_ms, refused)
        except PayloadError:
            raise
        except Exception as exc:
            # A mapping bug must cost one message, never the service: refuse it, keep the trace.
            log.exception("mapping failed on a message on %s", topic[:120])
            raise PayloadError("decoder_error", f"{type(exc).__name__}: {str(exc)[:120]}") from exc
        accepted = []
        for reading in decoded:
            try:
                check_reading(self.park, self.limits, reading, arrival_ms)
            except PayloadError as exc:
                refused.append(PayloadError(exc.reason, f"{reading.device_id}: {exc.detail}"))
            else:
                accepted.append(reading)
        return accepted

    def session_events(self) -> SessionEvents | None:
        """Rebirth requests and deaths of the Sparkplug messages since the last call."""
        events, self._events = self._events, None
        return events

    def _sparkplug(
        self,
        host: SparkplugHost,
        topic: str,
        payload: bytes,
        arrival_ms: int,
        refused: list[PayloadError],
    ) -> list[Reading]:
        outcome = host.handle(topic, payload, arrival_ms)
        refused.extend(outcome.refused)
        if outcome.commands or outcome.offline or outcome.seq_gaps:
            events = self._events
            if events is None:
                events = self._events = SessionEvents()
            events.commands += outcome.commands
            events.offline += outcome.offline
            events.rebirths += outcome.rebirths
            events.seq_gaps += outcome.seq_gaps
        return outcome.readings


def covers(wide: str, narrow: str) -> bool:
    """Whether every topic that filter ``narrow`` matches is matched by filter ``wide``."""
    a, b = wide.split("/"), narrow.split("/")
    for i, level in enumerate(a):
        if level == "#":
            return True
        if i >= len(b) or b[i] == "#":
            return False
        if level != "+" and (b[i] == "+" or level != b[i]):
            return False
    return len(a) == len(b)
