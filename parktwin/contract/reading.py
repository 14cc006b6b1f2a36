"""The reading: what one device measured at one instant of event time."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reading:
    """One device's quantities at one event time.

    ``ts_ms`` is the device's (or simulator's) own clock in milliseconds since the Unix epoch,
    UTC. Nothing downstream replaces it with the time of arrival, so replays and time-warped
    demos give the same numbers; only a device that sends no time at all is given its
    message's arrival time, and says so (``ts_from_arrival``).
    """

    device_id: str
    ts_ms: int
    values: dict[str, float]
    seq: int | None = None
    # True when the device sent no time and ``ts_ms`` is when the message arrived (a mapped
    # device without a clock); stored with the tag ts_source=arrival.
    ts_from_arrival: bool = False


def printable(text: str) -> str:
    """``text`` with every character that is not printable (newlines, ANSI escapes, other
    control and separator characters) written as its Python escape, so that text a device sent
    can never start a line of its own or drive a terminal where it is shown."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class PayloadError(ValueError):
    """A payload that breaks the contract. ``reason`` is a short stable code for counting.

    ``detail`` may quote what a device sent; it is made ``printable`` here, once for every log
    line, dead letter and page that shows it.
    """

    def __init__(self, reason: str, detail: str) -> None:
        detail = printable(detail)
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
