"""The intake's MQTT v5 client against real mosquitto brokers: what the collectors and the twin
rely on. Test messages are published with aiomqtt (paho), not with the code under test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from conftest import Aedes, Mosquitto, free_port
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from prometheus_client import CollectorRegistry

from parktwin.config import MqttSettings
from parktwin.intake import Intake
from parktwin.metrics import IntakeMetrics, render
from parktwin.mqtt import make_client
from parktwin.wire import subscriber as subscriber_module
from parktwin.wire.connection import ConnectionLost
from parktwin.wire.inbound import Message
from parktwin.wire.packets import ServerDisconnected
from parktwin.wire.subscriber import Subscriber, SubscribeRefused, open_subscriber


async def publish(
    broker: Mosquitto,
    topic: str,
    payloads: list[bytes],
    qos: int = 1,
    properties: Properties | None = None,
) -> None:
    async with make_client(MqttSettings(port=broker.port), None) as client:
        for payload in payloads:
            await client.publish(topic, payload, qos=qos, properties=properties, timeout=10)


async def receive(subscriber: Subscriber, count: int, timeout_s: float = 10) -> list[Message]:
    """Exactly ``count`` messages (fails when fewer come in time)."""
    received: list[Message] = []
    async with asyncio.timeout(timeout_s):
        while len(received) < count:
            received += await subscriber.next_burst()
    assert len(received) == count
    return received


async def nothing_more(subscriber: Subscriber, wait_s: float = 0.5) -> bool:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(wait_s):
            await subscriber.next_burst()
            return False
    return True


@contextlib.asynccontextmanager
async def subscribed(
    broker: Mosquitto,
    client_id: str,
    topic_filter: str,
    qos: int = 1,
    persistent: bool = True,
    **settings: object,
) -> AsyncIterator[Subscriber]:
    mqtt = MqttSettings(port=broker.port, **settings)  # type: ignore[arg-type]
    async with open_subscriber(mqtt, client_id, persistent=persistent) as subscriber:
        await subscriber.subscribe([topic_filter], qos, 10)
        yield subscriber


async def test_messages_keep_their_topic_payload_qos_and_order(
    mosquitto: Mosquitto, park_id: str
) -> None:
    topic = f"parks/{park_id}/devices/m1/telemetry"
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = ("site", "北区")
    props.MessageExpiryInterval = 3600
    async with subscribed(mosquitto, f"s-{park_id}", f"parks/{park_id}/#", persistent=False) as s:
        await publish(mosquitto, topic, [b"zero"], qos=0)
        await publish(mosquitto, topic, [b'{"v": 1}'], qos=1, properties=props)
        await publish(mosquitto, topic, [b"two"], qos=2)
        messages = await receive(s, 3)
    assert [(m.topic, m.payload, m.qos) for m in messages] == [
        (topic, b"zero", 0),
        (topic, b'{"v": 1}', 1),
        (topic, b"two", 1),  # delivered at the subscription's QoS 1
    ]
    assert messages[0].mid == 0 and messages[1].mid > 0


async def test_unacknowledged_messages_come_back_and_acknowledged_ones_do_not(
    mosquitto: Mosquitto, park_id: str
) -> None:
    topic, client_id = f"parks/{park_id}/devices/m1/telemetry", f"s-{park_id}"
    async with subscribed(mosquitto, client_id, f"parks/{park_id}/#") as s:
        await publish(mosquitto, topic, [b"%d" % i for i in range(10)])
        first = await receive(s, 10)
        s.ack([m.mid for m in first[:4]])
    async with subscribed(mosquitto, client_id, f"parks/{park_id}/#") as s:
        again = await receive(s, 6)
        assert [m.payload for m in again] == [b"%d" % i for i in range(4, 10)]
        s.ack([m.mid for m in again])
    async with subscribed(mosquitto, client_id, f"parks/{park_id}/#") as s:
        assert await nothing_more(s)


async def test_qos2_messages_are_acknowledged_through_pubrec_and_pubcomp(
    mosquitto: Mosquitto, park_id: str
) -> None:
    topic, client_id = f"parks/{park_id}/devices/m1/telemetry", f"s-{park_id}"
    async with subscribed(mosquitto, client_id, f"parks/{park_id}/#", qos=2) as s:
        await publish(mosquitto, topic, [b"a", b"b", b"c"], qos=2)
        messages = await receive(s, 3)
        assert {m.qos for m in messages} == {2}
        s.ack([m.mid for m in messages])
        async with asyncio.timeout(5):  # the broker's PUBRELs, each answered with PUBCOMP
            while s._awaiting_release:
                await asyncio.sleep(0.02)
    async with subscribed(mosquitto, client_id, f"parks/{park_id}/#", qos=2) as s:
        assert await nothing_more(s)


async def test_receive_maximum_bounds_what_the_broker_sends_unacknowledged(
    mosquitto: Mosquitto, park_id: str
) -> None:
    topic = f"parks/{park_id}/devices/m1/telemetry"
    async with subscribed(mosquitto, f"s-{park_id}", f"parks/{park_id}/#", receive_maximum=5) as s:
        await publish(mosquitto, topic, [b"%d" % i for i in range(12)])
        first = await receive(s, 5)
        assert await nothing_more(s)
        s.ack([m.mid for m in first])
        # mosquitto 2.0.11 then sends all it has queued, beyond the Receive Maximum: the
        # subscriber's own bound (it stops reading) is what holds memory in that case.
        rest = await receive(s, 7)
        assert [m.payload for m in first + rest] == [b"%d" % i for i in range(12)]


async def test_own_publishes_wait_for_the_brokers_receive_maximum(
    strict_mosquitto: Mosquitto, park_id: str
) -> None:
    """The strict broker takes 10 unacknowledged QoS 1 messages at once; 100 are sent."""
    topic = f"parks/{park_id}/dead_letters"
    async with subscribed(strict_mosquitto, f"l-{park_id}", topic, persistent=False) as listener:
        async with subscribed(strict_mosquitto, f"s-{park_id}", "x/#") as s:
            for i in range(100):
                s.publish(topic, b"%d" % i)
            assert len(s.session.outbox) == 90
            received = await receive(listener, 100)
            assert s.publishes_dropped == 0 and not s.session.outbox
        listener.ack([m.mid for m in received])
    assert [m.payload for m in received] == [b"%d" % i for i in range(100)]


async def test_a_subscription_the_broker_refuses_raises_its_reason(
    mosquitto: Mosquitto, park_id: str
) -> None:
    # mosquitto 2.0 answers an invalid filter by closing the connection (it grants filters its
    # ACL denies and filters them at delivery instead), and that is raised with its reason.
    with pytest.raises(ServerDisconnected, match="0x81 malformed packet"):
        async with open_subscriber(MqttSettings(port=mosquitto.port), f"s-{park_id}") as s:
            await s.subscribe([f"parks/{park_id}/#/telemetry"], 1, 10)


async def test_a_flood_of_qos0_messages_pauses_reading_and_loses_nothing(
    mosquitto: Mosquitto, park_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(subscriber_module, "PAUSE_MESSAGES", 50)
    topic = f"parks/{park_id}/devices/m1/telemetry"
    # 2,000 messages of 1 kB: far more than one read or the socket buffers hold, so that on a
    # slow machine too the flood cannot all arrive before reading pauses.
    payloads = [b"%d " % i + b"x" * 1000 for i in range(2000)]
    async with subscribed(mosquitto, f"s-{park_id}", topic, qos=0, persistent=False) as s:
        await publish(mosquitto, topic, payloads, qos=0)
        async with asyncio.timeout(5):
            while not s._reading_paused:
                await asyncio.sleep(0.01)
        assert 50 <= len(s._inbox) < 2000
        messages = await receive(s, 2000)
    assert [m.payload for m in messages] == payloads


async def test_a_broker_that_goes_away_ends_the_stream_with_an_error(
    own_mosquitto: Mosquitto, park_id: str
) -> None:
    with pytest.raises(ConnectionLost):  # raised again when leaving: never lost
        async with subscribed(own_mosquitto, f"s-{park_id}", "parks/#", persistent=False) as s:
            own_mosquitto.kill()
            with pytest.raises(ConnectionLost):
                async with asyncio.timeout(10):
                    await s.next_burst()
            s.ack([1, 2])  # acknowledging on a lost connection is a no-op, not an error


async def test_an_unreachable_broker_is_a_connection_error() -> None:
    settings = MqttSettings(port=free_port())
    with pytest.raises(ConnectionLost, match=r"cannot connect to 127\.0\.0\.1"):
        async with open_subscriber(settings, "nobody"):
            pass


async def test_a_broker_that_lost_our_session_is_counted_and_subscribed_again(
    own_mosquitto: Mosquitto, park_id: str
) -> None:
    """SIGKILL loses what mosquitto had not saved (it saves at shutdown and every 30 min):
    our persistent session is gone when it comes back."""
    topic = f"parks/{park_id}/devices/m1/telemetry"
    intake = Intake(MqttSettings(port=own_mosquitto.port), f"c-{park_id}", [f"parks/{park_id}/#"])
    received: list[bytes] = []

    async def handle(burst: list[Message], generation: int, _: int) -> None:
        received.extend(m.payload for m in burst)
        intake.ack(generation, [m.mid for m in burst if m.mid])

    async def nothing() -> None:
        pass

    stop = asyncio.Event()
    running = asyncio.create_task(intake.run(stop, handle, nothing))
    try:
        async with asyncio.timeout(10):
            while not intake.connected:
                await asyncio.sleep(0.02)
        own_mosquitto.kill()
        own_mosquitto.start()
        async with asyncio.timeout(30):
            while not (intake.connected and intake.generation == 2):
                await asyncio.sleep(0.05)
        await publish(own_mosquitto, topic, [b"after"])
        async with asyncio.timeout(10):
            while received != [b"after"]:
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await running
    assert intake.sessions_lost == 1
    registry = CollectorRegistry(auto_describe=False)
    registry.register(IntakeMetrics(intake, "collector"))
    assert b"parktwin_collector_mqtt_sessions_lost_total 1.0" in render(registry)


async def test_a_broker_without_shared_subscriptions_refuses_a_group_with_its_reason(
    aedes: Aedes, park_id: str
) -> None:
    """aedes says so in its CONNACK and refuses ``$share/`` with 0x9E: a collector of a shared
    group stops with that reason instead of reading nothing (docs/scaling.md, brokers)."""
    with pytest.raises(SubscribeRefused, match="0x9E shared subscriptions not supported"):
        async with open_subscriber(MqttSettings(port=aedes.port), f"s-{park_id}") as s:
            await s.subscribe([f"$share/g/parks/{park_id}/#"], 1, 10)
