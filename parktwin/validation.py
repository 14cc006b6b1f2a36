"""Turn one MQTT message into validated readings, or refuse it with a reason.

The checks that need the park live here (topic, known device, quantities allowed for the
device's kind, event time window); the contract's decoder checks types, units and ranges.
The twin uses the same function, so both roles accept exactly the same readings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from parktwin.config import CollectorSettings
from parktwin.contract import payload as payload_codec
from parktwin.contract import topics
from parktwin.contract.quantities import KINDS
from parktwin.contract.reading import PayloadError, Reading
from parktwin.park.model import Park

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Limits:
    """What a message may be: its size and the window its event time must fall in."""

    max_payload_bytes: int
    earliest_ts_ms: int
    max_future_ms: int

    @classmethod
    def from_settings(cls, settings: CollectorSettings) -> Limits:
        return cls(
            settings.max_payload_bytes,
            settings.earliest_ts_ms,
            round(settings.max_future_s * 1000),
        )


def validate_message(
    park: Park, limits: Limits, topic: str, payload: bytes, arrival_ms: int
) -> list[Reading]:
    """Readings of a telemetry message, or PayloadError naming what is wrong.

    ``arrival_ms`` bounds how far in the future an event time may lie; it is the only use of
    the receiver's clock, and it never enters any computed figure.
    """
    if len(payload) > limits.max_payload_bytes:
        raise PayloadError("too_large", f"{len(payload)} bytes exceeds {limits.max_payload_bytes}")
    parsed = topics.parse_telemetry(topic)
    if parsed is None:
        raise PayloadError("bad_topic", f"{topic[:120]!r} is not a telemetry topic")
    if parsed.park_id != park.park.id:
        raise PayloadError("wrong_park", f"park {parsed.park_id[:64]!r} is not {park.park.id!r}")
    device = park.devices_by_id.get(parsed.device_id)
    if device is None:
        raise PayloadError("unknown_device", f"device {parsed.device_id[:64]!r} is not in the park")
    try:
        readings = payload_codec.decode(device.id, payload)
    except PayloadError:
        raise
    except Exception as exc:
        # A decoder bug must cost one message, never the service: refuse it, keep the trace.
        log.exception("decoder failed on a message from %s", device.id)
        raise PayloadError("decoder_error", f"{type(exc).__name__}: {str(exc)[:120]}") from exc
    for reading in readings:
        check_reading(park, limits, reading, arrival_ms)
    return readings


def check_reading(park: Park, limits: Limits, reading: Reading, arrival_ms: int) -> None:
    """Refuse (PayloadError) a decoded reading that its device may not send, or out of time.

    Native and mapped readings go through this same check.
    """
    device = park.devices_by_id.get(reading.device_id)
    if device is None:
        raise PayloadError(
            "unknown_device", f"device {reading.device_id[:64]!r} is not in the park"
        )
    allowed = KINDS[device.kind].quantities
    for name in reading.values:
        if name not in allowed:
            raise PayloadError(
                "quantity_not_for_kind", f"{name} is not reported by a {device.kind.value}"
            )
    latest_ms = arrival_ms + limits.max_future_ms
    if not limits.earliest_ts_ms <= reading.ts_ms <= latest_ms:
        raise PayloadError(
            "timestamp_out_of_window",
            f"ts={reading.ts_ms} outside [{limits.earliest_ts_ms}, arrival+"
            f"{limits.max_future_ms} ms]",
        )
