"""A stable name for one alert: the same rule on the same place is the same alert, in every
run, replay and restart, so a receiver can group its firing and its resolution."""

from __future__ import annotations

import hashlib


def fingerprint(park_id: str, rule: str, place: str) -> str:
    """16 hex digits of SHA-256 over park, alert name and place (``park``, ``building:ID``...)."""
    digest = hashlib.sha256(f"{park_id}\x1f{rule}\x1f{place}".encode()).hexdigest()
    return digest[:16]


def idempotency_key(fingerprint_: str, since_ms: int, state: str) -> str:
    """One key per episode and state: a redelivered message carries the same key, so a
    receiver that has seen it can drop the copy."""
    return f"{fingerprint_}-{since_ms}-{state}"
