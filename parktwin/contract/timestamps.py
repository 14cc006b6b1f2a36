"""Event-time parsing: epoch milliseconds or RFC 3339 text."""

from __future__ import annotations

from datetime import datetime

from parktwin.contract.reading import PayloadError


def parse_ts_ms(value: object, field: str = "ts") -> int:
    """Event time in epoch milliseconds from an integer (ms) or an RFC 3339 string with offset."""
    if isinstance(value, bool):
        raise PayloadError("bad_timestamp", f"{field} must be epoch milliseconds or RFC 3339 text")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise PayloadError("bad_timestamp", f"{field} is not finite")
        return int(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise PayloadError("bad_timestamp", f"{field} is not RFC 3339: {value[:40]!r}") from exc
        if parsed.tzinfo is None:
            # A time without an offset is ambiguous across the park's daylight or zone rules.
            raise PayloadError("bad_timestamp", f"{field} has no UTC offset: {value[:40]!r}")
        return round(parsed.timestamp() * 1000)
    raise PayloadError("bad_timestamp", f"{field} must be epoch milliseconds or RFC 3339 text")
