"""A durable outbox: one file per delivery, written atomically, removed once delivered.

An alert enqueued here survives a crash or a restart and is delivered at least once: the file
goes only after the receiver has taken it. Each target (a receiver, or InfluxDB) has its own
folder; file names sort in the order the alerts changed, so each target gets them in order.
Deliveries that can never succeed (refused, or too old) move to ``failed/`` to be looked at.

All methods do blocking file I/O: call them through ``asyncio.to_thread``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from parktwin.atomic import atomic_write

FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message for one target."""

    path: Path
    target: str
    key: str  # the idempotency key
    created_s: float  # wall clock when enqueued, for giving up after a while
    payload: dict[str, Any]


class Outbox:
    """Deliveries waiting, as files under ``folder/<target>/``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, target: str, payload: dict[str, Any], created_s: float) -> Path:
        """Store one delivery durably; the same alert change for the same target is one file."""
        key = str(payload["idempotency_key"])
        name = f"{int(payload['at_ms']):013d}-{key}.json"
        path = self.folder / target / name
        record = {"target": target, "key": key, "created_s": created_s, "payload": payload}
        atomic_write(path, orjson.dumps(record))
        return path

    def pending(self, target: str) -> list[Delivery]:
        """The target's deliveries, oldest change first (unreadable files move to failed/)."""
        folder = self.folder / target
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(".json"))
        except FileNotFoundError:
            return []
        out = []
        for name in names:
            path = folder / name
            try:
                record = orjson.loads(path.read_bytes())
                out.append(
                    Delivery(path, target, record["key"], record["created_s"], record["payload"])
                )
            except FileNotFoundError:
                continue
            except (orjson.JSONDecodeError, KeyError, TypeError):
                self._set_aside(path)
        return out

    def done(self, delivery: Delivery) -> None:
        """The receiver took it: forget it."""
        delivery.path.unlink(missing_ok=True)

    def fail(self, delivery: Delivery) -> None:
        """It can never be delivered: keep it apart, for an operator to look at."""
        self._set_aside(delivery.path)

    def _set_aside(self, path: Path) -> None:
        failed = path.parent / FAILED
        failed.mkdir(parents=True, exist_ok=True)
        os.replace(path, failed / path.name)

    def count(self, target: str) -> int:
        """Deliveries waiting for one target."""
        try:
            return sum(1 for n in os.listdir(self.folder / target) if n.endswith(".json"))
        except FileNotFoundError:
            return 0
