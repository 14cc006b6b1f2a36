"""The dead-letter record: a refused message with its reason, for an operator to inspect."""

from __future__ import annotations

import base64

import orjson

MAX_ECHO_BYTES = 4096  # enough to see what was wrong, small enough not to amplify a flood


def dead_letter_body(
    reason: str, detail: str, topic: str, payload: bytes, received_ms: int
) -> bytes:
    """JSON body published on the park's dead-letter topic."""
    echo = payload[:MAX_ECHO_BYTES]
    body: dict[str, object] = {
        "reason": reason,
        "detail": detail,
        "topic": topic,
        "received_ms": received_ms,
        "payload_bytes": len(payload),
        "truncated": len(payload) > MAX_ECHO_BYTES,
    }
    try:
        body["payload"] = echo.decode("utf-8")
    except UnicodeDecodeError:
        body["payload_base64"] = base64.b64encode(echo).decode("ascii")
    return orjson.dumps(body)
