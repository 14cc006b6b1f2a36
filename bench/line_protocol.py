"""Line protocol encoding speed: parktwin's encoder against influxdb-client's Point, same run.

Each reading has 6 tags and 4 fields (a meter's power, energy, status text and a counter), as
the collector sees them. Three ways to make its line are timed over the same readings:

* cached: the collector's path, the series key computed once per device and reused;
* uncached: series key, fields and line built from scratch for every reading;
* baseline: ``Point(...).tag(...).field(...).time(...).to_line_protocol()``.

Run: ``.venv/bin/python bench/line_protocol.py [--readings N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from influxdb_client import Point, WritePrecision

from parktwin.influx.lineprotocol import format_fields, line, series_key


@dataclass(frozen=True, slots=True)
class Reading:
    device: str
    tags: dict[str, str]
    fields: dict[str, float | int | bool | str]
    ts_ms: int


def make_readings(count: int, devices: int, seed: int) -> list[Reading]:
    """Readings of ``devices`` meters with realistic tags (some need escaping) and fields."""
    rng = random.Random(seed)
    tags = {
        f"d{n}": {
            "park": "demo-park",
            "site": "园区 A" if n % 2 else "north,campus",
            "building": f"b{n % 7}",
            "floor": str(n % 5),
            "device": f"d{n}",
            "kind": "sub_meter",
        }
        for n in range(devices)
    }
    readings = []
    for i in range(count):
        device = f"d{rng.randrange(devices)}"
        fields: dict[str, float | int | bool | str] = {
            "power_kw": rng.uniform(-50, 500),
            "energy_kwh": rng.uniform(0, 1e7),
            "status": "ok" if i % 10 else 'alarm "door open"',
            "pulses": rng.randrange(1_000_000),
        }
        readings.append(Reading(device, tags[device], fields, 1767225600000 + i))
    return readings


def ours_cached(readings: list[Reading]) -> list[str]:
    keys: dict[str, str] = {}
    out = []
    for r in readings:
        key = keys.get(r.device)
        if key is None:
            key = keys[r.device] = series_key("electricity", r.tags)
        out.append(line(key, format_fields(r.fields), r.ts_ms))
    return out


def ours_uncached(readings: list[Reading]) -> list[str]:
    return [
        line(series_key("electricity", r.tags), format_fields(r.fields), r.ts_ms) for r in readings
    ]


def influxdb_client_point(readings: list[Reading]) -> list[str]:
    out = []
    for r in readings:
        point = Point("electricity")
        for key, value in r.tags.items():
            point.tag(key, value)
        for name, field in r.fields.items():
            point.field(name, field)
        out.append(point.time(r.ts_ms, WritePrecision.MS).to_line_protocol())
    return out


def check_same_lines(readings: list[Reading]) -> None:
    """Both encoders write the same text, once fields are in Point's order (sorted by key)."""
    sorted_fields = [replace(r, fields=dict(sorted(r.fields.items()))) for r in readings]
    assert ours_uncached(sorted_fields) == influxdb_client_point(readings)


ENCODERS: dict[str, Callable[[list[Reading]], list[str]]] = {
    "parktwin, series key cached": ours_cached,
    "parktwin, series key per line": ours_uncached,
    "influxdb-client Point (baseline)": influxdb_client_point,
}


def best_rates(readings: list[Reading], repeat: int) -> dict[str, float]:
    """Lines/s of each encoder, best of ``repeat`` rounds.

    The encoders take turns within each round, so that load from the rest of the machine falls
    on all of them alike; the best round is the least disturbed one.
    """
    best = dict.fromkeys(ENCODERS, float("inf"))
    for _ in range(repeat):
        for name, encode in ENCODERS.items():
            started = time.perf_counter()
            encode(readings)
            best[name] = min(best[name], time.perf_counter() - started)
    return {name: len(readings) / seconds for name, seconds in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=50_000)
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    readings = make_readings(args.readings, args.devices, seed=1)
    check_same_lines(readings[:1000])
    rates = best_rates(readings, args.repeat)
    baseline = rates["influxdb-client Point (baseline)"]
    print(f"{len(readings):,} readings, 6 tags and 4 fields each, best of {args.repeat} rounds")
    print(f"{'encoder':<34}{'lines/s':>12}{'vs baseline':>14}")
    for name, rate in rates.items():
        print(f"{name:<34}{rate:>12,.0f}{rate / baseline:>13.1f}x")


if __name__ == "__main__":
    main()
