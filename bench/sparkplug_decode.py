"""Sparkplug B decoding against native telemetry, same run, same readings.

A park of ``--devices`` sub-meters, each also a Sparkplug B device behind an edge node (100 a
node, as in the backlog drain of ``run_all.py``); the edge nodes' births are taken first, then
N DDATA messages, round-robin over the devices, each carrying energy and power by alias (as
Sparkplug data does). The same readings as native ``parktwin/1`` JSON are the baseline. Timed
per message: ``SparkplugHost.handle`` (protobuf, births, aliases, seq, the native checks)
against ``validate_message`` (JSON, the same checks). Decoding only: rendering and writing cost
the same for both. Each round times both, in turns (which goes first alternates), in CPU time
of this process (``time.process_time``), so that other work on the machine moves the ratio less
than the wall clock would; the median ratio is printed last. More devices mean more state that
every message reads (the host's sessions and births, the park's devices): compare
``--devices 1`` with ``--devices 10000``.

Run: ``.venv/bin/python bench/sparkplug_decode.py [--messages N] [--repeat R] [--devices D]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench_park import write_park_file
from load import backlog
from sparkplug_load import sparkplug_backlog

from collectors.sparkplug.host import SparkplugHost
from parktwin.validation import Limits, validate_message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--devices", type=int, default=1, help="Sparkplug sub-meters")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="parktwin-spb-") as folder:
        park = write_park_file(Path(folder) / "park.yaml", args.devices + 1, sparkplug=True)
    devices = [d.id for d in park.devices if d.kind.value == "sub_meter"]
    n = args.messages
    base_ms = int(time.time() * 1000) - 3_600_000
    arrival_ms = base_ms + 3_600_000
    limits = Limits(65_536, 0, 10**12)
    load = sparkplug_backlog(park, devices, n, base_ms)
    native = backlog(park.park.id, devices, n, base_ms)

    def time_sparkplug() -> float:
        host = SparkplugHost(park, limits)
        for topic, payload in load.births:
            host.handle(topic, payload, arrival_ms)
        taken = 0
        started = time.process_time()
        for topic, payload in load.data:
            taken += len(host.handle(topic, payload, arrival_ms).readings)
        spent = time.process_time() - started
        assert taken == n
        return spent

    def time_native() -> float:
        started = time.process_time()
        for topic, payload in native:
            validate_message(park, limits, topic, payload, arrival_ms)
        return time.process_time() - started

    ratios = []
    for round_ in range(args.repeat):
        if round_ % 2:
            native_s, spb_s = time_native(), time_sparkplug()
        else:
            spb_s, native_s = time_sparkplug(), time_native()
        ratios.append(spb_s / native_s)
        print(
            f"{len(devices)} devices: sparkplug {spb_s / n * 1e6:.1f} us/message, native "
            f"{native_s / n * 1e6:.1f} us/message: {spb_s / native_s:.2f}x CPU "
            f"(load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    print(f"median of {len(ratios)} rounds: {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
