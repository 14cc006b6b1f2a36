"""InfluxDB line protocol encoding: series keys, field sets and whole lines.

Escaping follows the line protocol reference: a backslash escapes comma and space in the
measurement; comma, equals sign and space in tag keys, tag values and field keys; double quote
and backslash inside string field values. Some text has no exact encoding, and is refused with
``ValueError`` rather than stored as something else:

* a newline (or carriage return) anywhere: it ends the line;
* in names and tag values, a backslash at the end or before a backslash, comma, space or
  equals sign: InfluxDB 1.x/2.x keep such a backslash literally where VictoriaMetrics and
  InfluxDB 3 read it as an escape, and a trailing one swallows the separator after it;
* a measurement or field key starting with a tab or NUL: InfluxDB 1.x skips them as blanks;
* an empty measurement, tag key or field key, a measurement starting with ``#`` (a comment
  line), a float that is NaN or infinite, an integer outside int64.

Tags with an empty value are left out, since InfluxDB refuses them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

_MEASUREMENT_ESCAPES = str.maketrans({",": "\\,", " ": "\\ "})
_KEY_ESCAPES = str.maketrans({",": "\\,", "=": "\\=", " ": "\\ "})
_STRING_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"'})
# Text of names and tag values that the servers would not read back as written.
_UNREPRESENTABLE = re.compile(r"[\n\r]|\\(?:[\\, =]|\Z)")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _check_name(text: str, what: str, *, after_blank: bool = False) -> None:
    if not text:
        raise ValueError(f"line protocol: empty {what}")
    if after_blank and text[0] in "\t\0":
        raise ValueError(f"line protocol: {what} {text!r} starts with a blank InfluxDB skips")
    match = _UNREPRESENTABLE.search(text)
    if match is not None:
        reason = "a line break" if match.group()[0] != "\\" else "an ambiguous backslash"
        raise ValueError(f"line protocol: {what} {text!r} contains {reason}")


def escape_measurement(measurement: str) -> str:
    """The measurement as written in a line; ``ValueError`` if it has no exact encoding."""
    _check_name(measurement, "measurement", after_blank=True)
    if measurement[0] == "#":
        raise ValueError(f"line protocol: measurement {measurement!r} would read as a comment")
    return measurement.translate(_MEASUREMENT_ESCAPES)


def escape_tag(text: str, what: str = "tag") -> str:
    """A tag key or tag value as written in a line; ``ValueError`` if it has no exact encoding."""
    if text.isidentifier():  # the common case: nothing to escape or refuse
        return text
    _check_name(text, what)
    return text.translate(_KEY_ESCAPES)


def escape_field_key(text: str) -> str:
    """A field key as written in a line; ``ValueError`` if it has no exact encoding."""
    if text.isidentifier():
        return text
    _check_name(text, "field key", after_blank=True)
    return text.translate(_KEY_ESCAPES)


def series_key(measurement: str, tags: Mapping[str, str]) -> str:
    """``measurement,k1=v1,k2=v2``: tags sorted by key, tags with empty values left out.

    Callers cache the result per series: this validates and escapes every name.
    """
    parts = [escape_measurement(measurement)]
    for key in sorted(tags):
        value = tags[key]
        if value == "":
            continue
        parts.append(f"{escape_tag(key, 'tag key')}={escape_tag(value, 'tag value')}")
    return ",".join(parts)


def format_string_field(value: str) -> str:
    """A string field value, quoted and escaped; ``ValueError`` on a line break."""
    if "\n" in value or "\r" in value:
        raise ValueError(f"line protocol: string field {value!r} contains a line break")
    if "\\" in value or '"' in value:
        value = value.translate(_STRING_ESCAPES)
    return f'"{value}"'


def _format_value(value: float | int | bool | str) -> str:
    kind = type(value)
    # Exact-type checks first: they are the hot path and keep bool apart from int.
    if kind is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise ValueError(f"line protocol: float field {value!r} is not finite")
        return repr(value)  # the shortest text that parses back to the same float
    if kind is int:
        if not _INT64_MIN <= value <= _INT64_MAX:  # type: ignore[operator]
            raise ValueError(f"line protocol: integer field {value!r} is outside int64")
        return f"{value}i"
    if kind is str:
        return format_string_field(value)  # type: ignore[arg-type]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):  # e.g. numpy.float64, whose repr() is not plain
        return _format_value(float(value))
    if isinstance(value, int):  # e.g. an IntEnum
        return _format_value(int(value))
    if isinstance(value, str):
        return format_string_field(str(value))
    raise TypeError(f"line protocol: unsupported field value type {kind.__name__}")


def format_fields(fields: Mapping[str, float | int | bool | str]) -> str:
    """``k1=1.5,k2=3i,k3=true,k4="text"`` in the mapping's order; ``ValueError`` if empty."""
    if not fields:
        raise ValueError("line protocol: a point needs at least one field")
    # A list, not a generator: join() builds one anyway, and this skips the generator frames.
    return ",".join([f"{escape_field_key(k)}={_format_value(v)}" for k, v in fields.items()])


def line(series_key: str, fields_text: str, ts_ms: int) -> str:
    """One point: series key, field set and a millisecond timestamp (no trailing newline)."""
    return f"{series_key} {fields_text} {ts_ms}"
