"""Sparkplug B devices: births name the metrics, data carries aliases, gaps and data before birth
ask for a rebirth, deaths take devices offline, bad input is dead-lettered. The payloads are
made by pysparkplug (an independent Sparkplug B implementation), not by parktwin."""

from __future__ import annotations

import asyncio
import math
import random
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pysparkplug as spb
import pytest
from conftest import InfluxDatabase, Mosquitto
from google.protobuf import json_format
from helpers import SPARKPLUG_LIMITS as LIMITS
from helpers import (
    SPARKPLUG_PARK,
    collect_dead_letters,
    collector_settings,
    running,
    wait_until,
)
from prometheus_client import CollectorRegistry
from pysparkplug._protobuf import sparkplug_b_pb2 as pysparkplug_pb2

from collectors.metrics import CollectorMetrics
from collectors.service import Collector
from collectors.sparkplug.host import SparkplugHost
from collectors.sparkplug.payload import (
    NUMERIC,
    decode_payload,
    member_number,
    metric_number,
    rebirth_command,
)
from parktwin.config import load_settings
from parktwin.contract.reading import PayloadError, Reading
from parktwin.contract.values import check_value
from parktwin.metrics import render
from parktwin.mqtt import make_client
from parktwin.park.loader import ParkFileError, parse_park
from parktwin.park.model import Park
from parktwin.sparkplug_schema import payload_class
from programs.wiring import twin_service
from twin.state.twin import Twin

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
ARRIVAL = T0 + 3_600_000


ENERGY, POWER, RATED = 1, 2, 3  # the aliases the birth gives


def sparkplug_park(park_id: str = "spb") -> Park:
    return parse_park(SPARKPLUG_PARK.format(group="plant", park_id=park_id), "sparkplug_park")


def node_birth(bd_seq: int = 0, ts: int = T0) -> bytes:
    bd = spb.Metric(timestamp=ts, name="bdSeq", datatype=spb.DataType.UINT64, value=bd_seq)
    rebirth = spb.Metric(
        timestamp=ts, name="Node Control/Rebirth", datatype=spb.DataType.BOOLEAN, value=False
    )
    return spb.NBirth(timestamp=ts, seq=0, metrics=(bd, rebirth)).encode()


def device_birth(seq: int, energy_kwh: float, ts: int = T0) -> bytes:
    metrics = (
        spb.Metric(ts, "Energy/Total", spb.DataType.DOUBLE, value=energy_kwh, alias=ENERGY),
        spb.Metric(ts, "Power/Active", spb.DataType.FLOAT, value=1500.0, alias=POWER),
        spb.Metric(ts, "Rated/Current", spb.DataType.INT32, value=63, alias=RATED),  # not read
    )
    return spb.DBirth(timestamp=ts, seq=seq, metrics=metrics).encode()


def device_data(seq: int, ts: int, energy_kwh: float, power_w: float) -> bytes:
    """Metrics by alias only, as Sparkplug data messages carry them."""
    metrics = (
        spb.Metric(ts, None, spb.DataType.DOUBLE, value=energy_kwh, alias=ENERGY),
        spb.Metric(ts, None, spb.DataType.FLOAT, value=power_w, alias=POWER),
    )
    return spb.DData(timestamp=ts, seq=seq, metrics=metrics).encode()


def topic(kind: spb.MessageType, device: str | None = None, group: str = "plant") -> str:
    return str(spb.Topic(group_id=group, message_type=kind, edge_node_id="gw1", device_id=device))


NBIRTH, DBIRTH, DDATA = spb.MessageType.NBIRTH, spb.MessageType.DBIRTH, spb.MessageType.DDATA
NDEATH, DDEATH = spb.MessageType.NDEATH, spb.MessageType.DDEATH


def born_host(park: Park) -> SparkplugHost:
    """A host that has seen the node's birth and the line meter's."""
    host = SparkplugHost(park, LIMITS)
    assert host.handle(topic(NBIRTH), node_birth(), ARRIVAL).refused == []
    host.handle(topic(DBIRTH, "line"), device_birth(1, 100.0), ARRIVAL)
    return host


def test_births_name_the_metrics_and_data_carries_only_aliases() -> None:
    host = SparkplugHost(sparkplug_park(), LIMITS)
    assert host.subscriptions() == ["spBv1.0/plant/#"]
    assert host.handle(topic(NBIRTH), node_birth(), ARRIVAL).readings == []  # no node metric read
    birth = host.handle(topic(DBIRTH, "line"), device_birth(1, 100.0), ARRIVAL)
    assert birth.readings == [Reading("m-line", T0, {"energy_kwh": 100.0, "power_kw": 1.5})]
    data = host.handle(topic(DDATA, "line"), device_data(2, T0 + 60_000, 100.4, 2250.0), ARRIVAL)
    assert data.readings == [
        Reading("m-line", T0 + 60_000, {"energy_kwh": 100.4, "power_kw": 2.25})
    ]
    assert (data.refused, data.commands, data.seq_gaps) == ([], [], 0)


def test_data_before_birth_is_refused_and_asks_for_a_rebirth_once_in_a_while() -> None:
    host = SparkplugHost(sparkplug_park(), LIMITS)
    first = host.handle(topic(DDATA, "line"), device_data(5, T0, 1.0, 1.0), ARRIVAL)
    assert first.readings == []
    assert [e.reason for e in first.refused] == ["sparkplug_before_birth"]
    ((command_topic, body),) = first.commands
    assert command_topic == "spBv1.0/plant/NCMD/gw1"
    (metric,) = decode_payload(body).metrics
    assert (metric.name, metric.boolean_value) == ("Node Control/Rebirth", True)
    again = host.handle(topic(DDATA, "line"), device_data(6, T0, 1.0, 1.0), ARRIVAL + 1_000)
    assert again.commands == []  # asked a second ago: not again
    later = host.handle(topic(DDATA, "line"), device_data(7, T0, 1.0, 1.0), ARRIVAL + 11_000)
    assert len(later.commands) == 1
    # A device whose node was born but which has not had its own birth: the same.
    host.handle(topic(NBIRTH), node_birth(), ARRIVAL)
    press = host.handle(topic(DDATA, "press"), device_data(1, T0, 1.0, 1.0), ARRIVAL)
    assert [e.reason for e in press.refused] == ["sparkplug_before_birth"]
    assert len(press.commands) == 1


def test_a_sequence_gap_keeps_the_data_and_asks_for_a_rebirth() -> None:
    host = born_host(sparkplug_park())
    gap = host.handle(topic(DDATA, "line"), device_data(4, T0 + 60_000, 101.0, 0.0), ARRIVAL)
    assert gap.seq_gaps == 1 and gap.rebirths == 1
    assert gap.readings == [Reading("m-line", T0 + 60_000, {"energy_kwh": 101.0, "power_kw": 0.0})]
    # seq wraps from 255 to 0 without a gap.
    host.handle(topic(DDATA, "line"), device_data(255, T0 + 120_000, 102.0, 0.0), ARRIVAL)
    wrapped = host.handle(topic(DDATA, "line"), device_data(0, T0 + 180_000, 103.0, 0.0), ARRIVAL)
    assert wrapped.seq_gaps == 0


def test_an_alias_no_birth_announced_is_refused_and_asks_for_a_rebirth() -> None:
    host = born_host(sparkplug_park())
    stray = spb.Metric(T0, None, spb.DataType.DOUBLE, value=1.0, alias=99)
    payload = spb.DData(timestamp=T0, seq=2, metrics=(stray,)).encode()
    outcome = host.handle(topic(DDATA, "line"), payload, ARRIVAL)
    assert [e.reason for e in outcome.refused] == ["sparkplug_unknown_alias"]
    assert outcome.rebirths == 1


@pytest.mark.parametrize("cut", [1, 5, 17])
def test_a_truncated_protobuf_is_refused_and_the_host_goes_on(cut: int) -> None:
    host = born_host(sparkplug_park())
    whole = device_data(2, T0 + 60_000, 100.5, 10.0)
    outcome = host.handle(topic(DDATA, "line"), whole[:-cut], ARRIVAL)
    assert [e.reason for e in outcome.refused] == ["sparkplug_bad_protobuf"]
    after = host.handle(topic(DDATA, "line"), whole, ARRIVAL)
    assert after.readings[0].values["energy_kwh"] == 100.5


@pytest.mark.parametrize(
    "payload",
    [
        # thomasnordquist/MQTT-Explorer#792: two payloads of an application's own protobuf that
        # a Sparkplug decoder read as Sparkplug (26 and 36 bytes, as the report prints them).
        b"*\x18\x1a\x16\x08\x0e\xf2\x01\x11\x08\x01\x12\r\x08\x03\x10\x01\x18\x02 \x02HUP\xf0.",
        b"\x12\x0fwmod-din-v0.08b*\x11f/wmod-din-v0.08b",
    ],
)
def test_another_protobuf_on_a_sparkplug_topic_gives_no_reading(payload: bytes) -> None:
    host = born_host(sparkplug_park())
    outcome = host.handle(topic(DDATA, "line"), payload, ARRIVAL)
    assert outcome.readings == []
    assert [e.reason for e in outcome.refused] == ["sparkplug_bad_protobuf"]


def test_an_identity_the_park_file_does_not_name_is_refused_with_its_reason() -> None:
    host = SparkplugHost(sparkplug_park(), LIMITS)
    host.handle(topic(NBIRTH), node_birth(), ARRIVAL)
    outcome = host.handle(topic(DBIRTH, "oven"), device_birth(1, 5.0), ARRIVAL)
    ((error),) = outcome.refused
    assert error.reason == "unknown_device" and "plant/gw1/oven" in error.detail


def test_readings_are_checked_as_native_telemetry() -> None:
    host = born_host(sparkplug_park())
    bad = host.handle(topic(DDATA, "line"), device_data(2, T0 + 60_000, -5.0, 10.0), ARRIVAL)
    assert bad.readings == [] and [e.reason for e in bad.refused] == ["out_of_range"]
    future = host.handle(topic(DDATA, "line"), device_data(3, 2**62, 101.0, 10.0), ARRIVAL)
    assert [e.reason for e in future.refused] == ["timestamp_out_of_window"]


def test_death_takes_devices_offline_and_a_stale_will_is_ignored() -> None:
    park = sparkplug_park()
    host = born_host(park)
    twin = Twin(park)
    twin.ingest(
        host.handle(topic(DDATA, "line"), device_data(2, T0 + 60_000, 100.5, 0), ARRIVAL).readings
    )
    twin.ingest([Reading("main", T0 + 120_000, {"power_kw": 1.0})])
    assert twin.snapshot().devices.row("m-line")["status"] == "online"
    bd = spb.Metric(timestamp=None, name="bdSeq", datatype=spb.DataType.UINT64, value=7)
    stale = host.handle(topic(NDEATH), spb.NDeath(None, bd).encode(), ARRIVAL)
    assert stale.offline == []  # the will of another session (bdSeq 7, birth said 0)
    bd = spb.Metric(timestamp=None, name="bdSeq", datatype=spb.DataType.UINT64, value=0)
    death = host.handle(topic(NDEATH), spb.NDeath(None, bd).encode(), ARRIVAL)
    assert sorted(death.offline) == [("m-line", T0 + 60_000), ("m-press", T0 + 60_000)]
    for device_id, at_ms in death.offline:
        twin.mark_offline([device_id], at_ms)
    assert twin.snapshot().devices.row("m-line")["status"] == "offline"
    # After its death the node's data is data before birth.
    after = host.handle(topic(DDATA, "line"), device_data(3, T0 + 180_000, 101.0, 0), ARRIVAL)
    assert [e.reason for e in after.refused] == ["sparkplug_before_birth"]
    # Born again, it reads again and is online.
    host.handle(topic(NBIRTH), node_birth(bd_seq=1), ARRIVAL)
    host.handle(topic(DBIRTH, "line"), device_birth(1, 101.0, T0 + 180_000), ARRIVAL)
    again = host.handle(topic(DDATA, "line"), device_data(2, T0 + 240_000, 101.2, 0), ARRIVAL)
    twin.ingest(again.readings)
    assert twin.snapshot().devices.row("m-line")["status"] == "online"
    restored = Twin.restore(park, None, twin.checkpoint())
    assert (restored.state.offline_ms == twin.state.offline_ms).all()


def test_a_device_death_takes_that_device_offline() -> None:
    host = born_host(sparkplug_park())
    outcome = host.handle(topic(DDEATH, "line"), spb.DDeath(T0 + 90_000, 2).encode(), ARRIVAL)
    assert outcome.offline == [("m-line", T0 + 90_000)]


def test_signed_integers_come_back_from_twos_complement() -> None:
    metric = decode_payload(
        spb.NData(T0, 1, (spb.Metric(T0, "x", spb.DataType.INT32, value=-5),)).encode()
    ).metrics[0]
    assert metric.int_value == 2**32 - 5  # Int32 as the data type of its birth says (3)
    assert metric_number(metric, 3) == -5.0


def our_payload(seq: int | None, ts: int | None, metrics: list[dict[str, Any]]) -> bytes:
    """A payload with exactly the fields given (a field left out is not sent)."""
    message = payload_class()()
    if seq is not None:
        message.seq = seq
    if ts is not None:
        message.timestamp = ts
    for fields in metrics:
        metric = message.metrics.add()
        for name, value in fields.items():
            setattr(metric, name, value)
    return bytes(message.SerializeToString())


VALUE_MEMBERS: list[tuple[str | None, list[Any]]] = [
    (None, [None]),
    ("int_value", [0, 5, 2**31, 2**32 - 1]),
    ("long_value", [0, 7, 2**63, 2**64 - 1]),
    ("float_value", [0.0, -0.0, 1.5, -2250.0, math.inf, -math.inf, math.nan]),
    ("double_value", [0.0, -0.0, 100.4, -1e300, math.inf, -math.inf, math.nan]),
    ("boolean_value", [False, True]),
    ("string_value", ["", "1.5"]),
    ("bytes_value", [b"", b"1"]),
]


def same_number(a: float | None, b: float | None) -> bool:
    """Equal as stored: the same type, value and sign, NaN equal to NaN."""
    if a is None or b is None:
        return a is b
    same = a == b or (math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and same and math.copysign(1, a) == math.copysign(1, b)


def test_a_metric_number_read_directly_is_the_number_of_the_member_sent() -> None:
    """``metric_number`` reads a Double or Float metric's non-zero value directly; the general
    path asks which member of the value oneof was sent: both give the same, whatever the
    member, the value, the null flag and the data type."""
    for member, values in VALUE_MEMBERS:
        for value in values:
            for is_null in (False, True):
                fields = {"is_null": is_null} if member is None else {member: value}
                if is_null:
                    fields["is_null"] = True
                (metric,) = decode_payload(our_payload(0, T0, [fields])).metrics
                for datatype in range(13):
                    fast, plain = metric_number(metric, datatype), member_number(metric, datatype)
                    assert same_number(fast, plain), (member, value, is_null, datatype)


def test_fields_sent_as_zero_are_told_from_fields_not_sent() -> None:
    """Sparkplug's payload is proto2: a seq, time or alias of 0 is sent, one left out is not."""
    host = born_host(sparkplug_park())  # seq 1 so far
    press = topic(DBIRTH, "press")
    births = [
        {"name": "Energy/Total", "alias": 0, "datatype": 10, "double_value": 5.0},
        {"name": "Power/Active", "alias": 7, "datatype": 10, "double_value": 0.0},
    ]
    birth = host.handle(press, our_payload(2, T0, births), ARRIVAL)
    assert birth.readings == [Reading("m-press", T0, {"energy_kwh": 5.0, "power_kw": 0.0})]
    data = topic(DDATA, "press")

    def send(seq: int | None, ts: int | None, *metrics: dict[str, Any]) -> Any:
        return host.handle(data, our_payload(seq, ts, list(metrics)), ARRIVAL)

    by_alias_0 = send(3, T0 + 1, {"alias": 0, "double_value": 6.0})
    assert by_alias_0.readings == [Reading("m-press", T0 + 1, {"energy_kwh": 6.0})]
    no_alias = send(4, T0 + 2, {"double_value": 6.5})
    assert [e.reason for e in no_alias.refused] == ["sparkplug_bad_protobuf"]
    at_time_0 = send(5, T0 + 3, {"alias": 0, "timestamp": 0, "double_value": 7.0})
    # The metric's own time, 0, not the payload's.
    assert at_time_0.readings == [Reading("m-press", 0, {"energy_kwh": 7.0})]
    for seq, ts in ((None, T0 + 4), (6, None)):
        unsent = send(seq, ts, {"alias": 0, "double_value": 8.0})
        assert [e.reason for e in unsent.refused] == ["sparkplug_bad_protobuf"], (seq, ts)
    send(255, T0 + 5)
    wrapped = send(0, T0 + 6, {"alias": 7, "double_value": 1.0})
    assert wrapped.seq_gaps == 0
    assert wrapped.readings == [Reading("m-press", T0 + 6, {"power_kw": 0.001})]


def test_values_checked_inline_are_refused_as_check_value_refuses_them() -> None:
    """A value inside its quantity's range is taken without calling ``check_value``; any other
    (out of range, not finite, at and beyond the bounds) is refused with check_value's own
    reason and detail, and the reading with it."""
    host = born_host(sparkplug_park())
    data = topic(DDATA, "line")
    edge = [0.0, -0.0, 5.0, 1e12, math.nextafter(1e12, math.inf), -1e-300, 2e9, -2e9]
    for seq, value in enumerate([*edge, math.nan, math.inf, -math.inf], start=2):
        metrics = [
            {"alias": ENERGY, "double_value": value},
            {"alias": POWER, "float_value": 1.0},
        ]
        got = host.handle(data, our_payload(seq, T0 + seq, metrics), ARRIVAL)
        power = 1.0 * 0.001
        try:
            expected = {"energy_kwh": check_value("energy_kwh", value), "power_kw": power}
        except PayloadError as exc:
            assert got.readings == []
            assert [(e.reason, e.detail) for e in got.refused] == [
                (exc.reason, f"plant/gw1/line: {exc.detail}")
            ]
        else:
            assert got.refused == []
            (reading,) = got.readings
            assert reading == Reading("m-line", T0 + seq, expected)
            assert math.copysign(1, reading.values["energy_kwh"]) == math.copysign(1, value)
    # The same for a scaled value: W in the message, kW checked.
    for seq, watts in enumerate([2e9, -2e9, 1e9, math.nan], start=100):
        metrics = [{"alias": POWER, "float_value": watts}]
        got = host.handle(data, our_payload(seq % 256, T0 + seq, metrics), ARRIVAL)
        kw = float(decode_payload(our_payload(0, 0, metrics)).metrics[0].float_value) * 0.001
        try:
            expected = {"power_kw": check_value("power_kw", kw)}
        except PayloadError as exc:
            assert [(e.reason, e.detail) for e in got.refused] == [
                (exc.reason, f"plant/gw1/line: {exc.detail}")
            ]
        else:
            assert got.readings == [Reading("m-line", T0 + seq, expected)]


def field_shape(field: Any) -> tuple[Any, ...]:
    """What a field is on the wire and to the decoder: number, type, repeated, presence, oneof."""
    oneof = field.containing_oneof.name if field.containing_oneof else None
    # protobuf 7 has is_repeated only; older releases (pyproject allows >=5.28) have label.
    repeated = getattr(field, "is_repeated", None)
    if repeated is None:
        repeated = field.label == field.LABEL_REPEATED
    return (field.number, field.type, repeated, field.has_presence, field.is_packed, oneof)


def test_our_schema_declares_every_field_as_pysparkplug_does() -> None:
    """Our schema (written from the specification) against pysparkplug's generated descriptor,
    read here only: every field of Payload, Metric and the nested types they reach."""
    seen: dict[str, str] = {}  # our message types by the path that first reached them

    def compare(ours: Any, theirs: Any, path: str) -> None:
        seen[ours.full_name] = path
        assert sorted(ours.fields_by_name) == sorted(theirs.fields_by_name), path
        assert list(ours.extension_ranges) == list(theirs.extension_ranges), path
        for field in ours.fields:
            other = theirs.fields_by_name[field.name]
            assert field_shape(field) == field_shape(other), f"{path}.{field.name}"
            if field.message_type is not None and field.message_type.full_name not in seen:
                compare(field.message_type, other.message_type, f"{path}.{field.name}")

    ours, theirs = payload_class().DESCRIPTOR, pysparkplug_pb2.Payload.DESCRIPTOR
    compare(ours, theirs, "Payload")
    reached = {name.removeprefix("parktwin.sparkplug.Payload.") for name in seen}
    assert {
        "parktwin.sparkplug.Payload",
        "Metric",
        "MetaData",
        "PropertySet",
        "PropertyValue",
        "PropertySetList",
        "DataSet",
        "DataSet.Row",
        "DataSet.DataSetValue",
        "Template",
        "Template.Parameter",
    } <= reached
    assert ours.full_name == "parktwin.sparkplug.Payload"  # our own, in a pool of its own


def same_as_pysparkplug(data: bytes) -> Any:
    """Our decoding of ``data``, checked field for field against pysparkplug's own parser."""
    message = decode_payload(data)
    theirs = pysparkplug_pb2.Payload.FromString(data)
    assert json_format.MessageToDict(message) == json_format.MessageToDict(theirs)
    assert message.SerializeToString() == data  # nothing left over as an unknown field
    return message


NUMBERS = [
    (spb.DataType.INT8, [-128, -1, 0, 127]),
    (spb.DataType.INT16, [-32_768, -5, 32_767]),
    (spb.DataType.INT32, [-(2**31), -5, 2**31 - 1]),
    (spb.DataType.INT64, [-(2**63), -5, 2**63 - 1]),
    (spb.DataType.UINT8, [0, 255]),
    (spb.DataType.UINT16, [0, 65_535]),
    (spb.DataType.UINT32, [0, 2**32 - 1]),
    (spb.DataType.UINT64, [0, 2**53, 2**64 - 1]),
    (spb.DataType.FLOAT, [-1.5, 0.0, 1500.0]),
    (spb.DataType.DOUBLE, [-0.1, 0.0, 100.4, 1e300]),
]


def test_every_numeric_type_pysparkplug_encodes_decodes_to_its_value() -> None:
    assert {int(datatype) for datatype, _ in NUMBERS} == NUMERIC
    metrics = [
        spb.Metric(T0 + i, f"{datatype.name}/{j}", datatype, value=value, alias=100 * i + j)
        for i, (datatype, values) in enumerate(NUMBERS)
        for j, value in enumerate(values)
    ]
    for kind in (spb.NBirth, spb.DBirth):
        message = same_as_pysparkplug(kind(timestamp=T0, seq=0, metrics=tuple(metrics)).encode())
        assert (message.timestamp, message.seq) == (T0, 0)
        assert len(message.metrics) == len(metrics)
        for sent, got in zip(metrics, message.metrics, strict=True):
            assert (got.name, got.alias, got.timestamp) == (sent.name, sent.alias, sent.timestamp)
            assert got.datatype == sent.datatype
            assert metric_number(got, got.datatype) == float(sent.value), sent.name
    # A null metric and a string are not numbers.
    null = spb.Metric(T0, "n", spb.DataType.DOUBLE, value=None, is_null=True)
    text = spb.Metric(T0, "s", spb.DataType.STRING, value="on")
    got = same_as_pysparkplug(spb.NBirth(T0, 0, (null, text)).encode()).metrics
    assert [metric_number(m, m.datatype) for m in got] == [None, None]


def test_data_by_alias_and_deaths_decode_as_pysparkplug_encodes_them() -> None:
    data = same_as_pysparkplug(device_data(7, T0 + 60_000, 100.4, -2250.0))
    assert (data.timestamp, data.seq) == (T0 + 60_000, 7)
    energy, power = data.metrics
    assert not energy.name and not energy.datatype  # the birth names them and gives their type
    assert (energy.alias, metric_number(energy, spb.DataType.DOUBLE)) == (ENERGY, 100.4)
    assert (power.alias, metric_number(power, spb.DataType.FLOAT)) == (POWER, -2250.0)
    bd = spb.Metric(timestamp=None, name="bdSeq", datatype=spb.DataType.UINT64, value=200)
    (death_bd,) = same_as_pysparkplug(spb.NDeath(None, bd).encode()).metrics
    assert (death_bd.name, metric_number(death_bd, death_bd.datatype)) == ("bdSeq", 200.0)
    assert not death_bd.HasField("timestamp")
    device_death = same_as_pysparkplug(spb.DDeath(T0 + 90_000, 3).encode())
    assert (device_death.timestamp, device_death.seq, len(device_death.metrics)) == (
        T0 + 90_000,
        3,
        0,
    )


def test_our_rebirth_command_is_what_pysparkplug_reads() -> None:
    command = spb.NCmd.decode(rebirth_command(T0))
    assert command.timestamp == T0
    ((metric),) = command.metrics
    assert (metric.name, metric.datatype, metric.value) == (
        "Node Control/Rebirth",
        spb.DataType.BOOLEAN,
        True,
    )


def test_the_park_file_names_what_is_wrong_in_the_sparkplug_section() -> None:
    text = SPARKPLUG_PARK.format(group="plant", park_id="spb").replace(
        "gw1/press: m-press", "gw1/press: nobody"
    )
    text = text.replace("power_kw: {metric", "watts: {metric")
    with pytest.raises(ParkFileError) as caught:
        parse_park(text, "park.yaml")
    message = str(caught.value)
    assert "unknown device 'nobody'" in message and "unknown quantity 'watts'" in message


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.mark.integration
async def test_sparkplug_messages_through_the_broker_are_stored_once_and_bad_ones_dead_lettered(
    mosquitto: Mosquitto, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    park_id = f"spb{uuid.uuid4().hex[:6]}"
    park = sparkplug_park(park_id)
    group = park.sparkplug[0].group
    settings = collector_settings(
        mosquitto.port, tmp_path, {"api": "v1", "url": influxdb.url, "database": influxdb.name}
    )
    letters: list[dict[str, Any]] = []
    ready = asyncio.Event()
    listener = asyncio.create_task(collect_dead_letters(settings.mqtt, park_id, ready, letters))
    await ready.wait()
    commands: list[bytes] = []
    commands_ready = asyncio.Event()

    async def listen_for_commands() -> None:
        async with make_client(settings.mqtt, f"node-{uuid.uuid4().hex[:8]}") as client:
            await client.subscribe(f"spBv1.0/{group}/NCMD/gw1", qos=1)
            commands_ready.set()
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                commands.append(message.payload)

    node = asyncio.create_task(listen_for_commands())
    await commands_ready.wait()
    collector = Collector(park, settings)
    messages = [
        (topic(DDATA, "line"), device_data(9, T0, 1.0, 1.0)),  # before birth: rebirth asked
        (topic(NBIRTH), node_birth()),
        (topic(DBIRTH, "line"), device_birth(1, 100.0)),
        (topic(DBIRTH, "press"), device_birth(2, 7.0)),
        *[
            (topic(DDATA, "line"), device_data(3 + i, T0 + (i + 1) * 60_000, 100.0 + i, 900.0))
            for i in range(5)
        ],
        # seq counts every message of the node: 8 is cut short and lost, so 9 is a gap.
        (topic(DDATA, "press"), device_data(8, T0 + 60_000, 7.5, 100.0)[:-4]),
        (topic(DDATA, "press"), device_data(9, T0 + 120_000, 8.0, 100.0)),
    ]
    async with running(collector):
        async with make_client(settings.mqtt, f"pub-{uuid.uuid4().hex[:8]}") as client:
            for message_topic, body in messages:
                await client.publish(message_topic, body, qos=1)
        # 1 + 5 line readings, 1 + 1 press readings.
        await wait_until(lambda: collector.stats.readings_written >= 8, 30)
        await wait_until(lambda: len(letters) >= 2 and len(commands) >= 2, 10)
    listener.cancel()
    node.cancel()
    rows = influxdb.query(
        f"SELECT energy_kwh, power_kw FROM electricity WHERE park = '{park_id}' GROUP BY device"
    )
    stored = {s["tags"]["device"]: s["values"] for s in rows}  # type: ignore[index]
    assert stored["m-line"] == [[T0, 100.0, 1.5]] + [
        [T0 + (i + 1) * 60_000, 100.0 + i, 0.9] for i in range(5)
    ]
    assert stored["m-press"] == [[T0, 7.0, 1.5], [T0 + 120_000, 8.0, 0.1]]
    assert Counter(str(letter["reason"]) for letter in letters) == Counter(
        {"sparkplug_before_birth": 1, "sparkplug_bad_protobuf": 1}
    )
    assert collector.stats.rejected_by_reason == Counter(
        {"sparkplug_before_birth": 1, "sparkplug_bad_protobuf": 1}
    )
    # A rebirth asked for the data before birth, and one for the gap the lost message left.
    assert collector.stats.sparkplug_rebirths_requested == 2
    assert collector.stats.sparkplug_seq_gaps == 1
    for command in commands:
        (metric,) = decode_payload(command).metrics
        assert (metric.name, metric.boolean_value) == ("Node Control/Rebirth", True)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CollectorMetrics(collector.stats, lambda: 0))
    text = render(registry).decode()
    assert 'parktwin_collector_messages_rejected_total{reason="sparkplug_bad_protobuf"} 1.0' in text
    assert "parktwin_collector_sparkplug_rebirths_requested_total 2.0" in text


@pytest.mark.integration
async def test_the_twin_reads_sparkplug_devices_and_a_death_takes_them_offline(
    mosquitto: Mosquitto, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    park = sparkplug_park(f"spb{uuid.uuid4().hex[:6]}")
    settings = load_settings(
        None,
        mqtt__port=mosquitto.port,
        influx__url=influxdb.url,
        influx__database=influxdb.name,
        twin__client_id=f"twin-{uuid.uuid4().hex[:6]}",
        twin__checkpoint_folder=tmp_path,
        twin__tick_s=0.3,
        collector__max_future_s=1e9,
        api__port=0,
    )
    service = twin_service(park, settings)  # as the programs wire it: the collectors' decoder
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop, serve_api=False))
    try:
        await wait_until(lambda: service.intake.connected or task.done(), 30)
        bd = spb.Metric(timestamp=None, name="bdSeq", datatype=spb.DataType.UINT64, value=0)
        async with make_client(settings.mqtt, f"gw1-{uuid.uuid4().hex[:8]}") as client:
            for message_topic, body in [
                (topic(NBIRTH), node_birth()),
                (topic(DBIRTH, "line"), device_birth(1, 100.0)),
                (topic(DDATA, "line"), device_data(2, T0 + 60_000, 100.5, 900.0)),
                (topic(DDATA, "line"), device_data(3, T0 + 120_000, 101.25, 900.0)),
            ]:
                await client.publish(message_topic, body, qos=1)
            await wait_until(lambda: service.stats.readings_ingested >= 3, 20)
            snapshot = service.twin.snapshot()
            assert snapshot.flows.get("m-line", "energy_kwh", "day") == pytest.approx(1.25)
            assert snapshot.devices.row("m-line")["status"] == "online"
            await client.publish(topic(NDEATH), spb.NDeath(None, bd).encode(), qos=1)

            def offline() -> bool:
                return service.twin.snapshot().devices.row("m-line")["status"] == "offline"

            await wait_until(offline, 20)
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


def test_the_acl_lets_the_services_read_the_group_and_ask_its_nodes_for_rebirths(
    tmp_path: Path,
) -> None:
    park_file = tmp_path / "park.yaml"
    park_file.write_text(SPARKPLUG_PARK.format(group="plant", park_id="spb"))
    acl = subprocess.run(
        [sys.executable, "-m", "programs", "acl", "--park", str(park_file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for user in ("parktwin", "collector", "twin"):
        block = acl.split(f"user {user}\n")[1].split("\n\n")[0]
        assert "topic read spBv1.0/plant/#" in block
        assert "topic write spBv1.0/plant/NCMD/+" in block
    operator = acl.split("user operator\n")[1].split("\n\n")[0]
    assert "spBv1.0" not in operator


def test_a_quantity_the_devices_kind_does_not_report_is_refused_as_native_telemetry() -> None:
    # The host checks each target's device and kind once (Target.checked); one that fails
    # still has every reading refused by check_reading, with its reason.
    text = SPARKPLUG_PARK.format(group="plant", park_id="spb").replace(
        "gw1/press: m-press", "gw1/press: m-press, gw1/main: main"
    )
    host = SparkplugHost(parse_park(text, "sparkplug_park"), LIMITS)
    host.handle(topic(NBIRTH), node_birth(), ARRIVAL)
    outcome = host.handle(topic(DBIRTH, "main"), device_birth(1, 5.0), ARRIVAL)
    assert outcome.readings == []
    assert [e.reason for e in outcome.refused] == ["quantity_not_for_kind"]
    good = host.handle(topic(DBIRTH, "line"), device_birth(2, 5.0), ARRIVAL)
    assert [r.device_id for r in good.readings] == ["m-line"] and good.refused == []


def random_data_metric(rng: random.Random, ts: int) -> dict[str, Any]:
    """A data metric as encoders send it (by alias, of its birth's type, at ``ts``), or one
    that differs from that in one way."""
    alias = rng.choice([ENERGY, POWER, ENERGY, POWER, RATED])
    member = {ENERGY: "double_value", POWER: "float_value", RATED: "int_value"}[alias]
    fields: dict[str, Any] = {"alias": alias, member: rng.randrange(1, 5000)}
    if member != "int_value":
        fields[member] = rng.uniform(0.001, 5000)
    fields["timestamp"] = ts
    odd = rng.randrange(40)
    if odd == 0:
        fields["alias"] = rng.choice([0, 9])  # neither is in the birth
    elif odd == 1:
        fields["name"] = rng.choice(["Energy/Total", "Power/Active", "Other"])
    elif odd == 2:
        del fields["alias"]
        fields["name"] = "Energy/Total"
    elif odd == 3:
        del fields["alias"]  # neither name nor alias
    elif odd == 4:
        fields["datatype"] = rng.choice([3, 9, 10, 11, 12])
    elif odd in (5, 6) and member != "int_value":
        fields[member] = rng.choice([0.0, -0.0, 1e9, -5.0, math.inf, -math.inf, math.nan])
    elif odd == 7:
        other = "double_value" if member != "double_value" else "float_value"
        fields.pop(member)
        fields[other] = rng.uniform(0.001, 5000)  # a member other than the type's
    elif odd == 8:
        fields["is_null"] = True
    elif odd == 9:
        fields["timestamp"] = ts + rng.choice([1, -1])
    elif odd == 10:
        fields["timestamp"] = rng.choice([0, 4 * ARRIVAL])  # at 0; beyond the time window
    elif odd == 11:
        del fields["timestamp"]
    return fields


def test_the_common_data_message_shortcut_gives_what_the_general_path_gives() -> None:
    """Data messages by alias, of one time, Double or Float, in range, take one loop
    (``SparkplugHost._plain_reading``); a host without the shortcut gives, message by
    message, the same readings, refusals, commands and counts, whatever the message."""
    rng = random.Random(20)
    park = sparkplug_park()
    fast, plain = SparkplugHost(park, LIMITS), SparkplugHost(park, LIMITS, shortcuts=False)
    taken = 0
    spy = fast._plain_reading

    def counted(*args: Any) -> Reading | None:
        nonlocal taken
        reading = spy(*args)
        taken += reading is not None
        return reading

    fast._plain_reading = counted  # type: ignore[method-assign]
    seq = {"line": 1, "press": 1}
    births = [(topic(NBIRTH), node_birth())]
    for device in ("line", "press"):
        births.append((topic(DBIRTH, device), device_birth(seq[device], 100.0)))
        seq[device] += 1
    messages = list(births)
    for n in range(3000):
        device = rng.choice(["line", "press"])
        ts = T0 + n * 1000
        count = rng.choice([1, 2, 2, 2, 3])
        metrics = [random_data_metric(rng, ts) for _ in range(count)]
        number = seq[device] % 256 if rng.random() < 0.97 else rng.randrange(256)
        seq[device] = number + 1
        sent_ts = ts if rng.random() < 0.95 else None
        messages.append((topic(DDATA, device), our_payload(number, sent_ts, metrics)))
    for where, payload in messages:
        a, b = fast.handle(where, payload, ARRIVAL), plain.handle(where, payload, ARRIVAL)
        assert a.readings == b.readings, payload
        assert [(e.reason, e.detail) for e in a.refused] == [
            (e.reason, e.detail) for e in b.refused
        ], payload
        assert (a.commands, a.offline, a.rebirths, a.seq_gaps) == (
            b.commands,
            b.offline,
            b.rebirths,
            b.seq_gaps,
        )
        # The node's latest event time (a death's time) too.
        assert [s.last_ts_ms for s in fast._nodes.values()] == [
            s.last_ts_ms for s in plain._nodes.values()
        ]
    assert 1000 < taken < 2900  # both the shortcut and the general path were taken often
