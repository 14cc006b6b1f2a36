"""Sparkplug B decoding against native telemetry, same run, same readings.

One Sparkplug device reports energy and power; each of N DDATA messages carries the two
metrics by alias (as Sparkplug data does). The same readings as native ``parktwin/1`` JSON are
the baseline. Timed per message: ``SparkplugHost.handle`` (protobuf, births, aliases, seq, the
native checks) against ``validate_message`` (JSON, the same checks). Decoding only: rendering
and writing cost the same for both. Each round times both, in turns (which goes first
alternates), in CPU time of this process (``time.process_time``), so that other work on the
machine moves the ratio less than the wall clock would; the median ratio is printed last.

Run: ``.venv/bin/python bench/sparkplug_decode.py [--messages N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from collectors.sparkplug.host import SparkplugHost
from parktwin.contract import payload as contract_payload
from parktwin.contract import topics
from parktwin.contract.reading import Reading
from parktwin.park.loader import parse_park
from parktwin.sparkplug_schema import payload_class
from parktwin.validation import Limits, validate_message

T0 = 1_767_225_600_000
PARK = """
park: {id: bench, name: B, timezone: UTC, location: {latitude: 0, longitude: 0}}
zones: [{id: z, name: Z, type: production}]
devices:
  - {id: main, kind: grid_main_meter, zone: z}
  - {id: m, kind: sub_meter, zone: z}
sparkplug:
  - group: g
    devices: {n/d: m}
    values: {energy_kwh: {metric: Energy}, power_kw: {metric: Power, scale: 0.001}}
"""
DOUBLE = 10


def sparkplug_message(seq: int, ts: int, named: bool) -> bytes:
    message: Any = payload_class()()
    message.timestamp, message.seq = ts, seq % 256
    for alias, name, value in ((1, "Energy", 100.0 + seq / 10), (2, "Power", 1500.0)):
        metric = message.metrics.add()
        if named:  # births name the metrics; data carries aliases only
            metric.name, metric.datatype = name, DOUBLE
        metric.alias, metric.timestamp, metric.double_value = alias, ts, value
    return bytes(message.SerializeToString())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    park = parse_park(PARK)
    limits = Limits(65_536, 0, 10**12)
    data = [sparkplug_message(i + 1, T0 + i * 60_000, False) for i in range(args.messages)]
    native = [
        contract_payload.encode(
            Reading("m", T0 + i * 60_000, {"energy_kwh": 100.0 + (i + 1) / 10, "power_kw": 1.5})
        )
        for i in range(args.messages)
    ]
    native_topic = topics.telemetry("bench", "m")

    def time_sparkplug() -> float:
        host = SparkplugHost(park, limits)
        host.handle(
            "spBv1.0/g/NBIRTH/n", payload_class()(seq=0, timestamp=T0).SerializeToString(), T0
        )
        host.handle("spBv1.0/g/DBIRTH/n/d", sparkplug_message(0, T0, True), T0)
        started = time.process_time()
        taken = sum(len(host.handle("spBv1.0/g/DDATA/n/d", m, T0).readings) for m in data)
        spent = time.process_time() - started
        assert taken == args.messages
        return spent

    def time_native() -> float:
        started = time.process_time()
        for m in native:
            validate_message(park, limits, native_topic, m, T0)
        return time.process_time() - started

    n, ratios = args.messages, []
    for round_ in range(args.repeat):
        if round_ % 2:
            native_s, spb_s = time_native(), time_sparkplug()
        else:
            spb_s, native_s = time_sparkplug(), time_native()
        ratios.append(spb_s / native_s)
        print(
            f"sparkplug {spb_s / n * 1e6:.1f} us/message, native {native_s / n * 1e6:.1f} "
            f"us/message: {spb_s / native_s:.2f}x CPU (load average {os.getloadavg()[0]:.1f})"
        )
    print(f"median of {len(ratios)} rounds: {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
