"""A twin rebuilt from InfluxDB with no checkpoint is the twin that ran live over the same
readings: counters (last values, high-water marks, held drops, events), the period ledger,
costs and the month's 15-minute demand, device times, and the snapshot the alerts read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from itertools import groupby
from operator import attrgetter
from typing import Any

import numpy as np
import orjson
import pytest
from conftest import InfluxDatabase

from collectors.history import HistoryWriter
from parktwin.config import load_settings
from parktwin.contract.reading import Reading
from parktwin.influx.influxql import DatabaseMissing, Series
from parktwin.park.bundled import demo_park_path
from parktwin.park.loader import load_park
from parktwin.park.model import Park
from programs.demo.backfill import history_simulator
from twin.service.rebuild import channel_values, readings_of, rebuild, replay_fields
from twin.state.twin import ChannelValues, Twin, flatten

pytestmark = pytest.mark.integration

# The demo park (222 devices, tariffs from 2026, people counters, a battery) from 20:00 local
# time on the last day of May to 04:00 on 2 June: two local midnights, a month's end, tariff
# band changes, every device reporting each 15 minutes at its own offset in the quarter.
TS = attrgetter("ts_ms")
START = "2026-05-31T20:00:00+08:00"
HOURS = 32


def ms(text: str) -> int:
    return round(datetime.fromisoformat(text).timestamp() * 1000)


def simulated(park: Park) -> list[Reading]:
    """The simulator's readings, with a meter reset, a spurious zero and jitter among them."""
    start = ms(START)
    readings = list(history_simulator(park, start).advance(start + HOURS * 3_600_000))
    reset_at, dropout_at, jitter_at = (start + h * 3_600_000 for h in (6, 10, 14))
    base = min(
        (r for r in readings if r.device_id == "jl-f1-l1" and r.ts_ms >= reset_at),
        key=lambda r: r.ts_ms,
    ).values["energy_kwh"]
    changed, before = [], 0.0
    for r in sorted(readings, key=lambda r: r.ts_ms):
        values = dict(r.values)
        if r.device_id == "jl-f1-l1" and r.ts_ms >= reset_at:  # a meter restarting near zero
            values["energy_kwh"] = round(values["energy_kwh"] - base + 0.2, 3)
        if r.device_id == "hy-f1-l1" and dropout_at <= r.ts_ms < dropout_at + 900_000:
            values["energy_kwh"] = 0.0  # a spurious zero, then back
        if r.device_id == "jl-f1-gas":
            if jitter_at <= r.ts_ms < jitter_at + 900_000:  # a dip below the last, within jitter
                values["gas_m3"] = round(before - 0.05, 3)
            before = r.values["gas_m3"]
        changed.append(replace(r, values=values))
    return changed


def arrivals(readings: list[Reading], size: int = 700) -> Iterator[list[Reading]]:
    """The readings in event-time order, in bursts as a live twin takes them from MQTT."""
    ordered = sorted(readings, key=lambda r: r.ts_ms)
    for _, burst in groupby(enumerate(ordered), key=lambda pair: pair[0] // size):
        yield [r for _, r in burst]


def state_of(twin: Twin) -> dict[str, Any]:
    """The twin's whole state (its checkpoint: counters, ledger, costs, demand, devices) and
    the snapshot the alerts and the KPIs are made of; ingest statistics aside (they count what
    this process took in)."""
    document = orjson.loads(twin.checkpoint())
    del document["stats"]
    snapshot = twin.snapshot().to_dict()
    snapshot.pop("ingest", None)
    return {"checkpoint": document, "snapshot": snapshot}


def assert_same(rebuilt: Any, live: Any, where: str = "") -> None:
    """Equal, floats up to the rounding of a different order of additions."""
    if isinstance(live, dict):
        assert rebuilt.keys() == live.keys(), where
        for key in live:
            assert_same(rebuilt[key], live[key], f"{where}.{key}")
    elif isinstance(live, list):
        assert len(rebuilt) == len(live), where
        for i, (a, b) in enumerate(zip(rebuilt, live, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(live, float) and not isinstance(rebuilt, bool):
        assert rebuilt == pytest.approx(live, rel=1e-9, abs=1e-9), where
    else:
        assert rebuilt == live, where


async def store(park: Park, db: InfluxDatabase, readings: list[Reading]) -> None:
    """As the collectors store readings: checked, tagged, written."""
    settings = load_settings(None, influx__url=db.url, influx__database=db.name)
    history = HistoryWriter(park, settings, arrival_ms=max(r.ts_ms for r in readings))
    try:
        for reading in readings:
            history.check(reading)
        await history.write(history.lines(readings))
        await history.wait()
    finally:
        await history.aclose()


async def test_a_rebuilt_twin_is_the_twin_that_ran_live_over_the_same_readings(
    influxdb: InfluxDatabase,
) -> None:
    park = load_park(demo_park_path())
    readings = simulated(park)
    live = Twin(park)
    for burst in arrivals(readings):
        live.ingest(burst)
    events = {
        (e["device"], e["kind"]) for e in orjson.loads(live.checkpoint())["counters"]["events"]
    }
    assert ("jl-f1-l1", "reset") in events  # the anomalies happened, live
    assert live.state.stats.counter_dropouts >= 1 and live.state.stats.counter_jitter >= 1
    await store(park, influxdb, readings)

    rebuilt = Twin(park)
    settings = load_settings(None, influx__url=influxdb.url, influx__database=influxdb.name)
    replayed = await rebuild(settings.influx, rebuilt)

    # Gauges (power, temperatures...) come back as their last values only.
    assert 0 < replayed < len(readings)
    assert_same(state_of(rebuilt), state_of(live))
    assert rebuilt.state.costs is not None and rebuilt.state.costs.demand  # priced, demand kept


def test_only_gauges_are_read_as_last_values_and_every_counted_field_whole() -> None:
    park = load_park(demo_park_path())
    fields = replay_fields(Twin(park))
    assert "energy_import_kwh" in fields.series["electricity"]
    assert "occupancy_persons" in fields.series["occupancy"]  # person-hours need every value
    assert "power_kw" in fields.last["electricity"]
    assert "air" not in fields.series and fields.last["air"] == [
        "co2_ppm",
        "humidity_pct",
        "temperature_c",
    ]


def test_raw_series_become_the_channel_values_their_readings_flatten_to() -> None:
    park = load_park(demo_park_path())
    twin = Twin(park)
    columns = ["time", "energy_export_kwh", "energy_import_kwh", "energy_kwh", "power_kw"]
    answers = [
        [
            Series(
                "electricity",
                {"device": "jl-f1-l1"},
                columns,
                [[1_000, None, None, 10.5, 3.0], [61_000, None, None, 10.75, None]],
            ),
            Series("electricity", {"device": "nobody"}, columns, [[2_000, 1.0, 2.0, None, 4.0]]),
            Series(  # a value of a field its kind lacks: an unknown quantity, as live
                "electricity",
                {"device": "grid-main-1"},
                columns,
                [[1_000, 0.0, 500.0, 7.0, None], [31_000, None, None, None, None]],
            ),
        ],
        [Series("gas", {"device": "jl-f1-gas"}, ["time", "gas_m3"], [[1_000, 3.25]])],
    ]
    fast = channel_values(answers, twin.topology)
    plain = flatten(sorted(readings_of([s for a in answers for s in a]), key=TS), twin.topology)
    for name in ChannelValues.__slots__:
        assert np.array_equal(getattr(fast, name), getattr(plain, name)), name
    assert (fast.readings, fast.unknown_devices, fast.unknown_quantities) == (5, 1, 1)


async def test_a_rebuild_from_a_database_never_written_says_it_is_missing(
    influxdb: InfluxDatabase,
) -> None:
    """A first start (the collectors have not written yet) is told from a refused query, so the
    service can start empty without a warning."""
    park = load_park(demo_park_path())
    never = load_settings(None, influx__url=influxdb.url, influx__database="never_written")
    with pytest.raises(DatabaseMissing, match="database not found"):
        await rebuild(never.influx, Twin(park))
    # An existing, empty database is no error: nothing to replay.
    empty = load_settings(None, influx__url=influxdb.url, influx__database=influxdb.name)
    assert await rebuild(empty.influx, Twin(park)) == 0
