"""Grafana's expansion of an InfluxQL query: ``$timeFilter``, ``$__interval`` and template
variables, formatted as Grafana's InfluxDB datasource does, so queries can be run outside it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ALL = "$__all"
# Grafana rounds the raw interval (range ÷ max data points) to one of these (ms).
NICE_INTERVALS_MS = (
    1_000, 5_000, 10_000, 15_000, 20_000, 30_000, 60_000, 300_000, 600_000, 900_000, 1_800_000,
    3_600_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, 604_800_000,
)  # fmt: skip
VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]")
REGEX_SPECIAL = re.compile(r"[\\^$*+?.()|\[\]{}/]")


@dataclass(frozen=True)
class TimeRange:
    """The dashboard's time range in epoch milliseconds."""

    from_ms: int
    to_ms: int


def escape_regex(value: str) -> str:
    """Grafana's escapeRegex: backslash before every regex metacharacter (and ``/``)."""
    return REGEX_SPECIAL.sub(lambda m: "\\" + m.group(0), value)


def interval_ms(time_range: TimeRange, max_data_points: int = 1000, min_ms: int = 60_000) -> int:
    """``$__interval`` in ms: the range over the panel's points, rounded up, at least ``min_ms``."""
    raw = (time_range.to_ms - time_range.from_ms) / max_data_points
    nice = next((n for n in NICE_INTERVALS_MS if n >= raw), NICE_INTERVALS_MS[-1])
    return max(nice, min_ms)


def format_interval(ms: int) -> str:
    """An InfluxQL duration: 60000 → ``1m``."""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def format_value(value: str | Sequence[str], variable: Mapping[str, Any], in_regex: bool) -> str:
    """A variable's value as the InfluxDB datasource's interpolateQueryExpr writes it."""
    if value == ALL or value == [ALL]:
        if variable.get("allValue"):
            return str(variable["allValue"])  # a custom all value is inserted as is
        value = [o["value"] for o in variable.get("options", []) if o["value"] != ALL]
    if isinstance(value, str) and _is_number(value):
        return value
    if variable.get("multi") or variable.get("includeAll"):
        values = [value] if isinstance(value, str) else list(value)
        escaped = [escape_regex(v) for v in values]
        return escaped[0] if len(escaped) == 1 else f"({'|'.join(escaped)})"
    text = value if isinstance(value, str) else ",".join(value)
    return escape_regex(text) if in_regex else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def expand(
    query: str,
    variables: Mapping[str, Mapping[str, Any]],
    values: Mapping[str, str | Sequence[str]],
    time_range: TimeRange,
    max_data_points: int = 1000,
) -> str:
    """The query Grafana sends to InfluxDB for these variable values and this time range.

    ``variables`` are the dashboard's templating entries by name; ``values`` the selected values
    (``"$__all"`` for All). An unknown variable is left as it is, as Grafana leaves it.
    """
    step = interval_ms(time_range, max_data_points)
    builtins = {
        "timeFilter": f"time >= {time_range.from_ms}ms and time <= {time_range.to_ms}ms",
        "__interval": format_interval(step),
        "__interval_ms": str(step),
        "__from": str(time_range.from_ms),
        "__to": str(time_range.to_ms),
    }

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        if name in builtins:
            return builtins[name]
        if name not in variables or name not in values:
            return match.group(0)
        before = query[: match.start()]
        in_regex = before.rstrip("^(").endswith("/") and "=~" in before[-80:]
        return format_value(values[name], variables[name], in_regex)

    return VARIABLE.sub(substitute, query)
