"""A park's Sparkplug B edge nodes as the ingest benchmarks publish them: the births, then a
backlog of data by alias.

The messages are the simulator's own (``simulators.sparkplug.SparkplugEdge``): each edge node's
NBIRTH (``bdSeq``, ``seq`` 0), each device's DBIRTH (every metric by name, alias, datatype and
value), then DDATA carrying the metrics by alias only, every message of a node the next ``seq``
modulo 256, as a real edge node publishes them. The readings are the native backlog's
(``load.message``): the same counter and power gauge, round-robin over the devices, one
millisecond apart, so that each DDATA is one point of its own in InfluxDB.
"""

from __future__ import annotations

from dataclasses import dataclass

from parktwin.contract.reading import Reading
from parktwin.park.model import Park
from simulators.sparkplug import SparkplugEdge

Messages = list[tuple[str, bytes]]


@dataclass
class SparkplugBacklog:
    """What the edge nodes publish: births first (their DBIRTHs each carry one reading), then
    ``data``; each part with the event time of every reading it carries, ascending."""

    births: Messages
    birth_ts_ms: list[int]
    data: Messages
    data_ts_ms: list[int]


def reading(device: str, ts_ms: int, k: int) -> Reading:
    """The native backlog's reading ``k`` (bench/load.py ``message``)."""
    return Reading(device, ts_ms, {"energy_kwh": 1000.0 + k * 0.001, "power_kw": 42.5})


def sparkplug_backlog(park: Park, devices: list[str], count: int, base_ms: int) -> SparkplugBacklog:
    """NBIRTH of every edge node and a DBIRTH of every device in ``devices`` (its reading one
    second before ``base_ms``), then ``count`` DDATA round-robin over the devices from
    ``base_ms`` on, one millisecond apart."""
    edge = SparkplugEdge(park)
    births = edge.births(base_ms - 1_000)
    birth_ms = base_ms - 1_000
    # A device's first reading is its DBIRTH (the simulator's rule), the rest DDATA.
    births += [edge.encode(reading(d, birth_ms, -1)) for d in devices]
    data = [edge.encode(reading(devices[k % len(devices)], base_ms + k, k)) for k in range(count)]
    assert all("/DDATA/" in topic for topic, _ in data)
    return SparkplugBacklog(
        births, [birth_ms] * len(devices), data, list(range(base_ms, base_ms + count))
    )
