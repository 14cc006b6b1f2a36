"""Event-time parsing: epoch milliseconds, or RFC 3339 text and nothing else.

RFC 3339 section 5.6: ``YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)``; "T" and "Z" may be lower
case; a leap second (``:60``) is allowed and read, as POSIX time does, as the next second's start.
ISO 8601's other forms (week and ordinal dates, basic format without separators, a space for
"T", a time without an offset) are refused: the contract names RFC 3339.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from parktwin.contract.reading import PayloadError

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))\Z",
    re.ASCII,
)


def parse_rfc3339_ms(text: str, field: str = "ts") -> int:
    """Epoch milliseconds of an RFC 3339 date-time, or PayloadError naming the field."""
    match = _RFC3339.match(text)
    if match is None:
        raise PayloadError(
            "bad_timestamp", f"{field} is not RFC 3339 with an offset: {text[:40]!r}"
        )
    year, month, day, hour, minute, second = (int(g) for g in match.group(1, 2, 3, 4, 5, 6))
    fraction, zulu, sign, off_h, off_m = match.group(7, 8, 9, 10, 11)
    if zulu:
        zone = UTC
    else:
        if int(off_h) > 23 or int(off_m) > 59:
            raise PayloadError("bad_timestamp", f"{field} has an impossible offset: {text[:40]!r}")
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        zone = timezone(-offset if sign == "-" else offset)
    leap = second == 60
    try:
        moment = datetime(year, month, day, hour, minute, 59 if leap else second, tzinfo=zone)
    except ValueError as exc:
        raise PayloadError("bad_timestamp", f"{field} is not a real time: {text[:40]!r}") from exc
    ms = round(moment.timestamp()) * 1000 + (1000 if leap else 0)
    if fraction:
        ms += round(int(fraction[:9].ljust(9, "0")) / 1_000_000)
    return ms


def parse_ts_ms(value: object, field: str = "ts") -> int:
    """Event time in epoch milliseconds from an integer (ms) or an RFC 3339 string."""
    if isinstance(value, bool):
        raise PayloadError("bad_timestamp", f"{field} must be epoch milliseconds or RFC 3339 text")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise PayloadError("bad_timestamp", f"{field} is not finite")
        return int(value)
    if isinstance(value, str):
        return parse_rfc3339_ms(value, field)
    raise PayloadError("bad_timestamp", f"{field} must be epoch milliseconds or RFC 3339 text")
