"""What turns an MQTT message into checked readings, as the services see it.

The contract's own decoder is here (``NativeDecoder``); the collectors' ``MessageRouter`` adds
the park file's mappings of real devices. The twin takes whichever the program gives it, so
that it accepts exactly what the collectors accept without importing them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from parktwin.contract import topics
from parktwin.contract.reading import PayloadError, Reading
from parktwin.park.model import Park
from parktwin.validation import Limits, validate_message


@dataclass
class SessionEvents:
    """What a decoder with session state (Sparkplug B) asks of the service besides readings:
    commands to publish (rebirth requests) and devices declared offline (deaths)."""

    commands: list[tuple[str, bytes]] = field(default_factory=list)  # topic, payload
    offline: list[tuple[str, int]] = field(default_factory=list)  # device id, event time
    rebirths: int = 0  # rebirth requests among the commands
    seq_gaps: int = 0  # messages that did not follow the last of their session


class MessageDecoder(Protocol):
    """Decodes and checks messages; says which topics it takes."""

    def subscriptions(self, shared_group: str | None = None) -> list[str]:
        """The topic filters to subscribe to (shared over ``shared_group`` if given)."""
        ...

    def readings(
        self, topic: str, payload: bytes, arrival_ms: int, refused: list[PayloadError]
    ) -> list[Reading]:
        """Checked readings of a message; PayloadError if it is refused as a whole, values
        refused one by one appended to ``refused``."""
        ...

    def session_events(self) -> SessionEvents | None:
        """The events of the messages decoded since the last call, or None if there were none."""
        ...


class NativeDecoder:
    """The contract's telemetry only (parks/{park}/devices/+/telemetry)."""

    def __init__(self, park: Park, limits: Limits) -> None:
        self.park, self.limits = park, limits

    def subscriptions(self, shared_group: str | None = None) -> list[str]:
        filter_ = topics.telemetry_filter(self.park.park.id)
        return [topics.shared(filter_, shared_group) if shared_group else filter_]

    def readings(
        self, topic: str, payload: bytes, arrival_ms: int, refused: list[PayloadError]
    ) -> list[Reading]:
        return validate_message(self.park, self.limits, topic, payload, arrival_ms)

    def session_events(self) -> SessionEvents | None:
        return None  # the contract's telemetry keeps no session
