"""MQTT 5.0 packets as bytes: pure functions, no I/O.

Encodes CONNECT, PUBLISH (QoS 0 and 1), SUBSCRIBE, the acknowledgements, PINGREQ and
DISCONNECT; decodes CONNACK, PUBACK, PINGRESP and DISCONNECT (``decode_packets``: what a
publisher reads; ``parktwin.wire.inbound`` reads what a subscriber gets). Section numbers refer
to the OASIS MQTT Version 5.0 standard.

The simulator's publisher and the collectors' intake are written on these instead of paho
because paho spends most of their time decoding packets (a ``Properties`` object for every
PUBLISH and PUBACK, three ``recv`` calls a packet); here a plain PUBACK costs a few byte
comparisons (see docs/performance.md).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

MAX_PACKET_ID = 65535
MAX_REMAINING_LENGTH = 268_435_455  # the largest four-byte variable byte integer (1.5.5)
MAX_PACKET_SIZE = MAX_REMAINING_LENGTH + 5  # with its first byte and a four-byte length

CONNECT, CONNACK, PUBLISH, PUBACK = 0x10, 0x20, 0x30, 0x40
PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK = 0x50, 0x60, 0x70, 0x80, 0x90
PINGREQ, PINGRESP, DISCONNECT, AUTH = 0xC0, 0xD0, 0xE0, 0xF0

PINGREQ_PACKET = bytes((PINGREQ, 0))
PINGRESP_PACKET = bytes((PINGRESP, 0))

# Reason codes (2.4), for error messages.
REASON_NAMES = MappingProxyType(
    {
        0x00: "success",
        0x04: "disconnect with will message",
        0x10: "no matching subscribers",
        0x80: "unspecified error",
        0x81: "malformed packet",
        0x82: "protocol error",
        0x83: "implementation specific error",
        0x84: "unsupported protocol version",
        0x85: "client identifier not valid",
        0x86: "bad user name or password",
        0x87: "not authorized",
        0x88: "server unavailable",
        0x89: "server busy",
        0x8A: "banned",
        0x8B: "server shutting down",
        0x8C: "bad authentication method",
        0x8D: "keep alive timeout",
        0x8E: "session taken over",
        0x8F: "topic filter invalid",
        0x90: "topic name invalid",
        0x91: "packet identifier in use",
        0x92: "packet identifier not found",
        0x93: "receive maximum exceeded",
        0x94: "topic alias invalid",
        0x95: "packet too large",
        0x96: "message rate too high",
        0x97: "quota exceeded",
        0x98: "administrative action",
        0x99: "payload format invalid",
        0x9A: "retain not supported",
        0x9B: "QoS not supported",
        0x9C: "use another server",
        0x9D: "server moved",
        0x9E: "shared subscriptions not supported",
        0x9F: "connection rate exceeded",
        0xA0: "maximum connect time",
        0xA1: "subscription identifiers not supported",
        0xA2: "wildcard subscriptions not supported",
    }
)

# Property identifiers (2.2.2.2) and how their values are encoded.
PAYLOAD_FORMAT_INDICATOR = 0x01
MESSAGE_EXPIRY_INTERVAL = 0x02
CONTENT_TYPE = 0x03
RESPONSE_TOPIC = 0x08
CORRELATION_DATA = 0x09
SUBSCRIPTION_IDENTIFIER = 0x0B
SESSION_EXPIRY_INTERVAL = 0x11
ASSIGNED_CLIENT_IDENTIFIER = 0x12
SERVER_KEEP_ALIVE = 0x13
REASON_STRING = 0x1F
RECEIVE_MAXIMUM = 0x21
TOPIC_ALIAS_MAXIMUM = 0x22
TOPIC_ALIAS = 0x23
MAXIMUM_QOS = 0x24
RETAIN_AVAILABLE = 0x25
USER_PROPERTY = 0x26
MAXIMUM_PACKET_SIZE = 0x27

BYTE, TWO, FOUR, VARINT, STRING, BINARY, PAIR = range(7)
PROPERTY_TYPES = MappingProxyType(
    {
        0x01: BYTE, 0x02: FOUR, 0x03: STRING, 0x08: STRING, 0x09: BINARY, 0x0B: VARINT,
        0x11: FOUR, 0x12: STRING, 0x13: TWO, 0x15: STRING, 0x16: BINARY, 0x17: BYTE,
        0x18: FOUR, 0x19: BYTE, 0x1A: STRING, 0x1C: STRING, 0x1F: STRING, 0x21: TWO,
        0x22: TWO, 0x23: TWO, 0x24: BYTE, 0x25: BYTE, 0x26: PAIR, 0x27: FOUR, 0x28: BYTE,
        0x29: BYTE, 0x2A: BYTE,
    }
)  # fmt: skip

# The properties each packet a client reads may carry (2.2.2.2); any other is a protocol error.
PUBLISH_PROPERTIES = frozenset((0x01, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x23, 0x26))
CONNACK_PROPERTIES = frozenset(
    (0x11, 0x12, 0x13, 0x15, 0x16, 0x1A, 0x1C, 0x1F, 0x21, 0x22, 0x24, 0x25, 0x26, 0x27, 0x28,
     0x29, 0x2A)
)  # fmt: skip
ACK_PROPERTIES = frozenset((REASON_STRING, USER_PROPERTY))  # PUBACK ... PUBCOMP, SUBACK
DISCONNECT_PROPERTIES = frozenset((0x11, 0x1C, REASON_STRING, USER_PROPERTY))

PropertyValue = int | str | bytes | list[tuple[str, str]]


def reason_name(code: int) -> str:
    """``0x86 bad user name or password``: a reason code as people read it."""
    return f"0x{code:02X} {REASON_NAMES.get(code, 'unknown reason code')}"


class MqttError(Exception):
    """Something went wrong talking MQTT to the broker."""


class MalformedPacket(MqttError):
    """The broker sent bytes that are not a valid MQTT 5.0 packet for this client. The only
    error the decoders raise; ``reason_code`` is what our DISCONNECT tells the broker (4.13)."""

    reason_code = 0x81


class ProtocolError(MalformedPacket):
    """A well-formed packet the protocol forbids here (a property twice, one out of place)."""

    reason_code = 0x82


class TopicAliasInvalid(MalformedPacket):
    """A Topic Alias of 0, above the maximum we allow, or unknown (3.3.2.3.4)."""

    reason_code = 0x94


class PacketTooLarge(MalformedPacket):
    """A packet larger than the Maximum Packet Size we sent in CONNECT (3.1.2.11.4)."""

    reason_code = 0x95


class Refused(MqttError):
    """The broker answered with a failure reason code."""

    what = "the broker refused"

    def __init__(self, reason_code: int, detail: str = "") -> None:
        self.reason_code = reason_code
        text = f"{self.what}: {reason_name(reason_code)}"
        super().__init__(f"{text} ({detail})" if detail else text)


class ConnectRefused(Refused):
    what = "the broker refused the connection"


class PublishRefused(Refused):
    what = "the broker refused a message"


class ServerDisconnected(Refused):
    what = "the broker closed the connection"


@dataclass(frozen=True)
class Will:
    """The message the broker publishes for us when the connection drops without DISCONNECT."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


@dataclass(frozen=True)
class ConnAck:
    """The broker's answer to CONNECT (3.2), with the properties a publisher must honour."""

    session_present: bool
    reason_code: int
    properties: dict[int, PropertyValue] = field(default_factory=dict)

    @property
    def receive_maximum(self) -> int:
        """QoS 1 and 2 publishes the broker takes unacknowledged at once (65535 if unsaid)."""
        value = self.properties.get(RECEIVE_MAXIMUM, MAX_PACKET_ID)
        return value if isinstance(value, int) else MAX_PACKET_ID

    @property
    def maximum_qos(self) -> int:
        value = self.properties.get(MAXIMUM_QOS, 2)
        return value if isinstance(value, int) else 2

    @property
    def retain_available(self) -> bool:
        return self.properties.get(RETAIN_AVAILABLE, 1) != 0

    @property
    def maximum_packet_size(self) -> int | None:
        value = self.properties.get(MAXIMUM_PACKET_SIZE)
        return value if isinstance(value, int) else None

    @property
    def server_keep_alive(self) -> int | None:
        """The keep alive the client must use instead of its own, when the broker says one."""
        value = self.properties.get(SERVER_KEEP_ALIVE)
        return value if isinstance(value, int) else None

    @property
    def reason_string(self) -> str:
        value = self.properties.get(REASON_STRING, "")
        return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class PubAck:
    """A PUBACK (3.4): reason codes of 0x80 and above mean the message was refused."""

    packet_id: int
    reason_code: int = 0
    reason_string: str = ""


@dataclass(frozen=True)
class PingResp:
    """The answer to PINGREQ."""


@dataclass(frozen=True)
class Disconnect:
    """The broker closing the connection, with its reason (3.14)."""

    reason_code: int = 0
    reason_string: str = ""


ServerPacket = ConnAck | PubAck | PingResp | Disconnect


@dataclass
class Decoded:
    """Complete packets found at the start of a byte buffer."""

    acked: list[int]  # packet ids of PUBACKs with a success reason code, in order
    packets: list[ServerPacket]  # every other packet, in order
    consumed: int  # bytes the packets took; the rest is the start of an incomplete packet


# --- encoding -------------------------------------------------------------------------------


def encode_varint(value: int) -> bytes:
    """A variable byte integer (1.5.5): seven bits a byte, least significant first."""
    if value < 0x80:
        return bytes((value,))
    if not 0 <= value <= MAX_REMAINING_LENGTH:
        raise ValueError(f"{value} does not fit a variable byte integer")
    out = bytearray()
    while True:
        value, digit = divmod(value, 0x80)
        if value:
            out.append(digit | 0x80)
        else:
            out.append(digit)
            return bytes(out)


def encode_binary(data: bytes) -> bytes:
    """Binary data (1.5.6): a two-byte length, then the bytes."""
    if len(data) > 0xFFFF:
        raise ValueError(f"{len(data)} bytes do not fit MQTT binary data (at most 65535)")
    return len(data).to_bytes(2, "big") + data


def encode_string(text: str) -> bytes:
    """A UTF-8 encoded string (1.5.4): no null characters, at most 65535 bytes."""
    if "\x00" in text:
        raise ValueError(f"MQTT strings must not contain U+0000: {text!r}")
    return encode_binary(text.encode("utf-8"))


def _packet(first_byte: int, body: bytes) -> bytes:
    return bytes((first_byte,)) + encode_varint(len(body)) + body


def encode_connect(
    client_id: str,
    *,
    keepalive_s: int = 60,
    clean_start: bool = True,
    session_expiry_s: int = 0,
    username: str | None = None,
    password: bytes | None = None,
    will: Will | None = None,
    receive_maximum: int | None = None,
    maximum_packet_size: int | None = None,
    topic_alias_maximum: int = 0,
) -> bytes:
    """A v5 CONNECT (3.1). A session expiry of 0 ends the session with the connection;
    ``receive_maximum`` bounds the QoS 1 and 2 messages the broker sends us unacknowledged,
    ``maximum_packet_size`` the size of any packet it sends us (it drops larger messages for
    us, 3.1.2.11.4), ``topic_alias_maximum`` the topic aliases it may use (0: none)."""
    if not 0 <= keepalive_s <= 0xFFFF:
        raise ValueError(f"keep alive {keepalive_s} s is not within 0..65535")
    flags = 0x02 if clean_start else 0
    if will is not None:
        if will.qos not in (0, 1, 2):
            raise ValueError(f"will QoS {will.qos} is not 0, 1 or 2")
        flags |= 0x04 | will.qos << 3 | (0x20 if will.retain else 0)
    if password is not None:
        flags |= 0x40
    if username is not None:
        flags |= 0x80
    properties = (
        bytes((SESSION_EXPIRY_INTERVAL,)) + session_expiry_s.to_bytes(4, "big")
        if session_expiry_s
        else b""
    )
    if receive_maximum is not None:
        if not 0 < receive_maximum <= MAX_PACKET_ID:
            raise ValueError(f"receive maximum {receive_maximum} is not within 1..65535")
        properties += bytes((RECEIVE_MAXIMUM,)) + receive_maximum.to_bytes(2, "big")
    if maximum_packet_size is not None:
        if not 0 < maximum_packet_size <= MAX_PACKET_SIZE:
            raise ValueError(f"maximum packet size {maximum_packet_size} is out of range")
        properties += bytes((MAXIMUM_PACKET_SIZE,)) + maximum_packet_size.to_bytes(4, "big")
    if topic_alias_maximum:
        if not 0 < topic_alias_maximum <= MAX_PACKET_ID:
            raise ValueError(f"topic alias maximum {topic_alias_maximum} is not within 0..65535")
        properties += bytes((TOPIC_ALIAS_MAXIMUM,)) + topic_alias_maximum.to_bytes(2, "big")
    parts = [
        encode_string("MQTT"),
        bytes((5, flags)),
        keepalive_s.to_bytes(2, "big"),
        encode_varint(len(properties)),
        properties,
        encode_string(client_id),
    ]
    if will is not None:
        parts += [b"\x00", encode_string(will.topic), encode_binary(will.payload)]
    if username is not None:
        parts.append(encode_string(username))
    if password is not None:
        parts.append(encode_binary(password))
    return _packet(CONNECT, b"".join(parts))


def encode_publish(
    encoded_topic: bytes,
    payload: bytes,
    qos: int = 0,
    packet_id: int = 0,
    retain: bool = False,
    properties: bytes = b"\x00",
) -> bytes:
    """A v5 PUBLISH (3.3).

    ``encoded_topic`` is ``encode_string(topic)``: a publisher encodes each topic once and sends
    it many times. ``packet_id`` (1..65535) is needed for QoS 1 and ignored for QoS 0.
    ``properties`` is the property list as sent, its length first (none by default).
    """
    if qos:
        if not 0 < packet_id <= MAX_PACKET_ID:
            raise ValueError(f"packet id {packet_id} is not within 1..65535")
        variable = encoded_topic + packet_id.to_bytes(2, "big") + properties
    else:
        variable = encoded_topic + properties
    length = len(variable) + len(payload)
    first = PUBLISH | qos << 1 | retain
    if length < 0x80:
        header = bytes((first, length))
    elif length < 0x4000:
        header = bytes((first, length & 0x7F | 0x80, length >> 7))
    else:
        header = bytes((first,)) + encode_varint(length)
    return header + variable + payload


def encode_subscribe(packet_id: int, filters: Sequence[str], qos: int) -> bytes:
    """A v5 SUBSCRIBE (3.8) of ``filters`` at ``qos``, without properties; the other options
    (no local, retain as published, retain handling) keep their defaults of 0."""
    if qos not in (0, 1, 2):
        raise ValueError(f"QoS {qos} is not 0, 1 or 2")
    if not 0 < packet_id <= MAX_PACKET_ID:
        raise ValueError(f"packet id {packet_id} is not within 1..65535")
    if not filters:
        raise ValueError("SUBSCRIBE needs at least one topic filter")
    body = packet_id.to_bytes(2, "big") + b"\x00"
    body += b"".join(encode_string(topic_filter) + bytes((qos,)) for topic_filter in filters)
    return _packet(SUBSCRIBE | 0x02, body)


def encode_ack(first_byte: int, packet_id: int) -> bytes:
    """PUBACK, PUBREC, PUBREL (``PUBREL | 2``) or PUBCOMP with success: four bytes (3.4.2.1)."""
    return bytes((first_byte, 2)) + packet_id.to_bytes(2, "big")


def encode_pubacks(packet_ids: Sequence[int]) -> bytes:
    """PUBACKs with success for many packet ids (1 to 65535) in one buffer: the bytes of
    ``encode_ack(PUBACK, id)`` for each, packed at once (a drain acknowledges thousands)."""
    header = (PUBACK << 24) | (2 << 16)
    return struct.pack(f">{len(packet_ids)}I", *[header | packet_id for packet_id in packet_ids])


def encode_disconnect(reason_code: int = 0) -> bytes:
    """A v5 DISCONNECT (3.14); 0x04 asks the broker to publish the will all the same."""
    return bytes((DISCONNECT, 0)) if reason_code == 0 else bytes((DISCONNECT, 1, reason_code))


# --- decoding -------------------------------------------------------------------------------


def decode_varint(data: bytes | memoryview, pos: int) -> tuple[int, int] | None:
    """The variable byte integer at ``pos`` and the position after it; None if incomplete."""
    value = 0
    for shift in (0, 7, 14, 21):
        if pos >= len(data):
            return None
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
    raise MalformedPacket("variable byte integer longer than four bytes")


def _take(data: bytes, pos: int, size: int, end: int) -> tuple[bytes, int]:
    stop = pos + size
    if stop > end:
        raise MalformedPacket("packet ends inside a field")
    return data[pos:stop], stop


def _take_binary(data: bytes, pos: int, end: int) -> tuple[bytes, int]:
    if pos + 2 > end:
        raise MalformedPacket("packet ends inside a field")
    return _take(data, pos + 2, data[pos] << 8 | data[pos + 1], end)


def _take_string(data: bytes, pos: int, end: int) -> tuple[str, int]:
    raw, pos = _take_binary(data, pos, end)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPacket("string is not valid UTF-8") from None
    if "\x00" in text:
        raise MalformedPacket("string contains U+0000")  # 1.5.4 [MQTT-1.5.4-2]
    return text, pos


def _take_property(data: bytes, pos: int, kind: int, end: int) -> tuple[PropertyValue, int]:
    if kind in (BYTE, TWO, FOUR):
        raw, pos = _take(data, pos, {BYTE: 1, TWO: 2, FOUR: 4}[kind], end)
        return int.from_bytes(raw, "big"), pos
    if kind == VARINT:
        found = decode_varint(data, pos)
        if found is None or found[1] > end:
            raise MalformedPacket("packet ends inside a variable byte integer")
        return found
    if kind == BINARY:
        return _take_binary(data, pos, end)
    if kind == STRING:
        return _take_string(data, pos, end)
    key, pos = _take_string(data, pos, end)
    value, pos = _take_string(data, pos, end)
    return [(key, value)], pos


def decode_properties(
    data: bytes, pos: int, end: int | None = None, allowed: frozenset[int] | None = None
) -> tuple[dict[int, PropertyValue], int]:
    """A property list (2.2.2) at ``pos`` of a packet ending at ``end`` (the end of ``data``
    when None): identifier to value; user properties as pairs. Read in place: a packet in a
    large read costs no copy of the read. A property outside ``allowed`` (the packet's own,
    2.2.2.2), or one given twice that may appear once, is a protocol error."""
    if end is None:
        end = len(data)
    found = decode_varint(data, pos)
    if found is None or found[1] > end:
        raise MalformedPacket("packet ends inside the property length")
    length, pos = found
    stop = pos + length
    if stop > end:
        raise MalformedPacket("property length beyond the end of the packet")
    properties: dict[int, PropertyValue] = {}
    while pos < stop:
        identifier = data[pos]
        kind = PROPERTY_TYPES.get(identifier)
        if kind is None:
            raise MalformedPacket(f"unknown property 0x{identifier:02X}")
        if allowed is not None and identifier not in allowed:
            raise ProtocolError(f"property 0x{identifier:02X} is not allowed in this packet")
        value, pos = _take_property(data, pos + 1, kind, stop)
        previous = properties.get(identifier)
        if previous is None:
            properties[identifier] = value
        elif isinstance(previous, list) and isinstance(value, list):
            previous.extend(value)
        elif identifier != SUBSCRIPTION_IDENTIFIER:
            raise ProtocolError(f"property 0x{identifier:02X} given twice")
    return properties, stop


def _reason_string(properties: dict[int, PropertyValue]) -> str:
    value = properties.get(REASON_STRING, "")
    return value if isinstance(value, str) else ""


def decode_connack(body: bytes) -> ConnAck:
    """The variable header of a CONNACK (3.2.2)."""
    if len(body) < 2:
        raise MalformedPacket("CONNACK shorter than two bytes")
    if body[0] & 0xFE:
        raise MalformedPacket("CONNACK with reserved flags set")  # 3.2.2.1
    if len(body) > 2:
        properties, _ = decode_properties(body, 2, allowed=CONNACK_PROPERTIES)
    else:
        properties = {}
    return ConnAck(bool(body[0] & 1), body[1], properties)


def decode_puback(body: bytes) -> PubAck:
    """A PUBACK's variable header (3.4.2): packet id, reason code 0 if left out."""
    if len(body) < 2:
        raise MalformedPacket("PUBACK shorter than two bytes")
    packet_id = int.from_bytes(body[:2], "big")
    if len(body) == 2:
        return PubAck(packet_id)
    properties, _ = decode_properties(body, 3, allowed=ACK_PROPERTIES) if len(body) > 3 else ({}, 3)
    return PubAck(packet_id, body[2], _reason_string(properties))


def decode_disconnect(body: bytes) -> Disconnect:
    """A DISCONNECT from the broker (3.14.2): reason 0 if left out."""
    if not body:
        return Disconnect()
    properties, _ = (
        decode_properties(body, 1, allowed=DISCONNECT_PROPERTIES) if len(body) > 1 else ({}, 1)
    )
    return Disconnect(body[0], _reason_string(properties))


def decode_packet(first_byte: int, body: bytes) -> ServerPacket:
    """One packet from the broker, given its first byte and its body (after the length)."""
    kind = first_byte & 0xF0
    if first_byte & 0x0F:
        raise MalformedPacket(f"packet type {kind >> 4} with flags 0x{first_byte & 0x0F:X}")
    if kind == PUBACK:
        return decode_puback(body)
    if kind == CONNACK:
        return decode_connack(body)
    if kind == PINGRESP:
        return PingResp()
    if kind == DISCONNECT:
        return decode_disconnect(body)
    raise MalformedPacket(f"unexpected packet type {first_byte >> 4} from the broker")


def decode_packets(data: bytes) -> Decoded:
    """Every complete packet at the start of ``data``.

    Plain PUBACKs (remaining length 2, or 3 with a success reason code such as mosquitto's 0x10
    "no matching subscribers") take a fast path straight into ``acked``: they are almost all
    a publisher ever reads.
    """
    acked: list[int] = []
    packets: list[ServerPacket] = []
    pos, end = 0, len(data)
    while end - pos >= 2:
        first = data[pos]
        if first == PUBACK:
            length = data[pos + 1]
            if length == 2 and pos + 4 <= end:
                acked.append(data[pos + 2] << 8 | data[pos + 3])
                pos += 4
                continue
            if length == 3 and pos + 5 <= end and data[pos + 4] < 0x80:
                acked.append(data[pos + 2] << 8 | data[pos + 3])
                pos += 5
                continue
        found = decode_varint(data, pos + 1)
        if found is None:
            break
        length, start = found
        if start + length > end:
            break
        packet = decode_packet(first, data[start : start + length])
        if isinstance(packet, PubAck) and packet.reason_code < 0x80:
            acked.append(packet.packet_id)
        else:
            packets.append(packet)
        pos = start + length
    return Decoded(acked, packets, pos)
