"""The Sparkplug B protobuf payload: decoding, metric values, and the rebirth command."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import DecodeError

from parktwin.contract.reading import PayloadError
from parktwin.sparkplug_schema import payload_class

REBIRTH_METRIC = "Node Control/Rebirth"  # Sparkplug 3.0: a Boolean written true in an NCMD
FLOAT, DOUBLE, BOOLEAN = 9, 10, 11

# Sparkplug data types (Sparkplug 3.0, the payload chapter's DataType) whose values are numbers,
# and the width of the signed ones: Sparkplug 3.0 carries signed integers as two's complement in
# unsigned fields.
SIGNED_BITS = {1: 8, 2: 16, 3: 32, 4: 64}
UNSIGNED = {5, 6, 7, 8}
FLOATS = {9, 10}
NUMERIC = set(SIGNED_BITS) | UNSIGNED | FLOATS


def decode_payload(data: bytes) -> Any:
    """A Sparkplug payload, or PayloadError ``sparkplug_bad_protobuf`` (truncated, garbage)."""
    message = payload_class()()
    try:
        message.ParseFromString(data)
    except DecodeError as exc:
        raise PayloadError("sparkplug_bad_protobuf", f"not a Sparkplug B payload: {exc}") from None
    return message


def metric_number(metric: Any, datatype: int) -> float | None:
    """A metric's value as a number, by its data type; None when it is null or not a number.

    The same as ``member_number``; a Double or Float metric's non-zero value is read without
    asking which member of the value oneof was sent (only that member can be non-zero).
    """
    if metric.is_null or datatype not in NUMERIC:
        return None
    if datatype == DOUBLE:
        double: float = metric.double_value
        if double:
            return double
    elif datatype == FLOAT:
        single: float = metric.float_value
        if single:
            return single
    return member_number(metric, datatype)


def member_number(metric: Any, datatype: int) -> float | None:
    """A metric's value as a number from whichever member of its value oneof was sent; None
    when it is null or not a number (the general path of ``metric_number``)."""
    if metric.is_null or datatype not in NUMERIC:
        return None
    field = metric.WhichOneof("value")
    if field is None:
        return None
    raw = getattr(metric, field)
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    if datatype in SIGNED_BITS and isinstance(raw, int):
        # Encoders differ on the width of the unsigned field (the type's own or 32 bits).
        for bits in sorted({SIGNED_BITS[datatype], 32 if datatype < 4 else 64}):
            if raw < 2**bits:
                return float(raw - 2**bits if raw >= 2 ** (bits - 1) else raw)
    return float(raw)


def rebirth_command(timestamp_ms: int) -> bytes:
    """The NCMD payload asking an edge node to publish its births again."""
    message = payload_class()()
    message.timestamp = timestamp_ms
    metric = message.metrics.add()
    metric.name = REBIRTH_METRIC
    metric.timestamp = timestamp_ms
    metric.datatype = BOOLEAN
    metric.boolean_value = True
    return bytes(message.SerializeToString())
