"""Which decoder a message goes to: the contract's own (parks/{park}/devices/+/telemetry),
Sparkplug B (spBv1.0/<group>/..., the park file's ``sparkplug:``) or the park file's mappings
(any other subscribed topic). All give readings that then pass the same checks
(parktwin.validation.check_reading), so a mapped reading is stored, tagged, dead-lettered and
counted exactly like a native one. The collectors and the twin route through the same class,
so both accept exactly the same readings."""

from __future__ import annotations

import logging

from collectors.mapping.compiled import compile_mappings
from collectors.mapping.engine import Direct, MappingEngine
from collectors.sparkplug.host import Outcome, SparkplugHost
from parktwin.contract import topics
from parktwin.contract.quantities import KINDS
from parktwin.contract.reading import PayloadError, Reading
from parktwin.decoding import SessionEvents
from parktwin.park.model import Park
from parktwin.validation import Limits, check_reading, validate_message

log = logging.getLogger(__name__)

_ROUTES_LIMIT = 100_000  # distinct topics whose route is kept; beyond it the cache starts anew


class _Way:
    """A route of ``MessageRouter``: one instance each, compared by identity."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


_SPARKPLUG, _NATIVE, _OWN, _MAPPED = (_Way(n) for n in ("sparkplug", "native", "own", "mapped"))
Route = _Way | Direct


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
        self._routes: dict[str, Route] = {}
        self._outcome = Outcome()

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
        route = self._routes.get(topic)
        if route is None:
            route = self._route(topic)
        if route is _SPARKPLUG:
            assert self.sparkplug is not None
            return self._sparkplug(self.sparkplug, topic, payload, arrival_ms, refused)
        if route is _NATIVE:
            return validate_message(self.park, self.limits, topic, payload, arrival_ms)
        if route is _OWN:
            return []
        engine = self.engine
        assert engine is not None
        limits = self.limits
        if len(payload) > limits.max_payload_bytes:
            raise PayloadError(
                "too_large", f"{len(payload)} bytes exceeds {limits.max_payload_bytes}"
            )
        try:
            if type(route) is Direct:
                # The topic's device and its kind's quantities were checked when the route was
                # made; left to check is the time window (check_reading's last test).
                reading = engine.read_direct(route, payload, arrival_ms)
                if reading is not None:
                    if limits.earliest_ts_ms <= reading.ts_ms <= arrival_ms + limits.max_future_ms:
                        return [reading]
                    return self._checked([reading], arrival_ms, refused)
            decoded = engine.apply(topic, payload, arrival_ms, refused)
        except PayloadError:
            raise
        except Exception as exc:
            # A mapping bug must cost one message, never the service: refuse it, keep the trace.
            log.exception("mapping failed on a message on %s", topic[:120])
            raise PayloadError("decoder_error", f"{type(exc).__name__}: {str(exc)[:120]}") from exc
        return self._checked(decoded, arrival_ms, refused)

    def _checked(
        self, decoded: list[Reading], arrival_ms: int, refused: list[PayloadError]
    ) -> list[Reading]:
        """The mapped readings that pass ``check_reading``; each other one into ``refused``."""
        accepted = []
        for reading in decoded:
            try:
                check_reading(self.park, self.limits, reading, arrival_ms)
            except PayloadError as exc:
                refused.append(PayloadError(exc.reason, f"{reading.device_id}: {exc.detail}"))
            else:
                accepted.append(reading)
        return accepted

    def _route(self, topic: str) -> Route:
        """Which way a topic's messages go (kept per topic, bounded), as ``readings`` reads it:
        Sparkplug; native (also any topic no mapping takes: the native decoder says why it
        refuses it); the park's own topics, which reach us only through a wide mapping filter
        such as "#" (not device messages: refusing them would dead-letter our own dead
        letters); a ``Direct`` mapped topic; any other mapped topic."""
        sparkplug, engine = self.sparkplug, self.engine
        route: Route
        if sparkplug is not None and topic.startswith(sparkplug.prefix):
            route = _SPARKPLUG
        elif engine is None or topic.startswith(self._native_prefix):
            route = _NATIVE
        elif topic.startswith(self._own_prefix):
            route = _OWN
        elif not engine.candidates(topic):
            route = _NATIVE
        else:
            direct = engine.direct(topic)
            route = direct if direct is not None and self._checks_once(direct) else _MAPPED
        if len(self._routes) >= _ROUTES_LIMIT:
            self._routes.clear()
        self._routes[topic] = route
        return route

    def _checks_once(self, direct: Direct) -> bool:
        """Whether ``check_reading``'s tests of device and quantities pass for every reading
        of a ``Direct`` topic (its device and quantity names are fixed): then only its time
        window is left to test per message."""
        device = self.park.devices_by_id.get(direct.device_id)
        if device is None:
            return False
        allowed = KINDS[device.kind].quantities
        return all(value.quantity in allowed for value in direct.mapping.values)

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
        outcome = self._outcome  # emptied after each message
        host.handle_into(topic, payload, arrival_ms, outcome)
        readings = outcome.readings
        if readings:
            outcome.readings = []
        if outcome.refused:
            refused.extend(outcome.refused)
            outcome.refused.clear()
        if outcome.commands or outcome.offline or outcome.seq_gaps:
            events = self._events
            if events is None:
                events = self._events = SessionEvents()
            events.commands += outcome.commands
            events.offline += outcome.offline
            events.rebirths += outcome.rebirths
            events.seq_gaps += outcome.seq_gaps
            outcome.commands.clear()
            outcome.offline.clear()
            outcome.rebirths = outcome.seq_gaps = 0
        return readings


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
