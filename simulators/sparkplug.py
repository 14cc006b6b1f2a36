"""The park's Sparkplug B devices, published as their edge nodes would (Sparkplug 3.0).

A device named ``node/device`` in the park file's ``sparkplug:`` section is simulated behind its
edge node: at connect the node publishes NBIRTH (``bdSeq``, ``Node Control/Rebirth``, ``seq``
0); each device's first reading goes out as its DBIRTH (every metric by name, with its alias,
datatype Double and value), later ones as DDATA by alias only; every message of a node takes the
next ``seq`` modulo 256. An NCMD writing ``Node Control/Rebirth`` true gets a new NBIRTH and a
DBIRTH for each device already born, carrying its last values at their own time (so a host
stores nothing twice: the same point again). A node-only identity (``node``, metrics in
NBIRTH/NDATA) is not simulated this way; such a device publishes the contract's telemetry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parktwin.contract.reading import Reading
from parktwin.park.model import Park
from parktwin.park.sparkplug import sparkplug_topic
from parktwin.sparkplug_schema import payload_class

BD_SEQ = "bdSeq"
REBIRTH = "Node Control/Rebirth"
# Sparkplug 3.0 data types (the payload chapter's DataType enumeration).
UINT64, DOUBLE, BOOLEAN = 8, 10, 11


@dataclass(frozen=True, slots=True)
class _Metric:
    quantity: str
    name: str
    scale: float  # the metric's value times scale is the quantity's
    alias: int


@dataclass(slots=True)
class _Device:
    group: str
    node: str
    device: str
    metrics: list[_Metric]
    last: Reading | None = None


@dataclass(slots=True)
class _Node:
    group: str
    node: str
    bd_seq: int
    seq: int = 0
    devices: list[str] = field(default_factory=list)  # park device ids behind it
    born: set[str] = field(default_factory=set)  # devices with a DBIRTH in this session


class SparkplugEdge:
    """Every Sparkplug edge node of a park, as one simulator connection publishes them."""

    def __init__(self, park: Park, bd_seq: int = 0) -> None:
        """``bd_seq``: the birth/death sequence number of this connection (Sparkplug 3.0)."""
        self._devices: dict[str, _Device] = {}
        self._nodes: dict[tuple[str, str], _Node] = {}
        for group in park.sparkplug:
            next_alias: dict[str, int] = {}
            for identity, device_id in group.devices.items():
                node, _, device = identity.partition("/")
                if not device:
                    continue
                alias = next_alias.get(node, 1)
                metrics = []
                for quantity, value in sorted(group.values.items()):
                    metrics.append(_Metric(quantity, value.metric, value.scale, alias))
                    alias += 1
                next_alias[node] = alias
                self._devices[device_id] = _Device(group.group, node, device, metrics)
                key = (group.group, node)
                self._nodes.setdefault(key, _Node(group.group, node, bd_seq)).devices.append(
                    device_id
                )

    @property
    def devices(self) -> frozenset[str]:
        """The park devices published over Sparkplug."""
        return frozenset(self._devices)

    def command_topics(self) -> list[str]:
        """The NCMD topic of each edge node, to subscribe to."""
        return sorted(sparkplug_topic(n.group, "NCMD", n.node) for n in self._nodes.values())

    def births(self, now_ms: int) -> list[tuple[str, bytes]]:
        """NBIRTH of every node, then a DBIRTH for each of its devices that has a reading."""
        out: list[tuple[str, bytes]] = []
        for node in self._nodes.values():
            out.extend(self._node_births(node, now_ms))
        return out

    def answer(self, topic: str, payload: bytes, now_ms: int) -> list[tuple[str, bytes]]:
        """The births an NCMD asks for (``Node Control/Rebirth`` true), else nothing."""
        node = next(
            (n for n in self._nodes.values() if sparkplug_topic(n.group, "NCMD", n.node) == topic),
            None,
        )
        if node is None:
            return []
        message = payload_class()()
        try:
            message.ParseFromString(payload)
        except Exception:
            return []  # not a Sparkplug payload: an edge node ignores it
        if any(m.name == REBIRTH and m.boolean_value for m in message.metrics):
            return self._node_births(node, now_ms)
        return []

    def encode(self, reading: Reading) -> tuple[str, bytes]:
        """A reading as its device's DBIRTH (the first of the session) or DDATA."""
        device = self._devices[reading.device_id]
        node = self._nodes[(device.group, device.node)]
        device.last = reading
        if reading.device_id not in node.born:
            return self._device_birth(node, device)
        message = self._message(node, reading.ts_ms)
        for metric in device.metrics:
            value = reading.values.get(metric.quantity)
            if value is not None:
                added = message.metrics.add()
                added.alias = metric.alias
                added.timestamp = reading.ts_ms
                added.double_value = value / metric.scale
        topic = sparkplug_topic(device.group, "DDATA", device.node, device.device)
        return topic, bytes(message.SerializeToString())

    # --- inside ------------------------------------------------------------------------------

    def _message(self, node: _Node, ts_ms: int, seq: int | None = None) -> Any:
        message = payload_class()()
        message.timestamp = ts_ms
        node.seq = (node.seq + 1) % 256 if seq is None else seq
        message.seq = node.seq
        return message

    def _node_births(self, node: _Node, now_ms: int) -> list[tuple[str, bytes]]:
        message = self._message(node, now_ms, seq=0)
        bd_seq = message.metrics.add()
        bd_seq.name, bd_seq.timestamp, bd_seq.datatype = BD_SEQ, now_ms, UINT64
        bd_seq.long_value = node.bd_seq
        rebirth = message.metrics.add()
        rebirth.name, rebirth.timestamp, rebirth.datatype = REBIRTH, now_ms, BOOLEAN
        rebirth.boolean_value = False
        out = [
            (sparkplug_topic(node.group, "NBIRTH", node.node), bytes(message.SerializeToString()))
        ]
        node.born.clear()
        for device_id in node.devices:
            device = self._devices[device_id]
            if device.last is not None:
                out.append(self._device_birth(node, device))
        return out

    def _device_birth(self, node: _Node, device: _Device) -> tuple[str, bytes]:
        reading = device.last
        assert reading is not None  # a birth carries the device's current values
        message = self._message(node, reading.ts_ms)
        for metric in device.metrics:
            added = message.metrics.add()
            added.name, added.alias, added.datatype = metric.name, metric.alias, DOUBLE
            added.timestamp = reading.ts_ms
            value = reading.values.get(metric.quantity)
            if value is None:
                added.is_null = True
            else:
                added.double_value = value / metric.scale
        node.born.add(reading.device_id)
        topic = sparkplug_topic(device.group, "DBIRTH", device.node, device.device)
        return topic, bytes(message.SerializeToString())
