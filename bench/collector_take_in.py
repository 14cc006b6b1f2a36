"""The collector's own work on native, mapped (Tasmota) and Sparkplug B messages, in one
process, without broker or database: ``Collector._take_in`` over bursts of delivered messages
(decode or map, check, tag, render, acknowledgement ids, sequence numbers), as the backlog
drain of ``run_all.py --mapped-only`` feeds it, but without MQTT decoding and the write.

The park is the drain's: 10,000 sub-meters, each also a Tasmota plug and a Sparkplug device
(100 behind each edge node); the Sparkplug births are taken first. Each round times the
kinds in turns (the order rotates), in CPU time of this process (``time.process_time``), and
prints CPU µs a message and the ratios mapped / native and Sparkplug / native (issue #15's bar:
at most 2x), and Sparkplug once more with the host's shortcut off (``SparkplugHost.shortcuts``:
its general path, for the shortcut's gain in the same run); the medians of the rounds are
printed last.

    .venv/bin/python bench/collector_take_in.py [--messages 50000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench_park import write_park_file
from load import backlog, tasmota_backlog
from sparkplug_load import sparkplug_backlog

from collectors.service import Collector, PendingLines
from parktwin.config import Settings
from parktwin.park.model import Park
from parktwin.wire.inbound import Message

DEVICES = 10_000
BURST = 500  # messages a read hands the collector, about what a loaded drain reads at once


def delivered(pairs: list[tuple[str, bytes]]) -> list[Message]:
    return [Message(t, p, 1, k % 65535 + 1, False) for k, (t, p) in enumerate(pairs)]


async def cpu_us(
    park: Park, births: list[Message], messages: list[Message], now_ms: int, shortcuts: bool = True
) -> float:
    """CPU µs a message of a fresh collector taking ``messages`` in (after ``births``);
    ``shortcuts=False`` turns the Sparkplug host's shortcut off (its general path)."""
    collector = Collector(park, Settings())
    if collector.router.sparkplug is not None:
        collector.router.sparkplug.shortcuts = shortcuts
    pending: asyncio.Queue[PendingLines | None] = asyncio.Queue()
    await collector._take_in(births, 0, now_ms, pending)
    collector._take_batch(0)  # the births' readings: not counted
    pending = asyncio.Queue()
    gc.collect()
    started = time.process_time()
    for i in range(0, len(messages), BURST):
        await collector._take_in(messages[i : i + BURST], 0, now_ms, pending)
    spent = time.process_time() - started
    lines = sum(len(b.lines) for b in pending._queue if b is not None)  # type: ignore[attr-defined]
    lines += len(collector._batch.lines)
    if lines != len(messages):
        raise SystemExit(f"{lines} lines for {len(messages)} messages")
    return spent / len(messages) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        park = write_park_file(Path(folder) / "park.yaml", DEVICES, mapped=True, sparkplug=True)
    devices = [d.id for d in park.devices if d.kind.value == "sub_meter"]
    n = args.messages
    base_ms = int(time.time() * 1000) - 3_600_000
    now_ms = base_ms + 3_600_000
    spb = sparkplug_backlog(park, devices, n, base_ms)
    kinds = {
        "native": delivered(backlog(park.park.id, devices, n, base_ms)),
        "mapped": delivered(tasmota_backlog(devices, n, base_ms)[0]),
        "sparkplug": delivered(spb.data),
        "sparkplug-general": delivered(spb.data),
    }
    births = delivered(spb.births)
    mapped_ratios, spb_ratios, general_ratios = [], [], []
    for round_ in range(args.rounds):
        order = list(kinds)[round_ % 4 :] + list(kinds)[: round_ % 4]
        us = {
            k: asyncio.run(cpu_us(park, births, kinds[k], now_ms, k != "sparkplug-general"))
            for k in order
        }
        mapped_ratios.append(us["mapped"] / us["native"])
        spb_ratios.append(us["sparkplug"] / us["native"])
        general_ratios.append(us["sparkplug-general"] / us["native"])
        print(
            f"native {us['native']:.2f}, mapped {us['mapped']:.2f}, Sparkplug "
            f"{us['sparkplug']:.2f} (general path {us['sparkplug-general']:.2f}) CPU µs a "
            f"message: mapped/native {mapped_ratios[-1]:.2f}x, Sparkplug/native "
            f"{spb_ratios[-1]:.2f}x (general path {general_ratios[-1]:.2f}x) "
            f"(load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    print(
        f"median of {args.rounds} rounds: mapped/native {statistics.median(mapped_ratios):.2f}x, "
        f"Sparkplug/native {statistics.median(spb_ratios):.2f}x (general path "
        f"{statistics.median(general_ratios):.2f}x)"
    )


if __name__ == "__main__":
    main()
