"""What refusing repeated JSON keys costs the collector's validation, per message.

orjson keeps the last of repeated keys silently; ``parktwin.contract.payload`` counts the
payload's colons against the keys decoded (one ``bytes.count``) and parses again with the
standard library only when they differ. This measures ``validate_message``, the collector's and
the twin's whole per-message check, on the ingest benchmark's payloads (integer ``ts``, the
simulator's shape) and on RFC 3339 ``ts`` payloads (colons in a string: the slow path), with the
check and with it switched off, in alternating rounds of the same run. The ratio is the figure.

    .venv/bin/python bench/duplicate_keys.py --messages 20000 --rounds 5
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime

import orjson
from ingest_rate import BASE_TS_MS, payloads

from parktwin.config import CollectorSettings
from parktwin.contract import payload as payload_module
from parktwin.park.bundled import demo_park_path
from parktwin.park.loader import load_park
from parktwin.validation import Limits, validate_message


def rfc3339(messages: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    out = []
    for topic, data in messages:
        body = orjson.loads(data)
        body["ts"] = datetime.fromtimestamp(body["ts"] / 1000, UTC).isoformat()
        out.append((topic, orjson.dumps(body)))
    return out


def timed(messages: list[tuple[str, bytes]], check: Callable[[bytes, int], None]) -> float:
    park = load_park(demo_park_path())
    limits = Limits.from_settings(CollectorSettings(max_future_s=1e9))
    now_ms = BASE_TS_MS + 10**9
    saved = payload_module.refuse_duplicate_keys
    payload_module.refuse_duplicate_keys = check
    try:
        started = time.perf_counter()
        for topic, data in messages:
            validate_message(park, limits, topic, data, now_ms)
        return time.perf_counter() - started
    finally:
        payload_module.refuse_duplicate_keys = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    park = load_park(demo_park_path())
    plain = payloads(park, args.messages)
    texts = rfc3339(plain)
    check = payload_module.refuse_duplicate_keys

    def off(payload: bytes, pairs: int) -> None:
        return None

    for name, messages in (("integer ts (hot path)", plain), ("RFC 3339 ts (slow path)", texts)):
        with_check, without = [], []
        for _ in range(args.rounds):
            without.append(timed(messages, off))
            with_check.append(timed(messages, check))
        best_on, best_off = min(with_check), min(without)
        per_on = best_on / len(messages) * 1e6
        per_off = best_off / len(messages) * 1e6
        print(
            f"{name}: {per_off:.2f} us/message without the check, {per_on:.2f} with it: "
            f"ratio {best_on / best_off:.3f}"
        )


if __name__ == "__main__":
    main()
