"""A Sparkplug B host application's view of a park's edge nodes: what each birth announced,
the sequence numbers, who is online, and the readings each message carries.

Sparkplug 3.0 in brief: an edge node connects with an NDEATH will carrying ``bdSeq``, then
publishes NBIRTH (every node metric by name, with alias and datatype, ``seq`` 0) and a DBIRTH
for each device behind it; NDATA/DDATA then carry metrics by alias only, each message's ``seq``
one more than the last (modulo 256). A host that misses a birth or sees a ``seq`` gap cannot
trust what it knows, and asks for a rebirth (an NCMD writing ``Node Control/Rebirth`` true).
NDEATH (with the birth's ``bdSeq``) and DDEATH take nodes and devices offline.

Readings leave here as the contract's own, through the checks of native telemetry (each value
by ``parktwin.contract.values.check_value``, each reading by ``parktwin.validation.
check_reading``), so Sparkplug readings are validated, tagged, stored, counted and dead-lettered
exactly as native ones.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from collectors.sparkplug.payload import (
    DOUBLE,
    FLOAT,
    decode_payload,
    metric_number,
    rebirth_command,
)
from collectors.sparkplug.topic import (
    NAMESPACE,
    SparkplugTopic,
    group_filter,
    node_command,
    parse_topic,
)
from parktwin.contract.quantities import KINDS, QUANTITIES
from parktwin.contract.reading import PayloadError, Reading
from parktwin.contract.values import check_value
from parktwin.park.model import Park
from parktwin.validation import Limits, check_reading

log = logging.getLogger(__name__)

BD_SEQ = "bdSeq"
REBIRTH_INTERVAL_MS = 10_000  # assumed: at most one rebirth request per node in 10 s
_TOPIC_CACHE_LIMIT = 100_000  # distinct topics remembered; beyond it the cache starts anew
_NO_METRICS: frozenset[str] = frozenset()


Use = tuple[str, float, float, float]  # quantity, scale, low, high: see Target


@dataclass(frozen=True, slots=True)
class Known:
    """A metric as a birth announced it, and what the park reads of it: ``mapped`` when its
    group maps the name, ``use`` when the sender's park device reads it (else None)."""

    name: str
    datatype: int
    mapped: bool = False
    use: Use | None = None


@dataclass(slots=True)
class Born:
    """What a birth certificate announced: metrics by alias, and datatypes by name."""

    by_alias: dict[int, Known] = field(default_factory=dict)
    by_name: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, metrics: Any, mapped: frozenset[str], target: Target | None) -> Born:
        """The birth of a sender whose group maps ``mapped`` and whose park device is
        ``target``: what each alias means to the park is settled here, once a session."""
        born = cls()
        wanted = target.metrics if target is not None else {}
        for metric in metrics:
            name = metric.name
            if name:
                born.by_name[name] = metric.datatype
                if metric.HasField("alias"):
                    known = Known(name, metric.datatype, name in mapped, wanted.get(name))
                    born.by_alias[metric.alias] = known
        return born


@dataclass
class NodeSession:
    """One edge node since its NBIRTH."""

    bd_seq: int | None
    seq: int
    node: Born
    devices: dict[str, Born] = field(default_factory=dict)
    last_ts_ms: int = 0  # the latest event time it sent


@dataclass(frozen=True, slots=True)
class Target:
    """A park device fed by a Sparkplug node or device: metric name -> (quantity, scale, low,
    high), where [low, high] is the quantity's valid range when it is finite (else empty, so
    that every value goes through ``check_value``)."""

    device_id: str
    metrics: dict[str, Use]
    # The park has the device and its kind reports every quantity of ``metrics``: then, of
    # ``check_reading``'s tests, only the time window is left per reading.
    checked: bool = False


def _use(quantity: str, scale: float) -> Use:
    """How a metric feeds ``quantity``: its scale, and the range a value passes unchecked."""
    known = QUANTITIES.get(quantity)
    if known is None or not (math.isfinite(known.min_value) and math.isfinite(known.max_value)):
        return quantity, scale, math.inf, -math.inf
    return quantity, scale, known.min_value, known.max_value


@dataclass(frozen=True, slots=True)
class Sender:
    """Who publishes on a topic: the topic's parts, and what the park makes of them."""

    at: SparkplugTopic
    target: Target | None  # the park device this node or device feeds, if any
    mapped: frozenset[str]  # the metric names its group maps


@dataclass
class Outcome:
    """What one message gave: readings, refusals, commands to publish, devices gone offline."""

    readings: list[Reading] = field(default_factory=list)
    refused: list[PayloadError] = field(default_factory=list)
    commands: list[tuple[str, bytes]] = field(default_factory=list)  # topic, payload
    offline: list[tuple[str, int]] = field(default_factory=list)  # device id, event time
    rebirths: int = 0  # rebirth requests among the commands
    seq_gaps: int = 0


class SparkplugHost:
    """The Sparkplug side of one collector (or twin) for one park."""

    prefix = NAMESPACE + "/"

    def __init__(self, park: Park, limits: Limits, *, shortcuts: bool = True) -> None:
        """``shortcuts=False`` takes every data message through the general path
        (``_readings``), against which the tests hold the shortcut."""
        self.park = park
        self.limits = limits
        self.shortcuts = shortcuts
        self._targets: dict[tuple[str, str], Target] = {}
        self._mapped_metrics: dict[str, frozenset[str]] = {}
        for group in park.sparkplug:
            metrics = {v.metric: _use(quantity, v.scale) for quantity, v in group.values.items()}
            known = self._mapped_metrics.get(group.group, _NO_METRICS)
            self._mapped_metrics[group.group] = known | metrics.keys()
            for identity, device_id in group.devices.items():
                device = park.devices_by_id.get(device_id)
                checked = device is not None and all(
                    use[0] in KINDS[device.kind].quantities for use in metrics.values()
                )
                self._targets[(group.group, identity)] = Target(device_id, metrics, checked)
        self._nodes: dict[tuple[str, str], NodeSession] = {}
        self._asked_ms: dict[tuple[str, str], int] = {}
        self._senders: dict[str, Sender | None] = {}  # by topic

    def subscriptions(self) -> list[str]:
        """One filter per Sparkplug group of the park (never shared: births are state)."""
        return sorted({group_filter(g.group) for g in self.park.sparkplug})

    def handle(self, topic: str, payload: bytes, arrival_ms: int) -> Outcome:
        """Everything one Sparkplug message means; it never raises for bad input."""
        out = Outcome()
        self.handle_into(topic, payload, arrival_ms, out)
        return out

    def handle_into(self, topic: str, payload: bytes, arrival_ms: int, out: Outcome) -> None:
        """``handle``, adding what the message means to ``out`` (a caller that empties one
        Outcome after each message saves making one a message)."""
        try:
            sender = self._senders[topic]
        except KeyError:
            sender = self._sender(topic)
            if len(self._senders) >= _TOPIC_CACHE_LIMIT:
                self._senders.clear()
            self._senders[topic] = sender
        if sender is None:
            if not topic.startswith("spBv1.0/STATE/"):  # host state: not a device's
                out.refused.append(PayloadError("sparkplug_bad_topic", f"{topic[:120]!r}"))
            return
        if sender.at.kind in ("NCMD", "DCMD"):
            return  # commands to nodes (our own rebirth requests among them)
        if len(payload) > self.limits.max_payload_bytes:
            out.refused.append(
                PayloadError(
                    "too_large", f"{len(payload)} bytes exceeds {self.limits.max_payload_bytes}"
                )
            )
            return
        try:
            message = decode_payload(payload)
            self._take(sender, message, arrival_ms, out)
        except PayloadError as exc:
            out.refused.append(exc)
        except Exception as exc:
            # A decoder bug must cost one message, never the service.
            log.exception("Sparkplug decoding failed on %s", topic[:120])
            out.refused.append(
                PayloadError("decoder_error", f"{type(exc).__name__}: {str(exc)[:120]}")
            )

    def _sender(self, topic: str) -> Sender | None:
        at = parse_topic(topic)
        if at is None:
            return None
        target = self._targets.get((at.group, at.identity))
        return Sender(at, target, self._mapped_metrics.get(at.group, _NO_METRICS))

    def _take(self, sender: Sender, message: Any, arrival_ms: int, out: Outcome) -> None:
        at = sender.at
        key = (at.group, at.node)
        # A field read as non-zero was sent; only a zero needs HasField (proto2 presence).
        if at.kind != "NDEATH" and not (
            (message.seq or message.HasField("seq"))
            and (message.timestamp or message.HasField("timestamp"))
        ):
            # Births, data and DDEATH carry both (Sparkplug 3.0): another protobuf, or garbage
            # that happens to parse.
            raise PayloadError("sparkplug_bad_protobuf", f"{at.kind} without seq and timestamp")
        if at.kind == "NBIRTH":
            born = Born.of(message.metrics, sender.mapped, sender.target)
            birth = NodeSession(_bd_seq(message), message.seq, born)
            self._nodes[key] = birth
            self._asked_ms.pop(key, None)
            self._readings(sender, birth, born, message, arrival_ms, out)
            return
        session = self._nodes.get(key)
        if at.kind == "NDEATH":
            bd_seq = _bd_seq(message)
            if session is None or None in (bd_seq, session.bd_seq) or bd_seq == session.bd_seq:
                # The death of the session we know (a will of an older one is ignored).
                self._nodes.pop(key, None)
                when = max(_payload_ts(message) or 0, session.last_ts_ms if session else 0)
                for (group, identity), target in self._targets.items():
                    if group == at.group and identity.split("/", 1)[0] == at.node:
                        out.offline.append((target.device_id, when))
            return
        if session is None:
            self._before_birth(at, "NBIRTH", arrival_ms, out)
            return
        # Every kind here carries seq (checked above).
        seq = message.seq
        if seq != (session.seq + 1) % 256:
            out.seq_gaps += 1
            log.info("Sparkplug %s/%s: seq %d after %d", *key, seq, session.seq)
            self._rebirth(at, arrival_ms, out)
        session.seq = seq
        kind = at.kind
        if kind == "DDATA":
            found = session.devices.get(at.device or "")
            if found is None:
                self._before_birth(at, "DBIRTH", arrival_ms, out)
                return
            born = found
        elif kind == "DBIRTH":
            born = Born.of(message.metrics, sender.mapped, sender.target)
            session.devices[at.device or ""] = born
        elif kind == "DDEATH":
            session.devices.pop(at.device or "", None)
            gone = sender.target
            if gone is not None:
                when = max(_payload_ts(message) or 0, session.last_ts_ms)
                out.offline.append((gone.device_id, when))
            return
        else:  # NDATA
            born = session.node
        feeds = sender.target
        if kind != "DBIRTH" and feeds is not None and feeds.checked and self.shortcuts:
            reading = self._plain_reading(feeds, session, born, message, arrival_ms)
            if reading is not None:
                out.readings.append(reading)
                return
        self._readings(sender, session, born, message, arrival_ms, out)

    def _plain_reading(
        self, target: Target, session: NodeSession, born: Born, message: Any, arrival_ms: int
    ) -> Reading | None:
        """The reading of a common data message in one loop, or None to leave the message to
        ``_readings`` (which then gives the same readings, refusals and events).

        Common: every metric by a non-zero alias of its birth, each one the park reads a
        non-zero Double or Float (not null) inside its quantity's finite range, all of one
        non-zero time inside the time window, for a ``Target.checked`` device. Metrics the
        park does not read are skipped, as ``_readings`` skips them. Nothing is changed
        unless a reading is given.
        """
        by_alias = born.by_alias
        values: dict[str, float] = {}
        ts = 0
        for metric in message.metrics:
            alias = metric.alias
            known = by_alias.get(alias) if alias else None
            if known is None or metric.name:
                return None
            use = known.use
            if use is None:
                continue  # a metric the park does not read
            datatype = metric.datatype or known.datatype
            if datatype == DOUBLE:
                number = metric.double_value
            elif datatype == FLOAT:
                number = metric.float_value
            else:
                return None
            stamp = metric.timestamp
            if not number or not stamp or metric.is_null or (stamp != ts and ts):
                return None
            ts = stamp
            quantity, scale, low, high = use
            value = number * scale
            if not low <= value <= high:
                return None
            values[quantity] = value
        limits = self.limits
        if not values or not limits.earliest_ts_ms <= ts <= arrival_ms + limits.max_future_ms:
            return None
        if ts > session.last_ts_ms:
            session.last_ts_ms = ts
        return Reading(target.device_id, ts, values)

    def _readings(
        self,
        sender: Sender,
        session: NodeSession,
        born: Born,
        message: Any,
        arrival_ms: int,
        out: Outcome,
    ) -> None:
        """The readings of a birth or data message, checked as native telemetry.

        Metrics of one time make one reading; each value is checked as ``check_value`` checks
        it, inline when it is finite and in its quantity's range (``Target.metrics``), by
        ``check_value`` itself otherwise, which then refuses the reading with its reason.
        """
        at, target, mapped = sender.at, sender.target, sender.mapped
        wanted = target.metrics if target is not None else {}
        by_alias, by_name = born.by_alias, born.by_name
        values: dict[int, dict[str, float]] = {}
        suspect: set[int] = set()  # times with a value the inline check did not pass
        default_ts = _payload_ts(message)
        for metric in message.metrics:
            name = metric.name
            if name:
                datatype = metric.datatype or by_name.get(name, 0)
                is_mapped, use = name in mapped, wanted.get(name)
            else:
                alias = metric.alias
                known = by_alias.get(alias)
                if known is None or not (alias or metric.HasField("alias")):
                    if alias or metric.HasField("alias"):
                        out.refused.append(
                            PayloadError(
                                "sparkplug_unknown_alias",
                                f"{at.identity}: alias {alias} is not in its birth",
                            )
                        )
                        self._rebirth(at, arrival_ms, out)
                        return
                    # Sparkplug requires a name or an alias: another protobuf on our topic.
                    out.refused.append(
                        PayloadError(
                            "sparkplug_bad_protobuf",
                            f"{at.identity}: a metric with no name or alias",
                        )
                    )
                    return
                name, datatype = known.name, metric.datatype or known.datatype
                is_mapped, use = known.mapped, known.use
            if use is None:
                if is_mapped and target is None:
                    out.refused.append(
                        PayloadError(
                            "unknown_device",
                            f"Sparkplug {at.group}/{at.identity} is not in the park's sparkplug:",
                        )
                    )
                    return
                continue  # a metric the park does not read (or not of this device)
            ts = metric.timestamp
            if not ts and not metric.HasField("timestamp"):
                if default_ts is None:
                    out.refused.append(
                        PayloadError("bad_timestamp", f"{at.identity} {name}: no time")
                    )
                    continue
                ts = default_ts
            number = metric_number(metric, datatype)
            if number is None:
                out.refused.append(
                    PayloadError(
                        "bad_value", f"{at.identity} {name}: not a number (type {datatype})"
                    )
                )
                continue
            quantity, scale, low, high = use
            value = number * scale
            if not low <= value <= high:
                suspect.add(ts)
            found = values.get(ts)
            if found is None:
                values[ts] = found = {}
            found[quantity] = value
            if ts > session.last_ts_ms:
                session.last_ts_ms = ts
        if target is None:
            return
        limits = self.limits
        earliest_ms, latest_ms = limits.earliest_ts_ms, arrival_ms + limits.max_future_ms
        checked = target.checked
        for ts, quantities in sorted(values.items()) if len(values) > 1 else values.items():
            try:
                # The checks of native telemetry: each value, then the reading.
                if ts in suspect:
                    quantities = {name: check_value(name, v) for name, v in quantities.items()}
                reading = Reading(target.device_id, ts, quantities)
                if not (checked and earliest_ms <= ts <= latest_ms):
                    check_reading(self.park, limits, reading, arrival_ms)
            except PayloadError as exc:
                out.refused.append(
                    PayloadError(exc.reason, f"{at.group}/{at.identity}: {exc.detail}")
                )
            else:
                out.readings.append(reading)

    def _before_birth(self, at: SparkplugTopic, birth: str, arrival_ms: int, out: Outcome) -> None:
        """Refuse a message whose birth the host has not seen, and ask for the births."""
        detail = f"{at.kind} from {at.identity} before {birth}"
        out.refused.append(PayloadError("sparkplug_before_birth", detail))
        self._rebirth(at, arrival_ms, out)

    def _rebirth(self, at: SparkplugTopic, arrival_ms: int, out: Outcome) -> None:
        """Ask the edge node for its births again, at most once per REBIRTH_INTERVAL_MS."""
        key = (at.group, at.node)
        asked = self._asked_ms.get(key)
        if asked is not None and arrival_ms - asked < REBIRTH_INTERVAL_MS:
            return
        self._asked_ms[key] = arrival_ms
        out.commands.append((node_command(at.group, at.node), rebirth_command(arrival_ms)))
        out.rebirths += 1


def _bd_seq(message: Any) -> int | None:
    for metric in message.metrics:
        if metric.name == BD_SEQ:
            number = metric_number(metric, metric.datatype or 8)
            return None if number is None else int(number)
    return None


def _payload_ts(message: Any) -> int | None:
    ts: int = message.timestamp
    return ts if ts or message.HasField("timestamp") else None
