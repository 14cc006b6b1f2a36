"""SenML (RFC 8428) JSON, accepted as a second telemetry format.

A record's name (base name + name) ends in a quantity's base, and its unit picks the suffix:
``{"n": "power", "u": "W", "v": 1500}`` is ``power_kw = 1.5``. Units are SenML's
(RFC 8428 and the RFC 8798 secondary units). Relative times (under 2**28 s) are refused,
because they depend on the receiver's clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from parktwin.contract.reading import PayloadError, Reading
from parktwin.contract.values import check_value

# SenML unit -> (our unit suffix, factor into that unit)
UNITS: dict[str, tuple[str, float]] = {
    "kWh": ("kwh", 1.0),
    "Wh": ("kwh", 1e-3),
    "kW": ("kw", 1.0),
    "W": ("kw", 1e-3),
    "J": ("gj", 1e-9),
    "m3": ("m3", 1.0),
    "l": ("m3", 1e-3),
    "m3/s": ("m3_h", 3600.0),
    "kg": ("kg", 1.0),
    "g": ("kg", 1e-3),
    "kg/h": ("kg_h", 1.0),
    "%": ("pct", 1.0),
    "%RH": ("pct", 1.0),
    "Cel": ("c", 1.0),
    "ppm": ("ppm", 1.0),
    "count": ("persons", 1.0),
    "mg/m3": ("mg_m3", 1.0),
}

RELATIVE_TIME_LIMIT_S = 2**28  # RFC 8428 section 4.5.3


def _quantity_name(full_name: str, unit: object) -> tuple[str, float]:
    base = full_name.replace(":", "/").rsplit("/", 1)[-1]
    if unit is None:
        return base, 1.0
    # A unit that is not text (a number, a list) is as unknown as a misspelt one.
    if not isinstance(unit, str) or unit not in UNITS:
        raise PayloadError("unknown_unit", f"SenML unit {str(unit)[:20]!r} is not accepted")
    suffix, factor = UNITS[unit]
    return f"{base}_{suffix}", factor


def _number(record: dict[str, object], key: str, default: float) -> float:
    value = record.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PayloadError("bad_schema", f"SenML field {key} must be a finite number")
    return float(value)


def decode_senml(device_id: str, records: Iterable[object]) -> list[Reading]:
    """Readings from a SenML pack, one per distinct record time."""
    base_name, base_time, base_unit = "", 0.0, None
    by_time: dict[int, dict[str, float]] = {}
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise PayloadError("bad_schema", f"SenML record {index} is not an object")
        if "bn" in record:
            base_name = str(record["bn"])
        if "bt" in record:
            base_time = _number(record, "bt", 0.0)
        if "bu" in record:
            base_unit = str(record["bu"])
        if "v" not in record:
            if "n" in record or any(k in record for k in ("vs", "vb", "vd", "s")):
                raise PayloadError("bad_schema", f"SenML record {index} has no numeric v")
            continue  # a record holding only base fields
        time_s = base_time + _number(record, "t", 0.0)
        if abs(time_s) < RELATIVE_TIME_LIMIT_S:
            raise PayloadError("bad_timestamp", "SenML relative times are not accepted")
        if not math.isfinite(time_s * 1000):
            # bt + t, each finite, can still overflow; an infinite time has no millisecond.
            raise PayloadError("bad_timestamp", "SenML time is not finite")
        unit = record.get("u", base_unit)
        name, factor = _quantity_name(base_name + str(record.get("n", "")), unit)
        value = check_value(name, _number(record, "v", 0.0) * factor)
        by_time.setdefault(round(time_s * 1000), {})[name] = value
    if not by_time:
        raise PayloadError("bad_schema", "SenML pack holds no values")
    return [Reading(device_id, ts_ms, values) for ts_ms, values in sorted(by_time.items())]
