"""parktwin's MQTT v5 packets checked against an independent implementation, paho-mqtt: what we
send, paho reads as meant; what paho writes (as a client or as property lists), we read as meant;
the properties each packet may carry are the standard's as paho lists them; and a stream of every
packet a client reads decodes the same however the reads split it. Arbitrary bytes, split
anywhere, end in the documented error (``MalformedPacket``) and nothing else, within a bounded
buffer. Section numbers refer to the OASIS MQTT Version 5.0 standard."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from helpers import WireReader, mixed_stream, packet
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from parktwin.wire.inbound import (
    InboundLimits,
    InboundPacket,
    Message,
    PubRel,
    SubAck,
    decode_inbound,
)
from parktwin.wire.packets import (
    ACK_PROPERTIES,
    CONNACK_PROPERTIES,
    DISCONNECT_PROPERTIES,
    PROPERTY_TYPES,
    PUBACK,
    PUBCOMP,
    PUBLISH_PROPERTIES,
    PUBREC,
    PUBREL,
    ConnAck,
    Disconnect,
    MalformedPacket,
    PingResp,
    PubAck,
    decode_properties,
    encode_ack,
    encode_connect,
    encode_disconnect,
    encode_publish,
    encode_string,
    encode_subscribe,
    encode_varint,
)

# --- the test's own framing and paho's reading of properties ---------------------------------


def split_packets(data: bytes) -> list[tuple[int, bytes]]:
    """(first byte, body) of each packet in ``data`` (2.1.1), read by the test, not the code."""
    packets, pos = [], 0
    while pos < len(data):
        first, length, shift, pos = data[pos], 0, 0, pos + 1
        while True:
            byte = data[pos]
            pos += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        packets.append((first, data[pos : pos + length]))
        pos += length
    assert pos == len(data)
    return packets


def paho_reads(packet_type: int, data: bytes) -> tuple[dict[int, Any], int]:
    """The property list at the start of ``data`` as paho reads it (identifier to value, user
    properties as a list of pairs), and its size."""
    properties = Properties(packet_type)
    _, size = properties.unpack(data)
    read = {}
    for name, ident in properties.names.items():
        attribute = name.replace(" ", "")
        if hasattr(properties, attribute):
            value = getattr(properties, attribute)
            read[ident] = [tuple(p) for p in value] if ident == 0x26 else value
    return read, size


def as_paho_reads(ours: dict[int, Any]) -> dict[int, Any]:
    """Our decoded properties in paho's shapes (it keeps subscription identifiers as a list)."""
    return {ident: [value] if ident == 0x0B else value for ident, value in ours.items()}


# --- the properties each packet may carry (2.2.2.2) -------------------------------------------


@pytest.mark.parametrize(
    ("packet_type", "ours"),
    [
        (PacketTypes.PUBLISH, PUBLISH_PROPERTIES),
        (PacketTypes.CONNACK, CONNACK_PROPERTIES),
        (PacketTypes.PUBACK, ACK_PROPERTIES),
        (PacketTypes.PUBREL, ACK_PROPERTIES),
        (PacketTypes.SUBACK, ACK_PROPERTIES),
        (PacketTypes.DISCONNECT, DISCONNECT_PROPERTIES),
    ],
)
def test_each_packet_allows_the_properties_the_standard_lists(
    packet_type: int, ours: frozenset[int]
) -> None:
    table = Properties(packet_type).properties
    assert ours == {ident for ident, (_, types) in table.items() if packet_type in types}
    assert set(PROPERTY_TYPES) == set(table)


# Every property a client reads, with values paho writes; names as paho spells them.
values = {
    "PayloadFormatIndicator": st.integers(0, 1),
    "MessageExpiryInterval": st.integers(0, 2**32 - 1),
    "ContentType": st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0")),
    "ResponseTopic": st.text(st.characters(blacklist_categories=("Cs",)), min_size=1).filter(
        lambda t: "\0" not in t and "+" not in t and "#" not in t
    ),
    "CorrelationData": st.binary(max_size=300),
    "TopicAlias": st.integers(1, 65535),
    "UserProperty": st.lists(
        st.tuples(st.text(max_size=20), st.text(max_size=20)).filter(
            lambda kv: "\0" not in kv[0] + kv[1]
        ),
        max_size=4,
    ),
}


@given(st.fixed_dictionaries({}, optional=values))
def test_publish_properties_paho_writes_are_read_the_same(chosen: dict[str, Any]) -> None:
    properties = Properties(PacketTypes.PUBLISH)
    for name, value in chosen.items():
        setattr(properties, name, value)
    packed = properties.pack()
    ours, end = decode_properties(packed, 0, allowed=PUBLISH_PROPERTIES)
    assert end == len(packed)
    assert paho_reads(PacketTypes.PUBLISH, packed)[0] == as_paho_reads(ours)
    # ... and a PUBLISH carrying them is decoded past them to its payload, in place
    topic = "" if "TopicAlias" in chosen else "parks/p1/t"
    body = encode_string(topic or "parks/p1/t") + b"\x00\x07" + packed + b"payload"
    limits = InboundLimits(topic_alias_maximum=65535)
    messages: list[Message] = []
    decode_inbound(packet(0x32, body), messages, [], set(), limits)
    assert [(m.topic, m.payload, m.mid) for m in messages] == [("parks/p1/t", b"payload", 7)]


def test_every_connack_property_paho_writes_is_read_the_same() -> None:
    properties = Properties(PacketTypes.CONNACK)
    properties.SessionExpiryInterval = 600
    properties.AssignedClientIdentifier = "auto-1"
    properties.ServerKeepAlive = 20
    properties.AuthenticationMethod = "SCRAM"
    properties.AuthenticationData = b"\x01\x02"
    properties.ResponseInformation = "resp/"
    properties.ServerReference = "other:1883"
    properties.ReasonString = "welcome"
    properties.ReceiveMaximum = 100
    properties.TopicAliasMaximum = 10
    properties.MaximumQoS = 1
    properties.RetainAvailable = 0
    properties.UserProperty = [("a", "1"), ("a", "2")]
    properties.MaximumPacketSize = 4096
    properties.WildcardSubscriptionAvailable = 1
    properties.SubscriptionIdentifierAvailable = 0
    properties.SharedSubscriptionAvailable = 1
    packets: list[InboundPacket] = []
    decode_inbound(packet(0x20, b"\x01\x00" + properties.pack()), [], packets, set())
    (connack,) = packets
    assert isinstance(connack, ConnAck)
    assert paho_reads(PacketTypes.CONNACK, properties.pack())[0] == connack.properties
    assert (connack.receive_maximum, connack.maximum_qos, connack.retain_available) == (
        100,
        1,
        False,
    )


def test_acks_and_disconnect_with_properties_paho_writes_are_read_the_same() -> None:
    def with_reason(packet_type: int) -> bytes:
        properties = Properties(packet_type)
        properties.ReasonString = "why"
        properties.UserProperty = ("k", "v")
        return properties.pack()

    stream = (
        packet(0x40, b"\x00\x05\x87" + with_reason(PacketTypes.PUBACK))
        + packet(0x62, b"\x00\x06\x00" + with_reason(PacketTypes.PUBREL))
        + packet(0x90, b"\x00\x07" + with_reason(PacketTypes.SUBACK) + b"\x01\x80")
        + packet(0xE0, b"\x8b" + with_reason(PacketTypes.DISCONNECT))
    )
    packets: list[InboundPacket] = []
    assert decode_inbound(stream, [], packets, set()) == len(stream)
    assert packets == [
        PubAck(5, 0x87, "why"),
        PubRel(6),
        SubAck(7, (0x01, 0x80), "why"),
        Disconnect(0x8B, "why"),
    ]


def test_a_property_out_of_place_or_twice_is_a_protocol_error() -> None:
    twice = Properties(PacketTypes.PUBLISH)
    twice.ContentType = "a"
    twice_bytes = twice.pack()[1:] * 2
    wrong = b"\x21\x00\x05"  # Receive Maximum, a CONNACK's, in a PUBLISH
    for properties in (twice_bytes, wrong):
        body = encode_string("a/b") + b"\x00\x01" + encode_varint(len(properties)) + properties
        with pytest.raises(MalformedPacket) as raised:
            decode_inbound(packet(0x32, body), [], [], set())
        assert raised.value.reason_code == 0x82


# --- what we send, as paho sends it and reads it ----------------------------------------------


def paho_writes(act: Any, answer: bytes = b"") -> bytes:
    """The bytes a paho v5 client writes when ``act(client)`` runs after connecting; the test's
    socket answers ``answer`` first (a CONNACK, and whatever paho should react to)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, "c1", protocol=mqtt.MQTTv5)
        client.username_pw_set("user", "päss")
        act(client, server.getsockname()[1])
        connection, _ = server.accept()
        with connection:
            connection.settimeout(0.2)
            if answer:
                connection.sendall(answer)
            data = b""
            deadline = time.monotonic() + 1.5
            while time.monotonic() < deadline:
                client.loop(timeout=0.05)
                with contextlib.suppress(TimeoutError):
                    data += connection.recv(65536)
        client.socket().close()  # type: ignore[union-attr]
        return data


def test_a_persistent_subscribers_connect_is_what_paho_sends() -> None:
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 604800
    properties.ReceiveMaximum = 20000
    properties.MaximumPacketSize = 1048576
    properties.TopicAliasMaximum = 16

    def connect(client: mqtt.Client, port: int) -> None:
        client.connect("127.0.0.1", port, 30, clean_start=False, properties=properties)

    (paho,) = split_packets(paho_writes(connect))
    (ours,) = split_packets(
        encode_connect(
            "c1",
            keepalive_s=30,
            clean_start=False,
            session_expiry_s=604800,
            username="user",
            password="päss".encode(),
            receive_maximum=20000,
            maximum_packet_size=1048576,
            topic_alias_maximum=16,
        )
    )
    assert paho[0] == ours[0] == 0x10
    # The same variable header and payload; the properties the same, in whatever order.
    head = 10  # protocol name, level, flags, keep alive
    assert paho[1][:head] == ours[1][:head]
    paho_properties, paho_size = paho_reads(PacketTypes.CONNECT, paho[1][head:])
    our_properties, our_size = paho_reads(PacketTypes.CONNECT, ours[1][head:])
    assert paho_properties == our_properties
    assert paho[1][head + paho_size :] == ours[1][head + our_size :]


def test_subscribe_is_what_paho_sends() -> None:
    connack = packet(0x20, b"\x00\x00\x00")

    def subscribe(client: mqtt.Client, port: int) -> None:
        client.connect("127.0.0.1", port, 30)
        client.on_connect = lambda c, *_: c.subscribe([("$share/g/parks/p1/#", 1), ("x/+", 1)])

    paho = split_packets(paho_writes(subscribe, connack))
    sent = [p for p in paho if p[0] == 0x82]
    assert sent, paho
    packet_id = int.from_bytes(sent[0][1][:2], "big")
    ours = encode_subscribe(packet_id, ["$share/g/parks/p1/#", "x/+"], 1)
    assert packet(*sent[0]) == ours


def test_acknowledgements_are_what_paho_sends_for_the_same_messages() -> None:
    """paho, fed QoS 1 and 2 publishes and a PUBREL, answers PUBACK, PUBREC and PUBCOMP."""
    props = Properties(PacketTypes.PUBLISH)
    props.ContentType = "application/json"
    props.UserProperty = ("site", "north")
    body1 = encode_string("a/b") + b"\x00\x11" + props.pack() + b"1"
    answer = (
        packet(0x20, b"\x00\x00\x00")
        + packet(0x32, body1)
        + packet(0x34, encode_string("a/b") + b"\x00\x12\x00" + b"2")
        + encode_ack(PUBREL | 2, 0x12)
    )

    def connect(client: mqtt.Client, port: int) -> None:
        client.connect("127.0.0.1", port, 30)

    paho = [packet(*p) for p in split_packets(paho_writes(connect, answer))][1:]
    assert paho == [encode_ack(PUBACK, 0x11), encode_ack(PUBREC, 0x12), encode_ack(PUBCOMP, 0x12)]
    messages: list[Message] = []
    qos2: set[int] = set()
    decode_inbound(answer[5:], messages, [], qos2)
    assert [(m.topic, m.payload, m.qos, m.mid) for m in messages] == [
        ("a/b", b"1", 1, 0x11),
        ("a/b", b"2", 2, 0x12),
    ]
    assert qos2 == {0x12}


def test_what_we_send_has_the_bits_paho_reads() -> None:
    """Our PUBLISH (DUP, QoS, retain), acknowledgements, PINGREQ and DISCONNECT, by the bits
    paho's client tests (its ``_packet_handle`` reads command >> 4 and the flags)."""
    topic = encode_string("parks/p1/dead_letters")
    publish = encode_publish(topic, b"x", 1, 7, retain=True)
    ((first, body),) = split_packets(publish)
    assert first >> 4 == PacketTypes.PUBLISH and first & 0x06 == 2 and first & 1
    assert body[len(topic) : len(topic) + 2] == b"\x00\x07"
    assert paho_reads(PacketTypes.PUBLISH, body[len(topic) + 2 :]) == ({}, 1)
    for ack, kind in ((PUBACK, PacketTypes.PUBACK), (PUBREC, PacketTypes.PUBREC)):
        assert split_packets(encode_ack(ack, 9)) == [(kind << 4, b"\x00\x09")]
    assert split_packets(encode_ack(PUBCOMP, 9)) == [(PacketTypes.PUBCOMP << 4, b"\x00\x09")]
    assert split_packets(encode_disconnect(0x95)) == [(PacketTypes.DISCONNECT << 4, b"\x95")]


# --- a stream of every packet a client reads, however it is split ------------------------------


def read(reads: list[bytes]) -> WireReader:
    async def run() -> WireReader:
        reader = WireReader(InboundLimits(maximum_packet_size=4096, topic_alias_maximum=8))
        reader.feed(reads)
        return reader

    return asyncio.run(run())


def outcome(reader: WireReader) -> tuple[object, ...]:
    return (reader.messages, reader.packets, reader.qos2, reader._error, reader._buffered)


def test_a_mixed_stream_decodes_the_same_split_at_every_point() -> None:
    stream = mixed_stream()
    whole = read([stream])
    assert whole._error is None and whole._buffered == 0
    assert [(m.topic, m.payload, m.qos, m.retain) for m in whole.messages] == [
        ("a/b", b"q0", 0, False),
        ("parks/p1/m", b"{}", 1, False),
        ("parks/p1/m", b"x" * 300, 2, False),  # by its topic alias
        ("r", b"retained", 0, True),
    ]
    assert [type(p) for p in whole.packets] == [
        ConnAck,
        SubAck,
        PubAck,
        PubRel,
        PingResp,
        Disconnect,
    ]
    for cut in range(1, len(stream)):
        assert outcome(read([stream[:cut], stream[cut:]])) == outcome(whole), cut
    assert outcome(read([stream[i : i + 1] for i in range(len(stream))])) == outcome(whole)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_arbitrary_bytes_split_anywhere_end_in_the_documented_error_only(
    data: st.DataObject,
) -> None:
    stream = mixed_stream()
    base = data.draw(st.sampled_from(["random", "mutated"]))
    if base == "random":
        raw = data.draw(st.binary(max_size=2000))
    else:  # a valid stream with a few bytes changed: deeper into each decoder
        raw = bytearray(stream)
        for _ in range(data.draw(st.integers(1, 4))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
        raw = bytes(raw)
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(raw)), max_size=10))))
    reads = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True) if b > a]
    reader = read(reads)  # any exception but MalformedPacket would escape here
    assert reader._error is None or isinstance(reader._error, MalformedPacket)
    # Memory stays bounded: never more kept than one packet under the limit and one read.
    assert reader.most_buffered <= 4096 + max((len(r) for r in reads), default=0)


def test_a_packet_header_beyond_the_limit_is_refused_before_its_body() -> None:
    reader = read([b"\x30\xff\xff\xff\x7f"])  # announces 268,435,455 bytes
    assert isinstance(reader._error, MalformedPacket) and reader._error.reason_code == 0x95
    assert reader._buffered == 0
