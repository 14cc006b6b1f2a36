"""MQTT 5.0 packets of the simulator's publisher: byte for byte what paho sends and reads."""

from __future__ import annotations

import socket
import time

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from parktwin.wire.packets import (
    MAX_REMAINING_LENGTH,
    PUBACK,
    ConnAck,
    ConnectRefused,
    Disconnect,
    MalformedPacket,
    PingResp,
    PubAck,
    PublishRefused,
    ServerDisconnected,
    Will,
    decode_packets,
    decode_properties,
    decode_varint,
    encode_ack,
    encode_connect,
    encode_disconnect,
    encode_pubacks,
    encode_publish,
    encode_string,
    encode_varint,
    reason_name,
)


def paho_sends(connect: dict[str, object], publishes: list[tuple[str, bytes, int, bool]]) -> bytes:
    """The bytes a paho v5 client writes for a connect and some publishes."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, "sim-p1", protocol=mqtt.MQTTv5)
        client.username_pw_set("user", "päss")
        client.will_set("parks/p1/gateways/g/status", b"offline", 1, True)
        client.connect("127.0.0.1", server.getsockname()[1], **connect)  # type: ignore[arg-type]
        connection, _ = server.accept()
        with connection:
            for topic, payload, qos, retain in publishes:
                client.publish(topic, payload, qos, retain)
            client.loop_write()
            client.loop_write()
            connection.settimeout(5)
            data = b""
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not data.endswith(publishes[-1][1]):
                data += connection.recv(65536)
        client.socket().close()  # type: ignore[union-attr]
        return data


def test_connect_and_publish_are_what_paho_sends() -> None:
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 3600
    publishes = [
        ("a/b", b"xyz", 1, True),
        ("a/ü", b"x" * 200, 0, False),
        ("c", b"y" * 20000, 1, False),
    ]
    paho = paho_sends({"keepalive": 30, "clean_start": True, "properties": properties}, publishes)
    connect = encode_connect(
        "sim-p1",
        keepalive_s=30,
        session_expiry_s=3600,
        username="user",
        password="päss".encode(),
        will=Will("parks/p1/gateways/g/status", b"offline", qos=1, retain=True),
    )
    # paho numbers every message, QoS 0 ones too, but sends the id only at QoS 1, as we do
    ours = connect + b"".join(
        encode_publish(encode_string(topic), payload, qos, packet_id, retain)
        for packet_id, (topic, payload, qos, retain) in enumerate(publishes, start=1)
    )
    assert paho == ours


def test_connect_without_credentials_or_will() -> None:
    packet = encode_connect("c", keepalive_s=0)
    assert packet == b"\x10\x0e\x00\x04MQTT\x05\x02\x00\x00\x00\x00\x01c"


def test_disconnect_and_refusal_messages() -> None:
    assert encode_disconnect() == b"\xe0\x00"
    assert encode_disconnect(0x04) == b"\xe0\x01\x04"
    assert reason_name(0x86) == "0x86 bad user name or password"
    assert str(ConnectRefused(0x87)) == "the broker refused the connection: 0x87 not authorized"
    assert "0x97 quota exceeded (packet id 7)" in str(PublishRefused(0x97, "packet id 7"))
    assert "0x8E session taken over" in str(ServerDisconnected(0x8E))


@given(st.integers(min_value=0, max_value=MAX_REMAINING_LENGTH))
def test_variable_byte_integers_round_trip(value: int) -> None:
    encoded = encode_varint(value)
    assert len(encoded) == 1 + (value >= 128) + (value >= 16384) + (value >= 2_097_152)
    assert decode_varint(b"!" + encoded, 1) == (value, 1 + len(encoded))
    assert decode_varint(encoded[:-1], 0) is None  # incomplete


def test_variable_byte_integers_have_bounds() -> None:
    assert encode_varint(321) == b"\xc1\x02"  # the spec's example (1.5.5)
    with pytest.raises(ValueError):
        encode_varint(MAX_REMAINING_LENGTH + 1)
    with pytest.raises(MalformedPacket):
        decode_varint(b"\xff\xff\xff\xff\x01", 0)


def test_strings_are_length_prefixed_utf8_without_nul() -> None:
    assert encode_string("A𪛔") == b"\x00\x05A\xf0\xaa\x9b\x94"  # the spec's example (1.5.4)
    with pytest.raises(ValueError):
        encode_string("a\x00b")
    with pytest.raises(ValueError):
        encode_string("x" * 65536)


def test_publish_lengths_cross_the_varint_steps() -> None:
    topic = encode_string("t")
    for size in (0, 121, 122, 16377, 16378, 2_000_000):
        packet = encode_publish(topic, b"p" * size, 1, 65535)
        length, start = decode_varint(packet, 1) or (0, 0)
        assert start + length == len(packet)
        assert packet[start : start + 6] == b"\x00\x01t\xff\xff\x00"
    with pytest.raises(ValueError):
        encode_publish(topic, b"", 1, 0)


def test_connack_properties_are_read_as_paho_writes_them() -> None:
    properties = Properties(PacketTypes.CONNACK)
    properties.ReceiveMaximum = 100
    properties.MaximumQoS = 1
    properties.RetainAvailable = 0
    properties.MaximumPacketSize = 4096
    properties.ServerKeepAlive = 20
    properties.AssignedClientIdentifier = "auto-1"
    properties.ReasonString = "welcome"
    properties.UserProperty = [("a", "1"), ("b", "2")]
    body = b"\x01\x00" + properties.pack()
    decoded = decode_packets(bytes((0x20,)) + encode_varint(len(body)) + body)
    (connack,) = decoded.packets
    assert isinstance(connack, ConnAck)
    assert connack.session_present and connack.reason_code == 0
    assert connack.receive_maximum == 100 and connack.maximum_qos == 1
    assert not connack.retain_available and connack.maximum_packet_size == 4096
    assert connack.server_keep_alive == 20 and connack.reason_string == "welcome"
    assert connack.properties[0x26] == [("a", "1"), ("b", "2")]
    plain = ConnAck(False, 0)
    assert (plain.receive_maximum, plain.maximum_qos, plain.retain_available) == (65535, 2, True)


def test_pubacks_pings_and_disconnects_are_split_from_a_stream() -> None:
    refusal = Properties(PacketTypes.PUBACK)
    refusal.ReasonString = "no"
    refused_body = b"\x00\x09\x87" + refusal.pack()
    stream = (
        b"\x40\x02\x00\x01"  # plain PUBACK
        + b"\x40\x03\x00\x02\x10"  # "no matching subscribers" is a success
        + b"\x40\x04\x00\x03\x00\x00"  # success with an empty property list
        + bytes((0x40, len(refused_body)))
        + refused_body
        + b"\xd0\x00"
        + b"\xe0\x01\x8e"
        + b"\xe0\x00"
        + b"\x40\x02\x00"  # the start of the next packet
    )
    decoded = decode_packets(stream)
    assert decoded.acked == [1, 2, 3]
    assert decoded.packets == [PubAck(9, 0x87, "no"), PingResp(), Disconnect(0x8E), Disconnect()]
    assert decoded.consumed == len(stream) - 3


@given(st.lists(st.integers(min_value=1, max_value=65535), max_size=50), st.data())
def test_pubacks_split_anywhere_decode_the_same(ids: list[int], data: st.DataObject) -> None:
    stream = b"".join(
        b"\x40\x02" + i.to_bytes(2, "big")
        if i % 2
        else b"\x40\x03" + i.to_bytes(2, "big") + b"\x10"
        for i in ids
    )
    cut = data.draw(st.integers(min_value=0, max_value=len(stream)))
    first = decode_packets(stream[:cut])
    second = decode_packets(stream[first.consumed :])
    assert first.acked + second.acked == ids
    assert second.consumed == len(stream) - first.consumed


def test_what_a_publisher_never_receives_is_malformed() -> None:
    with pytest.raises(MalformedPacket):
        decode_packets(b"\x30\x05\x00\x01t\x00x")  # PUBLISH: we subscribe to nothing
    with pytest.raises(MalformedPacket):
        decode_packets(b"\x41\x02\x00\x01")  # reserved flags set
    with pytest.raises(MalformedPacket):
        decode_packets(b"\x20\x04\x00\x00\x01\x7f")  # unknown property 0x7F
    with pytest.raises(MalformedPacket):
        decode_properties(b"\x05\x21\x00", 0)  # property list beyond the packet


@given(st.lists(st.integers(1, 65535), max_size=50))
def test_pubacks_packed_at_once_are_each_ids_puback(packet_ids: list[int]) -> None:
    assert encode_pubacks(packet_ids) == b"".join(encode_ack(PUBACK, i) for i in packet_ids)
