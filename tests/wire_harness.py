"""Helpers for the wire's conformance tests and fuzz target: the connection's framing with the
subscriber's decoder and no socket, and a stream of every packet a client reads."""

from __future__ import annotations

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from parktwin.wire.connection import MqttConnection
from parktwin.wire.inbound import InboundLimits, InboundPacket, Message, decode_inbound
from parktwin.wire.packets import (
    PUBACK,
    PUBREL,
    encode_ack,
    encode_publish,
    encode_string,
    encode_varint,
)


def packet(first: int, body: bytes) -> bytes:
    """A packet from its first byte and body."""
    return bytes((first,)) + encode_varint(len(body)) + body


class WireReader(MqttConnection):
    """The connection's framing (``data_received``) with the subscriber's decoder, no socket;
    made inside a running event loop."""

    def __init__(self, limits: InboundLimits) -> None:
        super().__init__()
        self.limits = limits
        self.messages: list[Message] = []
        self.packets: list[InboundPacket] = []
        self.qos2: set[int] = set()
        self.most_buffered = 0

    def _consume(self, data: bytes) -> int:
        return decode_inbound(data, self.messages, self.packets, self.qos2, self.limits)

    def feed(self, reads: list[bytes]) -> None:
        """Hand over each read as the socket would; stop at the first error (kept)."""
        for data in reads:
            self.data_received(data)
            self.most_buffered = max(self.most_buffered, self._buffered)
            if self._error is not None:
                return


def mixed_stream() -> bytes:
    """Every kind of packet a subscribing client reads, with properties written by paho: CONNACK,
    SUBACK, PUBLISH at QoS 0, 1 (properties, setting a topic alias) and 2 (by that alias, DUP),
    a retained one, PUBACK, PUBREL, PINGRESP and DISCONNECT."""
    props = Properties(PacketTypes.PUBLISH)
    props.PayloadFormatIndicator = 1
    props.ContentType = "application/json"
    props.UserProperty = [("site", "北区"), ("k", "v")]
    props.MessageExpiryInterval = 60
    props.TopicAlias = 4
    alias_only = Properties(PacketTypes.PUBLISH)
    alias_only.TopicAlias = 4
    connack = Properties(PacketTypes.CONNACK)
    connack.ReceiveMaximum = 10
    return b"".join(
        [
            packet(0x20, b"\x00\x00" + connack.pack()),
            packet(0x90, b"\x00\x01\x00\x01"),
            encode_publish(encode_string("a/b"), b"q0", 0),
            packet(0x32, encode_string("parks/p1/m") + b"\x00\x02" + props.pack() + b"{}"),
            packet(0x3C, encode_string("") + b"\x00\x03" + alias_only.pack() + b"x" * 300),
            packet(0x31, encode_string("r") + b"\x00" + b"retained"),
            encode_ack(PUBACK, 1),
            encode_ack(PUBREL | 2, 3),
            b"\xd0\x00",
            packet(0xE0, b"\x00\x00"),
        ]
    )
