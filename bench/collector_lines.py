"""The collector's own work on each message, in one process, without broker or database: from
a delivered message (topic, payload) to its line of line protocol, its acknowledgement id and
its sequence number. Two ways, taking turns in each round, in the same run:

- **general** path: ``MessageRouter.readings`` (decode, check against the park), then
  ``tagging.render``, then ``SequenceGaps.observe`` (what every message went through before
  issue #20);
- **shortcut**: ``NativeLines.take_run`` over the burst (collectors/native_lines.py).

Before timing it checks that both give the same lines. Prints CPU µs a message (best of the
rounds, ``time.process_time``) and the general path's time over the shortcut's.

    .venv/bin/python bench/collector_lines.py [--messages 100000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_park import write_park_file
from load import backlog

from collectors.native_lines import NativeLines
from collectors.routing import MessageRouter
from collectors.tagging import render, series_keys
from parktwin.config import CollectorSettings
from parktwin.contract.reading import PayloadError
from parktwin.sequence import SequenceGaps
from parktwin.validation import Limits
from parktwin.wire.inbound import Message

DEVICES = 10_000


def general(
    router: MessageRouter, keys: dict[str, str], arrival_keys: dict[str, str]
) -> Callable[[list[Message], int], list[str]]:
    def run(messages: list[Message], now_ms: int) -> list[str]:
        sequences, lines, acks = SequenceGaps(), [], []
        refused: list[PayloadError] = []
        for message in messages:
            readings = router.readings(message.topic, message.payload, now_ms, refused)
            lines.extend(render(keys, readings, arrival_keys))
            sequences.observe(readings)
            router.session_events()
            if message.qos:
                acks.append(message.mid)
        return lines

    return run


def shortcut(native: NativeLines) -> Callable[[list[Message], int], list[str]]:
    def run(messages: list[Message], now_ms: int) -> list[str]:
        sequences, lines, acks = SequenceGaps(), [], []
        index = 0
        while index < len(messages):
            taken_to, _ = native.take_run(messages, index, 5000, now_ms, lines, acks, sequences)
            if taken_to == index:
                raise RuntimeError(f"message {index} left the shortcut")
            index = taken_to
        return lines

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        park = write_park_file(Path(folder) / "park.yaml", DEVICES)
    devices = [d.id for d in park.devices if d.kind.value == "sub_meter"]
    base_ms = int(time.time() * 1000) - 3_600_000
    messages = [
        Message(topic, payload, 1, k % 65535 + 1, False)
        for k, (topic, payload) in enumerate(backlog(park.park.id, devices, args.messages, base_ms))
    ]
    limits = Limits.from_settings(CollectorSettings())
    keys = series_keys(park)
    ways = {
        "general": general(MessageRouter(park, limits), keys, series_keys(park, {"x": "y"})),
        "shortcut": shortcut(NativeLines(park, limits, keys)),
    }
    now_ms = int(time.time() * 1000)
    if ways["general"](messages, now_ms) != ways["shortcut"](messages, now_ms):
        raise SystemExit("the shortcut's lines differ from the general path's")
    best = dict.fromkeys(ways, float("inf"))
    for _ in range(args.rounds):
        for name, way in ways.items():
            started = time.process_time()
            way(messages, now_ms)
            best[name] = min(best[name], (time.process_time() - started) / len(messages) * 1e6)
    print(f"{len(messages):,} messages, best of {args.rounds}, load {os.getloadavg()[0]:.1f}")
    for name, us in best.items():
        print(f"{name:>9}: {us:5.2f} CPU µs a message")
    print(f"general / shortcut: {best['general'] / best['shortcut']:.2f}x")


if __name__ == "__main__":
    main()
