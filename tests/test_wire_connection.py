"""One client connection against a broker's side scripted by hand (``ScriptedPeer``): how reads
are framed, what a packet too large does, keep-alive while reading is paused, what is resent
after a reconnect, and the limits a CONNACK sets. Each case is one a real broker will not show
on demand; the same behaviours against mosquitto are in tests/test_wire_subscriber.py."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import pytest
from conftest import ScriptedPeer
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from parktwin.config import MqttSettings
from parktwin.wire import subscriber as subscriber_module
from parktwin.wire.connection import ConnectionLost
from parktwin.wire.packets import (
    PINGRESP_PACKET,
    MqttError,
    PacketTooLarge,
    encode_publish,
    encode_string,
    encode_varint,
)
from parktwin.wire.subscriber import OutboundSession, Subscriber, open_subscriber


def connack(session_present: bool = False, properties: Properties | None = None) -> bytes:
    props = properties.pack() if properties is not None else b"\x00"
    body = bytes((int(session_present), 0)) + props
    return bytes((0x20,)) + encode_varint(len(body)) + body


def settings_for(peer: ScriptedPeer, **values: object) -> MqttSettings:
    """Settings without validation, so that a test may use a keep-alive of one second."""
    return MqttSettings.model_construct(port=peer.port, **values)


@contextlib.asynccontextmanager
async def connected(
    peer: ScriptedPeer,
    answer: bytes | None = None,
    session: OutboundSession | None = None,
    **values: object,
) -> AsyncIterator[tuple[Subscriber, bytes]]:
    """A subscriber connected to ``peer``, which answered ``answer`` (a plain CONNACK by
    default); yields it and the CONNECT it sent."""
    seen: list[bytes] = []

    async def broker() -> None:
        await peer.accept()
        seen.append(await peer.read_packet())
        peer.send(connack() if answer is None else answer)

    playing = asyncio.create_task(broker())
    async with open_subscriber(settings_for(peer, **values), "c1", session=session) as client:
        await playing
        try:
            yield client, seen[0]
        finally:
            peer.close_on_eof()


def big_publish(size: int) -> bytes:
    return encode_publish(encode_string("parks/p1/devices/m1/telemetry"), b"x" * size, 1, 9)


async def test_a_packet_in_many_reads_is_decoded_once_when_whole(
    scripted_peer: ScriptedPeer,
) -> None:
    packet = big_publish(900_000)
    async with connected(scripted_peer) as (client, _):
        handed: list[int] = []
        consume = client._consume

        def counting(data: bytes) -> int:
            handed.append(len(data))
            return consume(data)

        client._consume = counting  # type: ignore[method-assign]
        for start in range(0, len(packet), 4096):
            scripted_peer.send(packet[start : start + 4096])
            await scripted_peer.writer.drain()  # type: ignore[union-attr]
        async with asyncio.timeout(5):
            burst = await client.next_burst()
        client.ack([burst[0].mid])
    assert burst[0].payload == b"x" * 900_000
    # Before: every read was joined to all before it and decoded again (220 reads, 100 MB).
    assert sum(handed) < 2 * len(packet)


async def test_a_packet_above_our_maximum_is_refused_with_disconnect_0x95(
    scripted_peer: ScriptedPeer,
) -> None:
    with pytest.raises(PacketTooLarge, match="exceeds our maximum packet size of 1000 bytes"):
        async with connected(scripted_peer, max_packet_size_bytes=1000) as (client, connect):
            assert b"\x27" + (1000).to_bytes(4, "big") in connect  # Maximum Packet Size
            scripted_peer.send(big_publish(100_000_000)[:64])  # only its header has come
            assert await scripted_peer.read_until_closed() == bytes((0xE0, 1, 0x95))
            await client.next_burst()


async def test_keep_alive_fails_a_silent_broker_while_reading_is_paused(
    scripted_peer: ScriptedPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(subscriber_module, "PAUSE_MESSAGES", 10)
    with pytest.raises(ConnectionLost, match="no PINGRESP"):
        async with connected(scripted_peer, keepalive_s=1) as (client, _):
            scripted_peer.send(b"".join(big_publish(10) for _ in range(20)))
            async with asyncio.timeout(2):
                while not client._reading_paused:
                    await asyncio.sleep(0.01)
            # The owner takes nothing and the broker answers no PINGREQ: the connection is
            # found dead all the same, within a few keep-alive periods.
            async with asyncio.timeout(5):
                while client._error is None:
                    await asyncio.sleep(0.05)
            client._check()


async def test_keep_alive_holds_a_live_broker_while_reading_is_paused(
    scripted_peer: ScriptedPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(subscriber_module, "PAUSE_MESSAGES", 10)
    async with connected(scripted_peer, keepalive_s=1) as (client, _):
        scripted_peer.send(b"".join(big_publish(10) for _ in range(20)))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(3.5):  # answer every PINGREQ, skip the acknowledgements
                while True:
                    if await scripted_peer.read_packet() == b"\xc0\x00":
                        scripted_peer.send(PINGRESP_PACKET)
        assert client._reading_paused and client._error is None


async def test_own_publishes_in_flight_and_queued_are_resent_with_dup_when_the_session_is_kept(
    scripted_peer: ScriptedPeer,
) -> None:
    answer = Properties(PacketTypes.CONNACK)
    answer.ReceiveMaximum = 2
    session = OutboundSession()
    with pytest.raises(ConnectionLost):
        async with connected(scripted_peer, connack(False, answer), session) as (client, _):
            for i in range(3):
                client.publish("parks/p1/dead_letters", b"%d" % i)
            sent = [await scripted_peer.read_packet() for _ in range(2)]
            client.abort()  # lost before any PUBACK came
    assert [p[0] for p in sent] == [0x32, 0x32]
    async with connected(scripted_peer, connack(True, answer), session) as (client, _):
        again = [await scripted_peer.read_packet() for _ in range(2)]
        # The two in flight, DUP set, their original packet ids; the queued one waits for room.
        assert again == [bytes((0x3A,)) + p[1:] for p in sent]
        scripted_peer.send(bytes((0x40, 2)) + sent[0][-4:-2])  # PUBACK the first
        third = await scripted_peer.read_packet()
        assert third[0] == 0x32 and third.endswith(b"2")


async def test_a_lost_session_is_counted_and_its_messages_sent_again(
    scripted_peer: ScriptedPeer, caplog: pytest.LogCaptureFixture
) -> None:
    session = OutboundSession()
    with pytest.raises(ConnectionLost):
        async with connected(scripted_peer, session=session) as (client, _):
            client.publish("parks/p1/twin/state", b"s", retain=True)
            first = await scripted_peer.read_packet()
            client.abort()
    with caplog.at_level(logging.ERROR):
        async with connected(scripted_peer, connack(False), session) as (client, _):
            again = await scripted_peer.read_packet()
    assert session.sessions_lost == 1
    assert "session" in caplog.text and "lost" in caplog.text
    assert again[0] == 0x33 and again[-1:] == b"s"  # a new message: no DUP, same content
    assert first[0] == 0x33


async def test_connack_limits_are_respected(scripted_peer: ScriptedPeer) -> None:
    answer = Properties(PacketTypes.CONNACK)
    answer.MaximumQoS = 0
    answer.RetainAvailable = 0
    answer.MaximumPacketSize = 64
    async with connected(scripted_peer, connack(False, answer)) as (client, _):
        client.publish("a/b", b"1", qos=1, retain=True)
        assert await scripted_peer.read_packet() == encode_publish(encode_string("a/b"), b"1")
        client.publish("a/b", b"y" * 100)  # larger than the broker takes: dropped, counted
        client.publish("a/c", b"2")
        assert await scripted_peer.read_packet() == encode_publish(encode_string("a/c"), b"2")
        assert client.session.publishes_dropped == 1


async def test_a_topic_alias_beyond_our_maximum_is_refused_with_disconnect_0x94(
    scripted_peer: ScriptedPeer,
) -> None:
    def aliased(topic: str, alias: int, payload: bytes) -> bytes:
        props = b"\x23" + alias.to_bytes(2, "big")
        body = encode_string(topic) + encode_varint(len(props)) + props + payload
        return bytes((0x30,)) + encode_varint(len(body)) + body

    with pytest.raises(MqttError, match="topic alias 3 above the maximum of 2"):
        async with connected(scripted_peer, topic_alias_maximum=2) as (client, connect):
            assert b"\x22\x00\x02" in connect
            scripted_peer.send(aliased("a/b", 2, b"1") + aliased("", 2, b"2"))
            burst = await client.next_burst()
            assert [(m.topic, m.payload) for m in burst] == [("a/b", b"1"), ("a/b", b"2")]
            scripted_peer.send(aliased("", 3, b"3"))
            assert await scripted_peer.read_until_closed() == bytes((0xE0, 1, 0x94))
            await client.next_burst()
