"""Telemetry payload format ``parktwin/1`` (JSON), its encoder and its decoder.

    {"v": 1, "ts": 1767225600000, "seq": 42, "values": {"energy_kwh": 1234.5, "power_kw": 12.3}}

``ts`` is event time (epoch ms, or RFC 3339 text with an offset); ``seq`` is an optional
per-device sequence number; ``values`` maps quantity names (unit in the name) to numbers.
A JSON array is read as SenML (RFC 8428) instead, see :mod:`parktwin.contract.senml`.
"""

from __future__ import annotations

import json

import orjson

from parktwin.contract.reading import PayloadError, Reading
from parktwin.contract.senml import decode_senml
from parktwin.contract.timestamps import parse_ts_ms
from parktwin.contract.values import check_value

VERSION = 1


def encode(reading: Reading) -> bytes:
    """Serialise a reading as a ``parktwin/1`` JSON payload."""
    body: dict[str, object] = {"v": VERSION, "ts": reading.ts_ms, "values": reading.values}
    if reading.seq is not None:
        body["seq"] = reading.seq
    return orjson.dumps(body)


def _refuse_duplicate(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """``object_pairs_hook`` for ``json.loads``: an object whose keys repeat is refused."""
    body = dict(pairs)
    if len(body) != len(pairs):
        seen: set[str] = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise PayloadError("duplicate_key", f"key {key[:60]!r} appears twice in one object")
    return body


def refuse_duplicate_keys(payload: bytes, decoded_pairs: int) -> None:
    """PayloadError when a JSON object in ``payload`` repeats a key.

    orjson keeps the last of repeated keys without a word. Every key of the text is followed by
    one colon outside a string, so a document with as many colons as the objects ``orjson``
    decoded hold keys (``decoded_pairs``, or fewer: a short count is only slower) repeats none:
    the hot path costs one ``bytes.count``. Otherwise (colons in strings, such as RFC 3339 times
    or SenML names, or a repeat) the standard library parses it again and looks.
    """
    if payload.count(b":") == decoded_pairs:
        return
    try:
        json.loads(payload, object_pairs_hook=_refuse_duplicate)
    except PayloadError:
        raise
    except (RecursionError, ValueError) as exc:  # deeper than Python's parser goes
        raise PayloadError("malformed_json", f"not read twice alike: {type(exc).__name__}") from exc


def decode(device_id: str, payload: bytes) -> list[Reading]:
    """Decode a payload (``parktwin/1`` JSON object or SenML array) into readings.

    Raises PayloadError with a reason code; checks that need the park (known device, quantities
    allowed for its kind, time window) are the collector's.
    """
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        reason = "not_utf8" if "utf-8" in str(exc).lower() else "malformed_json"
        raise PayloadError(reason, str(exc)[:120]) from exc
    if isinstance(body, list):
        refuse_duplicate_keys(payload, sum(len(r) for r in body if type(r) is dict))
        return decode_senml(device_id, body)
    if not isinstance(body, dict):
        raise PayloadError("bad_schema", "payload must be a JSON object or a SenML array")
    values = body.get("values")
    # Keys of the top level and of ``values``: all there are in the usual document. An object
    # anywhere else only makes the count short, which sends it to the slow path.
    refuse_duplicate_keys(payload, len(body) + (len(values) if type(values) is dict else 0))
    version = body.get("v", VERSION)
    if type(version) is not int or version != VERSION:
        raise PayloadError("bad_version", f"v={version!r} is not supported (expected {VERSION})")
    if "ts" not in body:
        raise PayloadError("bad_schema", "ts (event time) is missing")
    ts_ms = parse_ts_ms(body["ts"])
    if not isinstance(values, dict) or not values:
        raise PayloadError("bad_schema", "values must be a non-empty object")
    checked = {name: check_value(name, value) for name, value in values.items()}
    seq = body.get("seq")
    if seq is not None and (isinstance(seq, bool) or not isinstance(seq, int)):
        raise PayloadError("bad_schema", "seq must be an integer")
    return [Reading(device_id, ts_ms, checked, seq)]
