"""What a broker sends a subscribing client, decoded from a byte stream: pure functions, no I/O.

PUBLISH packets, nearly all a subscriber reads, take a fast path straight into ``Message``
records (a few slices and byte reads each, no property objects unless the packet has
properties); the rarer packets (CONNACK, SUBACK, PUBACK, PUBREL, PINGRESP, DISCONNECT) are
decoded in full. Section numbers refer to the OASIS MQTT Version 5.0 standard.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parktwin.wire.packets import (
    ACK_PROPERTIES,
    CORRELATION_DATA,
    MAX_PACKET_SIZE,
    MESSAGE_EXPIRY_INTERVAL,
    PAYLOAD_FORMAT_INDICATOR,
    PROPERTY_TYPES,
    PUBLISH,
    PUBLISH_PROPERTIES,
    PUBREL,
    REASON_STRING,
    SUBACK,
    SUBSCRIPTION_IDENTIFIER,
    TOPIC_ALIAS,
    USER_PROPERTY,
    ConnAck,
    Disconnect,
    MalformedPacket,
    PacketTooLarge,
    PingResp,
    ProtocolError,
    PubAck,
    TopicAliasInvalid,
    decode_packet,
    decode_properties,
    decode_varint,
)


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


# PUBLISH property lists remembered as checked, per connection (devices repeat theirs).
KNOWN_PROPERTY_LISTS = 1024
# Topic names remembered as decoded and checked, per connection: a park's devices, each on its
# own topic, and a few thousand more (a repeat costs one lookup, and its text comes with its
# hash already computed for the owner's own lookups by topic).
KNOWN_TOPICS = 65_536


@dataclass(slots=True)
class InboundLimits:
    """What one connection told the broker it accepts (its CONNECT), and the topic aliases the
    broker set on it (3.3.2.3.4): they live as long as the connection."""

    maximum_packet_size: int = MAX_PACKET_SIZE
    topic_alias_maximum: int = 0
    topic_aliases: dict[int, str] = field(default_factory=dict)
    known_properties: dict[bytes, int] = field(default_factory=dict)  # checked: their alias
    known_topics: dict[bytes, str] = field(default_factory=dict)  # checked topic names


def packet_size(data: bytes | memoryview, pos: int = 0) -> int | None:
    """The whole size of the packet starting at ``pos``, from its fixed header (2.1.1); None
    while the header itself is incomplete."""
    found = decode_varint(data, pos + 1)
    if found is None:
        return None
    length, start = found
    return start - pos + length


def decode_suback(body: bytes) -> SubAck:
    """A SUBACK's packet id, properties and reason codes (3.9.2, 3.9.3)."""
    if len(body) < 3:
        raise MalformedPacket("SUBACK shorter than three bytes")
    properties, pos = decode_properties(body, 2, allowed=ACK_PROPERTIES)
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


def _check_string(raw: bytes) -> None:
    """A UTF-8 string's bytes are well-formed and hold no U+0000 (1.5.4)."""
    if not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedPacket("PUBLISH property string is not valid UTF-8") from None
    if b"\x00" in raw:
        raise MalformedPacket("PUBLISH property string contains U+0000")


def _publish_properties(
    data: bytes, pos: int, stop: int, known: dict[bytes, int]
) -> tuple[int, int]:
    """Check a PUBLISH's properties (3.3.2.3) in place, in ``data[pos:stop]``; return where the
    payload starts and the Topic Alias (0 if none). Nothing is kept: a subscriber needs no
    content type or user property, and Message Expiry is the broker's to apply (it forwards
    the time left, 3.3.2.3.3). Strings are sliced one by one (they are short) and checked by
    ``isascii`` first; the loop is written out because it runs for every such message.

    Checking is a pure function of the property bytes, and a device sends the same ones with
    every message: ``known`` maps property lists already checked to their Topic Alias, so
    that a repeat costs one slice and one lookup (bounded to ``KNOWN_PROPERTY_LISTS``)."""
    length = data[pos]
    if length < 0x80:
        pos += 1
    else:
        found = decode_varint(data, pos)
        if found is None or found[1] > stop:
            raise MalformedPacket("PUBLISH ends inside its property length")
        length, pos = found
    end = pos + length
    if end > stop:
        raise MalformedPacket("PUBLISH property length beyond its end")
    block = data[pos:end]
    alias = known.get(block, -1)
    if alias >= 0:
        return end, alias
    alias = 0
    seen = 0
    while pos < end:
        identifier = data[pos]
        pos += 1
        if identifier == USER_PROPERTY:
            if pos + 2 > end:
                raise MalformedPacket("PUBLISH ends inside a user property")
            start = pos + 2
            pos = start + (data[pos] << 8 | data[pos + 1])
            if pos + 2 > end:
                raise MalformedPacket("PUBLISH ends inside a user property")
            raw = data[start:pos]
            if not raw.isascii() or b"\x00" in raw:
                _check_string(raw)
            start = pos + 2
            pos = start + (data[pos] << 8 | data[pos + 1])
            if pos > end:
                raise MalformedPacket("PUBLISH ends inside a user property")
            raw = data[start:pos]
            if not raw.isascii() or b"\x00" in raw:
                _check_string(raw)
            continue
        if identifier not in PUBLISH_PROPERTIES:
            if identifier in PROPERTY_TYPES:
                raise ProtocolError(f"property 0x{identifier:02X} is not allowed in PUBLISH")
            raise MalformedPacket(f"unknown property 0x{identifier:02X}")
        if identifier == SUBSCRIPTION_IDENTIFIER:  # one per matching subscription: may repeat
            found = decode_varint(data, pos)
            if found is None or found[1] > end:
                raise MalformedPacket("PUBLISH ends inside a subscription identifier")
            if found[0] == 0:
                raise ProtocolError("subscription identifier 0")
            pos = found[1]
            continue
        if seen >> identifier & 1:
            raise ProtocolError(f"property 0x{identifier:02X} given twice")
        seen |= 1 << identifier
        if identifier == PAYLOAD_FORMAT_INDICATOR:
            if pos >= end or data[pos] > 1:
                raise ProtocolError("payload format indicator other than 0 or 1")
            pos += 1
        elif identifier == MESSAGE_EXPIRY_INTERVAL:
            pos += 4
        elif identifier == TOPIC_ALIAS:
            if pos + 2 > end:
                raise MalformedPacket("PUBLISH ends inside its topic alias")
            alias = data[pos] << 8 | data[pos + 1]
            if alias == 0:
                raise TopicAliasInvalid("topic alias 0")
            pos += 2
        else:  # content type and response topic (strings), correlation data (binary)
            if pos + 2 > end:
                raise MalformedPacket("PUBLISH ends inside a property")
            start = pos + 2
            pos = start + (data[pos] << 8 | data[pos + 1])
            if pos <= end and identifier != CORRELATION_DATA:
                raw = data[start:pos]
                if not raw.isascii() or b"\x00" in raw:
                    _check_string(raw)
        if pos > end:
            raise MalformedPacket("PUBLISH property beyond the property length")
    if len(known) >= KNOWN_PROPERTY_LISTS:
        known.clear()
    known[block] = alias
    return end, alias


def decode_inbound(
    data: bytes,
    messages: list[Message],
    packets: list[InboundPacket],
    qos2_ids: set[int],
    limits: InboundLimits | None = None,
) -> int:
    """Decode every complete packet at the start of ``data`` into ``messages`` (PUBLISH) and
    ``packets`` (the rest), in order within each list, adding the ids of QoS 2 messages to
    ``qos2_ids`` (they are acknowledged differently); return the bytes consumed (the rest is the
    start of a packet whose end has not arrived).

    ``limits`` (defaults: no size limit, no topic aliases) are enforced as soon as a packet's
    fixed header has arrived. Raises ``MalformedPacket`` (or one of its kinds) and only that.
    """
    if limits is None:
        limits = InboundLimits()
    max_size = limits.maximum_packet_size
    known_topics = limits.known_topics
    pos, end = 0, len(data)
    while end - pos >= 2:
        first = data[pos]
        length = data[pos + 1]
        start = pos + 2
        if length >= 0x80:
            if end - pos > 2 and data[pos + 2] < 0x80:  # two bytes: up to 16 kB, most packets
                length = length & 0x7F | data[pos + 2] << 7
                start = pos + 3
            else:
                found = decode_varint(data, pos + 1)
                if found is None:
                    break
                length, start = found
        stop = start + length
        if stop - pos > max_size:
            raise PacketTooLarge(
                f"a {stop - pos}-byte packet (type {first >> 4}) exceeds our maximum packet "
                f"size of {max_size} bytes"
            )
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
                body = topic_end + 2
            else:
                if first & 0x08:
                    raise MalformedPacket("PUBLISH at QoS 0 with DUP set")  # 3.3.1.1
                if topic_end + 1 > stop:
                    raise MalformedPacket("PUBLISH ends inside its header")
                mid = 0
                body = topic_end
            alias = 0
            if data[body] == 0:
                body += 1
            else:
                body, alias = _publish_properties(data, body, stop, limits.known_properties)
            raw = data[start + 2 : topic_end]
            topic = known_topics.get(raw)
            if topic is None:
                topic = _topic_name(raw, known_topics)
            if alias:
                topic = _aliased(limits, alias, topic)
            elif not topic:
                raise ProtocolError("PUBLISH without a topic name or topic alias")
            if qos == 2:
                qos2_ids.add(mid)
            messages.append(Message(topic, data[body:stop], qos, mid, bool(first & 1)))
        else:
            packets.append(_decode_other(first, data[start:stop]))
        pos = stop
    return pos


def _topic_name(raw: bytes, known: dict[bytes, str]) -> str:
    """A topic name's text, once checked (1.5.4, 4.7.3: UTF-8, no wildcard, no U+0000) and
    remembered in ``known`` (bounded to ``KNOWN_TOPICS``); an empty name is not remembered."""
    try:
        topic = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPacket("topic name is not valid UTF-8") from None
    if "\x00" in topic or "+" in topic or "#" in topic:
        raise MalformedPacket(f"topic name {topic!r} has a wildcard or U+0000")
    if topic:
        if len(known) >= KNOWN_TOPICS:
            known.clear()
        known[raw] = topic
    return topic


def _aliased(limits: InboundLimits, alias: int, topic: str) -> str:
    """The topic a Topic Alias stands for; a topic name given with it sets it (3.3.2.3.4)."""
    if alias > limits.topic_alias_maximum:
        raise TopicAliasInvalid(
            f"topic alias {alias} above the maximum of {limits.topic_alias_maximum} we allow"
        )
    if topic:
        limits.topic_aliases[alias] = topic
        return topic
    known = limits.topic_aliases.get(alias)
    if known is None:
        raise ProtocolError(f"topic alias {alias} used before it was set")
    return known
