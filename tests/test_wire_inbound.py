"""What a subscriber reads from the broker: PUBLISH packets into messages, the rest decoded whole,
whatever the reads' boundaries; anything malformed is refused, never guessed at."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parktwin.wire.inbound import (
    InboundLimits,
    InboundPacket,
    Message,
    PubRel,
    SubAck,
    decode_inbound,
)
from parktwin.wire.packets import (
    PUBREL,
    MalformedPacket,
    MqttError,
    PingResp,
    PubAck,
    encode_ack,
    encode_binary,
    encode_publish,
    encode_string,
    encode_varint,
)


def decode_all(data: bytes) -> tuple[list[Message], list[InboundPacket], set[int], int]:
    messages: list[Message] = []
    packets: list[InboundPacket] = []
    qos2: set[int] = set()
    consumed = decode_inbound(data, messages, packets, qos2)
    return messages, packets, qos2, consumed


def publish_with_properties(topic: str, payload: bytes, packet_id: int, properties: bytes) -> bytes:
    """A QoS 1 PUBLISH carrying ``properties`` (as a broker forwards a publisher's)."""
    body = encode_string(topic) + packet_id.to_bytes(2, "big")
    body += encode_varint(len(properties)) + properties + payload
    return bytes((0x32,)) + encode_varint(len(body)) + body


def qos2_publish(topic: str, payload: bytes, packet_id: int, dup: bool = False) -> bytes:
    body = encode_string(topic) + packet_id.to_bytes(2, "big") + b"\x00" + payload
    return bytes((0x34 | (0x08 if dup else 0),)) + encode_varint(len(body)) + body


def test_publishes_become_messages_in_order() -> None:
    stream = (
        encode_publish(encode_string("parks/p1/devices/m1/telemetry"), b'{"v":1}', 1, 7)
        + encode_publish(encode_string("parks/p1/devices/m2/telemetry"), b"", 0, 0, retain=True)
        + qos2_publish("parks/p1/devices/m3/telemetry", b"x" * 300, 65535)
    )
    messages, packets, qos2, consumed = decode_all(stream)
    assert consumed == len(stream)
    assert packets == []
    assert messages == [
        Message("parks/p1/devices/m1/telemetry", b'{"v":1}', 1, 7, False),
        Message("parks/p1/devices/m2/telemetry", b"", 0, 0, True),
        Message("parks/p1/devices/m3/telemetry", b"x" * 300, 2, 65535, False),
    ]
    assert qos2 == {65535}  # acknowledged with PUBREC, not PUBACK


def test_a_publishers_properties_are_skipped_and_the_payload_kept() -> None:
    user_property = b"\x26" + encode_string("site") + encode_string("北区")
    expiry = b"\x02" + (3600).to_bytes(4, "big")
    content_type = b"\x03" + encode_string("application/json")
    properties = user_property + expiry + content_type
    packet = publish_with_properties("parks/p1/t", b'{"ts": 1}', 42, properties)
    messages, _, _, consumed = decode_all(packet)
    assert consumed == len(packet)
    assert messages == [Message("parks/p1/t", b'{"ts": 1}', 1, 42, False)]


def test_other_packets_are_decoded_whole() -> None:
    suback = bytes((0x90, 5)) + (9).to_bytes(2, "big") + b"\x00" + b"\x01\x87"
    stream = (
        suback
        + encode_ack(0x40, 3)
        + encode_ack(PUBREL | 0x02, 11)
        + bytes((0xD0, 0))
        + encode_publish(encode_string("a/b"), b"1", 1, 1)
    )
    messages, packets, _, consumed = decode_all(stream)
    assert consumed == len(stream)
    assert packets == [SubAck(9, (0x01, 0x87)), PubAck(3), PubRel(11), PingResp()]
    assert [m.payload for m in messages] == [b"1"]


@pytest.mark.parametrize(
    ("packet", "why"),
    [
        (bytes((0x36, 6)) + encode_string("a/b") + b"\x00\x01", "QoS 3"),
        (bytes((0x32, 6)) + encode_string("a/b") + b"\x00\x00\x00", "packet id 0"),
        (bytes((0x30, 5)) + encode_binary(b"\xff\xfe") + b"\x00", "topic not UTF-8"),
        (bytes((0x30, 3)) + encode_binary(b"") + b"\x00", "empty topic, no alias"),
        (bytes((0x32, 4)) + encode_string("a/b"), "ends inside the header"),
        (bytes((0x30, 2)) + b"\x00\x01", "shorter than a header"),
        (publish_with_properties("a/b", b"", 1, b"\x23\x00\x01"), "a topic alias"),
        (publish_with_properties("a/b", b"", 1, b"\x7f\x00"), "an unknown property"),
        (bytes((0x61, 2, 0, 1)), "PUBREL without its flags"),
        (bytes((0x90, 2, 0, 1)), "SUBACK without reason codes"),
        (bytes((0x20, 0)), "CONNACK too short"),
    ],
)
def test_malformed_packets_are_refused(packet: bytes, why: str) -> None:
    with pytest.raises(MalformedPacket):
        decode_all(packet)


def test_an_incomplete_packet_is_left_for_the_next_read() -> None:
    whole = encode_publish(encode_string("a/b"), b"x" * 200, 1, 5)  # a two-byte length
    for cut in (1, 2, 3, len(whole) - 1):
        messages, packets, _, consumed = decode_all(whole[:cut])
        assert (messages, packets, consumed) == ([], [], 0)


publishes = st.lists(
    st.tuples(
        st.text(
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00+#"),
            min_size=1,
            max_size=40,
        ),
        st.binary(max_size=400),
        st.sampled_from([0, 1, 2]),
        st.integers(1, 65535),
    ),
    min_size=1,
    max_size=30,
)


@given(publishes, st.data())
def test_reads_split_anywhere_decode_the_same(
    sent: list[tuple[str, bytes, int, int]], data: st.DataObject
) -> None:
    stream = b"".join(
        qos2_publish(topic, payload, packet_id)
        if qos == 2
        else encode_publish(encode_string(topic), payload, qos, packet_id)
        for topic, payload, qos, packet_id in sent
    )
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    messages: list[Message] = []
    packets: list[InboundPacket] = []
    pending, start = b"", 0
    for end in [*cuts, len(stream)]:
        pending += stream[start:end]
        start = end
        consumed = decode_inbound(pending, messages, packets, set())
        pending = pending[consumed:]
    assert pending == b""
    assert packets == []
    assert [(m.topic, m.payload, m.qos, m.mid) for m in messages] == [
        (topic, payload, qos, packet_id if qos else 0) for topic, payload, qos, packet_id in sent
    ]


class SliceRecorder(bytes):
    """A read buffer that records the length of every slice taken of it."""

    slices: list[int]

    def __getitem__(self, key):  # type: ignore[no-untyped-def,override]
        if isinstance(key, slice):
            start, stop, _ = key.indices(len(self))
            self.slices.append(stop - start)
        return super().__getitem__(key)


def test_properties_are_read_from_the_packets_own_bytes_not_a_copy_of_the_read() -> None:
    user_property = b"\x26" + encode_string("site") + encode_string("north")
    one = publish_with_properties("parks/p1/t", b'{"ts": 1}', 1, user_property)
    data = SliceRecorder(one * 2000)
    data.slices = []
    messages, _, _, consumed = decode_all(data)
    assert consumed == len(data) and len(messages) == 2000
    assert max(data.slices) <= len(one)  # never a slice reaching back to the read's start


def test_a_property_list_seen_before_decodes_the_same_and_a_bad_one_is_refused_every_time() -> None:
    alias_set = b"\x23\x00\x02" + b"\x03" + encode_string("application/json")
    limits = InboundLimits(topic_alias_maximum=4)
    stream = publish_with_properties("a/b", b"1", 1, alias_set) + publish_with_properties(
        "", b"2", 2, alias_set
    )
    for _ in range(2):  # the second time, both property lists are known to this connection
        messages: list[Message] = []
        decode_inbound(stream, messages, [], set(), limits)
        assert [(m.topic, m.payload) for m in messages] == [("a/b", b"1"), ("a/b", b"2")]
    bad = publish_with_properties("a/b", b"", 3, b"\x03\x00\x02\xff\xfe")  # not UTF-8
    for _ in range(2):
        with pytest.raises(MalformedPacket, match="not valid UTF-8"):
            decode_inbound(bad, [], [], set(), limits)


def test_a_topic_seen_before_decodes_the_same_and_a_bad_one_is_refused_every_time() -> None:
    limits = InboundLimits()
    stream = encode_publish(encode_string("parks/p/devices/m/telemetry"), b"1", 1, 1)
    stream += encode_publish(encode_string("parks/p/devices/m/telemetry"), b"2", 1, 2)
    for _ in range(2):  # the second time, the topic is known to this connection
        messages: list[Message] = []
        decode_inbound(stream, messages, [], set(), limits)
        assert messages == [
            Message("parks/p/devices/m/telemetry", b"1", 1, 1, False),
            Message("parks/p/devices/m/telemetry", b"2", 1, 2, False),
        ]
    assert messages[0].topic is messages[1].topic  # one text: its hash is computed once
    for bad, why in ((b"a/+/b", "wildcard"), (b"a\xff", "UTF-8"), (b"", "without a topic")):
        packet = encode_publish(len(bad).to_bytes(2, "big") + bad, b"", 1, 3)
        for _ in range(2):
            with pytest.raises(MqttError, match=why):
                decode_inbound(packet, [], [], set(), limits)
