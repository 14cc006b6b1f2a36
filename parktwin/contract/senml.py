"""SenML (RFC 8428) JSON, accepted as a second telemetry format.

Two steps. ``resolve`` reads a pack as RFC 8428 section 4 says: base fields (``bn``, ``bt``,
``bu``, ``bv``, ``bs``, ``bver``) apply to their record and every later one until changed;
resolved name = base name + name, time = base time + time, unit = unit or base unit, value =
base value + value (numeric ``v`` only), sum = base sum + sum (records with ``s`` only); a field
whose label ends in ``_`` must be understood, and none is, so such a pack is refused (4.4); a
version above 10 is refused (4.4); names are checked against 4.5.1's character set.

``decode_senml`` then makes the resolved records into contract readings. A record's name ends in
a quantity's base, and its unit picks the suffix: ``{"n": "power", "u": "W", "v": 1500}`` is
``power_kw = 1.5``. Units are SenML's (RFC 8428 and the RFC 8798 secondary units). What the
contract does not store is refused with a reason: relative times (under 2**28 s, they depend on
the receiver's clock), sums, string, boolean and data values, and two records that resolve to
the same quantity and time with different values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

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
SENML_VERSION = 10  # RFC 8428 section 4.1: bver defaults to 10, the version it defines
# RFC 8428 section 4.5.1: the resolved name's characters, starting with a letter or digit.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9:./_-]*\Z")
VALUE_FIELDS = ("v", "vs", "vb", "vd")
_TEXT_FIELDS = ("bn", "n", "vs", "vd")
_NUMBER_FIELDS = ("bt", "bv", "bs", "v", "s", "t", "ut")


@dataclass(frozen=True, slots=True)
class ResolvedRecord:
    """A record with its base fields applied (RFC 8428 section 4.6). ``time_s`` may still be
    relative (below 2**28): resolving it needs the receiver's clock, which the contract refuses
    to use. ``value_field`` names the value's kind (``v``, ``vs``, ``vb``, ``vd``) or is None
    for a record holding only a sum."""

    name: str
    time_s: float
    unit: str | None
    value: float | str | bool | None
    value_field: str | None
    sum: float | None
    update_time_s: float | None
    version: int


def _check_types(record: dict[str, object], index: int) -> None:
    for key in _TEXT_FIELDS:
        if key in record and not isinstance(record[key], str):
            raise PayloadError("bad_schema", f"SenML record {index}: {key} must be text")
    for key in _NUMBER_FIELDS:
        if key in record:
            value = record[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PayloadError("bad_schema", f"SenML record {index}: {key} must be a number")
            if not math.isfinite(value):
                raise PayloadError("bad_schema", f"SenML field {key} must be a finite number")
    for key in ("u", "bu"):
        # A unit that is not text (a number, a list) is as unknown as a misspelt one.
        if key in record and not isinstance(record[key], str):
            unit = str(record[key])[:20]
            raise PayloadError("unknown_unit", f"SenML unit {unit!r} is not accepted")
    if "vb" in record and not isinstance(record["vb"], bool):
        raise PayloadError("bad_schema", f"SenML record {index}: vb must be true or false")


def _version(record: dict[str, object], index: int, current: int | None) -> int | None:
    if "bver" not in record:
        return current
    bver = record["bver"]
    if isinstance(bver, bool) or not isinstance(bver, int) or bver < 1:
        raise PayloadError("bad_version", f"SenML record {index}: bver must be a positive integer")
    if bver > SENML_VERSION:
        raise PayloadError(
            "bad_version", f"SenML version {bver} is newer than {SENML_VERSION}, the one read here"
        )
    if current is not None and bver != current:
        # RFC 8428 section 4.4: every record of a pack has the same version.
        raise PayloadError("bad_version", f"SenML record {index}: bver {bver} after {current}")
    return bver


def resolve(pack: Iterable[object]) -> list[ResolvedRecord]:
    """The resolved records of a SenML pack (RFC 8428 section 4), or PayloadError.

    A record holding only base fields (and no name, unit, time or value) resolves to nothing.
    """
    base_name, base_time, base_unit = "", 0.0, None
    base_value, base_sum = 0.0, 0.0
    version: int | None = None
    resolved: list[ResolvedRecord] = []
    for index, record in enumerate(pack):
        if not isinstance(record, dict):
            raise PayloadError("bad_schema", f"SenML record {index} is not an object")
        for key in record:
            if isinstance(key, str) and key.endswith("_"):
                raise PayloadError(
                    "senml_unsupported",
                    f"SenML record {index} has a must-understand field {key[:20]!r} (RFC 8428 4.4)",
                )
        _check_types(record, index)
        version = _version(record, index, version)
        if "bn" in record:
            base_name = str(record["bn"])
        if "bt" in record:
            base_time = float(record["bt"])
        if "bu" in record:
            base_unit = str(record["bu"])
        if "bv" in record:
            base_value = float(record["bv"])
        if "bs" in record:
            base_sum = float(record["bs"])
        fields = [key for key in VALUE_FIELDS if key in record]
        if len(fields) > 1:
            raise PayloadError(
                "bad_schema", f"SenML record {index} has {' and '.join(fields)}: one value at most"
            )
        has_sum = "s" in record
        if not fields and not has_sum:
            if any(key in record for key in ("n", "u", "t", "ut")):
                raise PayloadError("bad_schema", f"SenML record {index} has no value")
            continue  # a record holding only base fields
        name = base_name + str(record.get("n", ""))
        if not NAME.match(name):
            raise PayloadError(
                "bad_schema",
                f"SenML record {index}: name {name[:60]!r} is empty or has characters "
                "RFC 8428 4.5.1 does not allow",
            )
        time_s = base_time + float(record.get("t", 0.0))
        if not math.isfinite(time_s * 1000):
            # bt + t, each finite, can still overflow; an infinite time has no millisecond.
            raise PayloadError("bad_timestamp", "SenML time is not finite")
        field = fields[0] if fields else None
        value: float | str | bool | None = record[field] if field else None
        if field == "v":
            value = base_value + float(record["v"])
            if not math.isfinite(value):
                raise PayloadError("bad_value", f"SenML record {index}: bv + v is not finite")
        total = base_sum + float(record["s"]) if has_sum else None
        update = record.get("ut")
        resolved.append(
            ResolvedRecord(
                name,
                time_s,
                str(record["u"]) if "u" in record else base_unit,
                value,
                field,
                total,
                None if update is None else float(update),
                version or SENML_VERSION,
            )
        )
    return resolved


def _quantity_name(full_name: str, unit: object) -> tuple[str, float]:
    base = full_name.replace(":", "/").rsplit("/", 1)[-1]
    if unit is None:
        return base, 1.0
    if unit not in UNITS:
        raise PayloadError("unknown_unit", f"SenML unit {str(unit)[:20]!r} is not accepted")
    suffix, factor = UNITS[str(unit)]
    return f"{base}_{suffix}", factor


def decode_senml(device_id: str, records: Iterable[object]) -> list[Reading]:
    """Readings from a SenML pack, one per distinct record time."""
    by_time: dict[int, dict[str, float]] = {}
    for record in resolve(records):
        if record.sum is not None:
            raise PayloadError("senml_unsupported", "SenML sums (s, bs) are not stored")
        if record.value_field != "v":
            raise PayloadError(
                "bad_schema", f"SenML {record.value_field} values are not accepted: numeric v only"
            )
        if abs(record.time_s) < RELATIVE_TIME_LIMIT_S:
            raise PayloadError("bad_timestamp", "SenML relative times are not accepted")
        name, factor = _quantity_name(record.name, record.unit)
        assert isinstance(record.value, float)  # value_field "v": resolve made it a float
        value = check_value(name, record.value * factor)
        values = by_time.setdefault(round(record.time_s * 1000), {})
        earlier = values.setdefault(name, value)
        if earlier != value:
            raise PayloadError(
                "conflicting_values",
                f"two SenML records give {name} at one time: {earlier:g} and {value:g}",
            )
    if not by_time:
        raise PayloadError("bad_schema", "SenML pack holds no values")
    return [Reading(device_id, ts_ms, values) for ts_ms, values in sorted(by_time.items())]
