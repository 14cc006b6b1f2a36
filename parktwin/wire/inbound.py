"""What a broker sends a subscribing client, decoded from a byte stream: pure functions, no I/O.

PUBLISH packets, nearly all a subscriber reads, take a fast path straight into ``Message``
records (a few slices and byte reads each, no property objects unless the packet has
properties); the rarer packets (CONNACK, SUBACK, PUBACK, PUBREL, PINGRESP, DISCONNECT) are
decoded in full. Section numbers refer to the OASIS MQTT Version 5.0 standard.
"""

from __future__ import annotations

from dataclasses import dataclass

from parktwin.wire.packets import (
    PUBLISH,
    PUBREL,
    REASON_STRING,
    SUBACK,
    ConnAck,
    Disconnect,
    MalformedPacket,
    PingResp,
    PropertyValue,
    PubAck,
    decode_packet,
    decode_properties,
    decode_varint,
)

TOPIC_ALIAS = 0x23


@dataclass(slots=True)
class Message:
    """One application message as delivered to us."""

    topic: str
    payload: bytes
    qos: int
    mid: int  # the broker's packet id, to acknowledge by; 0 at QoS 0
    retain: bool


@dataclass(frozen=True)
class SubAck:
    """The broker's answer to SUBSCRIBE (3.9): one reason code per filter, 0x80 up refused."""

    packet_id: int
    reason_codes: tuple[int, ...]
    reason_string: str = ""


@dataclass(frozen=True)
class PubRel:
    """Second step of a QoS 2 delivery (3.6): we answer PUBCOMP."""

    packet_id: int


InboundPacket = ConnAck | SubAck | PubAck | PubRel | PingResp | Disconnect


def decode_suback(body: bytes) -> SubAck:
    """A SUBACK's packet id, properties and reason codes (3.9.2, 3.9.3)."""
    if len(body) < 3:
        raise MalformedPacket("SUBACK shorter than three bytes")
    properties, pos = decode_properties(body, 2)
    if pos >= len(body):
        raise MalformedPacket("SUBACK without reason codes")
    reason = properties.get(REASON_STRING, "")
    reason_string = reason if isinstance(reason, str) else ""
    return SubAck(int.from_bytes(body[:2], "big"), tuple(body[pos:]), reason_string)


def _decode_other(first_byte: int, body: bytes) -> InboundPacket:
    kind = first_byte & 0xF0
    if kind == SUBACK and first_byte == SUBACK:
        return decode_suback(body)
    if kind == PUBREL:
        if first_byte != PUBREL | 0x02 or len(body) < 2:
            raise MalformedPacket("malformed PUBREL")
        return PubRel(int.from_bytes(body[:2], "big"))
    return decode_packet(first_byte, body)


def _publish_properties(data: bytes, pos: int, end: int) -> int:
    """Skip a PUBLISH's properties; refuse a topic alias, which we never allow (3.3.2.3.4)."""
    properties: dict[int, PropertyValue]
    properties, pos = decode_properties(data[:end], pos)
    if TOPIC_ALIAS in properties:
        raise MalformedPacket("topic alias sent to a client that allows none")
    return pos


def decode_inbound(
    data: bytes, messages: list[Message], packets: list[InboundPacket], qos2_ids: set[int]
) -> int:
    """Decode every complete packet at the start of ``data`` into ``messages`` (PUBLISH) and
    ``packets`` (the rest), in order within each list, adding the ids of QoS 2 messages to
    ``qos2_ids`` (they are acknowledged differently); return the bytes consumed (the rest is the
    start of a packet whose end has not arrived)."""
    pos, end = 0, len(data)
    while end - pos >= 2:
        first = data[pos]
        length = data[pos + 1]
        start = pos + 2
        if length >= 0x80:
            found = decode_varint(data, pos + 1)
            if found is None:
                break
            length, start = found
        stop = start + length
        if stop > end:
            break
        if first & 0xF0 == PUBLISH:
            qos = first >> 1 & 3
            if qos == 3 or length < 3:
                raise MalformedPacket("malformed PUBLISH")
            topic_end = start + 2 + (data[start] << 8 | data[start + 1])
            if qos:
                if topic_end + 3 > stop:
                    raise MalformedPacket("PUBLISH ends inside its header")
                mid = data[topic_end] << 8 | data[topic_end + 1]
                if mid == 0:
                    raise MalformedPacket("PUBLISH at QoS 1 or 2 with packet id 0")
                if qos == 2:
                    qos2_ids.add(mid)
                body = topic_end + 2
            else:
                if topic_end + 1 > stop:
                    raise MalformedPacket("PUBLISH ends inside its header")
                mid = 0
                body = topic_end
            if data[body] == 0:
                body += 1
            else:
                body = _publish_properties(data, body, stop)
            try:
                topic = data[start + 2 : topic_end].decode("utf-8")
            except UnicodeDecodeError:
                raise MalformedPacket("topic name is not valid UTF-8") from None
            if not topic:
                raise MalformedPacket("PUBLISH without a topic name")
            messages.append(Message(topic, data[body:stop], qos, mid, bool(first & 1)))
        else:
            packets.append(_decode_other(first, data[start:stop]))
        pos = stop
    return pos
