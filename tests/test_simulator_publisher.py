"""The simulator's MQTT v5 publisher against real mosquitto brokers: delivery, window, will,
credentials, refusals and TLS."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from conftest import PASSWORD, USER, Mosquitto, free_port, require_binary
from helpers import Subscriber, every_kind_park
from pydantic import SecretStr

from parktwin.config import MqttSettings, TlsSettings
from parktwin.wire.packets import (
    ConnectRefused,
    MqttError,
    PublishRefused,
    ServerDisconnected,
    Will,
)
from simulators.publisher import NO_LIMIT, ConnectionLost, WindowedPublisher, open_publisher
from simulators.run import SimulatorOptions, run_simulator


@contextlib.asynccontextmanager
async def listening(broker: Mosquitto, park_id: str) -> AsyncIterator[Subscriber]:
    """A subscriber (paho, not the code under test) to ``parks/<park_id>/#`` while in the block."""
    subscriber = Subscriber(broker, park_id)
    task = asyncio.create_task(subscriber.run())
    try:
        await subscriber.ready()
        yield subscriber
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def publish_many(publisher: WindowedPublisher, topics: list[str], count: int) -> None:
    for i in range(count):
        if not publisher.has_room():
            await publisher.wait_for_room()
        publisher.publish(topics[i % len(topics)], b"%d" % i)
    await publisher.drain()


async def test_everything_published_arrives(mosquitto: Mosquitto, park_id: str) -> None:
    topics = [f"parks/{park_id}/devices/d{i}/telemetry" for i in range(7)]
    async with listening(mosquitto, park_id) as subscriber:
        async with open_publisher(MqttSettings(port=mosquitto.port), f"t-{park_id}") as publisher:
            await publish_many(publisher, topics, 5000)
            assert publisher.published == publisher.sent == 5000
            assert publisher.in_flight == 0
        await subscriber.wait_for(5000, "/telemetry")
    by_topic = [p for t, p in subscriber.telemetry() if t == topics[3]]
    assert by_topic == [b"%d" % i for i in range(3, 5000, 7)]  # in order per topic


async def test_packet_ids_wrap_around_with_a_small_window(
    mosquitto: Mosquitto, park_id: str
) -> None:
    topics = [f"parks/{park_id}/devices/d{i}/telemetry" for i in range(3)]
    count = 70_123  # more than the 65,535 packet ids
    async with listening(mosquitto, park_id) as subscriber:
        settings = MqttSettings(port=mosquitto.port)
        async with open_publisher(settings, f"t-{park_id}", window=40) as publisher:
            highest = 0
            for i in range(count):
                if not publisher.has_room():
                    await publisher.wait_for_room()
                assert publisher.in_flight < 40
                publisher.publish(topics[i % 3], b"%d" % i)
                highest = max(highest, publisher.in_flight)
            await publisher.drain()
            assert highest == 40
            assert publisher.published == count
        await subscriber.wait_for(count, "/telemetry")
    assert len(subscriber.telemetry()) == count
    assert sorted(int(p) for _, p in subscriber.telemetry()) == list(range(count))


async def test_qos0_messages_arrive_too(mosquitto: Mosquitto, park_id: str) -> None:
    topic = f"parks/{park_id}/devices/d/telemetry"
    async with listening(mosquitto, park_id) as subscriber:
        async with open_publisher(MqttSettings(port=mosquitto.port), f"t-{park_id}", qos=0) as p:
            await publish_many(p, [topic], 500)
        await subscriber.wait_for(500, "/telemetry")


async def status_seen(mosquitto: Mosquitto, topic: str) -> bytes:
    """The retained message on a topic, as a newcomer receives it."""
    async with listening(mosquitto, topic.split("/")[1]) as seen:
        await seen.wait_for(1, "/status")
    return [p for t, p in seen.received if t == topic][-1]


async def test_the_will_is_published_when_the_connection_is_cut(
    mosquitto: Mosquitto, park_id: str
) -> None:
    topic = f"parks/{park_id}/gateways/g/status"
    will = Will(topic, b"offline", qos=1, retain=True)
    settings = MqttSettings(port=mosquitto.port, keepalive_s=5)
    with pytest.raises(ConnectionLost):
        async with open_publisher(settings, f"t-{park_id}", will=will) as publisher:
            publisher.publish(topic, b"online", retain=True)
            await publisher.drain()
            assert await status_seen(mosquitto, topic) == b"online"
            publisher.abort()  # the transport dies without DISCONNECT
            await publisher.drain()
    async with asyncio.timeout(10):
        while await status_seen(mosquitto, topic) != b"offline":
            await asyncio.sleep(0.05)


async def test_leaving_by_an_exception_sends_the_will_and_a_clean_exit_does_not(
    mosquitto: Mosquitto, park_id: str
) -> None:
    settings = MqttSettings(port=mosquitto.port)
    clean, failed = (f"parks/{park_id}/gateways/{g}/status" for g in ("clean", "failed"))
    for topic in (clean, failed):
        async with open_publisher(settings, f"{topic}-warmup") as publisher:
            publisher.publish(topic, b"online", retain=True)
            await publisher.drain()
    async with open_publisher(settings, "clean", will=Will(clean, b"offline")):
        pass
    with pytest.raises(RuntimeError, match="simulated crash"):
        async with open_publisher(settings, "failed", will=Will(failed, b"offline")):
            raise RuntimeError("simulated crash")
    async with asyncio.timeout(10):
        while await status_seen(mosquitto, failed) != b"offline":
            await asyncio.sleep(0.05)
    assert await status_seen(mosquitto, clean) == b"online"


async def test_username_and_password_are_accepted(
    secured_mosquitto: Mosquitto, park_id: str
) -> None:
    settings = MqttSettings(
        port=secured_mosquitto.port, username=USER, password=SecretStr(PASSWORD)
    )
    topic = f"parks/{park_id}/devices/d/telemetry"
    async with open_publisher(settings, f"t-{park_id}") as publisher:
        await publish_many(publisher, [topic], 100)
        # each PUBACK is a success: the ACL would have answered 0x87 to an unknown user
        assert publisher.published == 100


@pytest.mark.parametrize(
    ("username", "password"), [(USER, "wrong"), ("nobody", PASSWORD), (None, None)]
)
async def test_a_refused_connection_names_the_reason(
    secured_mosquitto: Mosquitto, username: str | None, password: str | None
) -> None:
    settings = MqttSettings(
        port=secured_mosquitto.port,
        username=username,
        password=SecretStr(password) if password else None,
    )
    with pytest.raises(ConnectRefused) as refused:
        async with open_publisher(settings, "t-refused"):
            pass
    # mosquitto 2.0 answers 0x87 "not authorized" where 0x86 would be more precise
    assert refused.value.reason_code in (0x86, 0x87)
    assert "the broker refused the connection: 0x8" in str(refused.value)
    assert ("bad user name or password" in str(refused.value)) or (
        "not authorized" in str(refused.value)
    )
    if password:
        assert password not in str(refused.value)


async def test_a_refused_message_raises(secured_mosquitto: Mosquitto, park_id: str) -> None:
    settings = MqttSettings(
        port=secured_mosquitto.port, username=USER, password=SecretStr(PASSWORD)
    )
    with pytest.raises(PublishRefused, match="0x87 not authorized"):
        async with open_publisher(settings, f"t-{park_id}") as publisher:
            publisher.publish(f"parks/{park_id}/devices/d/telemetry", b"ok")
            publisher.publish("elsewhere/t", b"not allowed by the ACL")
            await publisher.drain()
    assert publisher.published == 1


async def test_the_brokers_limits_are_honoured(strict_mosquitto: Mosquitto, park_id: str) -> None:
    topic = f"parks/{park_id}/devices/d/telemetry"
    async with listening(strict_mosquitto, park_id) as subscriber:
        settings = MqttSettings(port=strict_mosquitto.port)
        async with open_publisher(settings, f"t-{park_id}", window=1000) as publisher:
            assert publisher.window == 10  # the CONNACK's Receive Maximum
            await publish_many(publisher, [topic], 1000)
            with pytest.raises(MqttError, match="exceeds the broker's maximum packet size of 200"):
                publisher.publish(topic, b"x" * 300)
            await publish_many(publisher, [topic], 1)
        await subscriber.wait_for(1001, "/telemetry")


async def test_a_disconnect_from_the_broker_raises_its_reason(
    strict_mosquitto: Mosquitto, park_id: str
) -> None:
    settings = MqttSettings(port=strict_mosquitto.port)
    with pytest.raises(ServerDisconnected, match="0x95 packet too large"):
        async with open_publisher(settings, f"t-{park_id}") as publisher:
            publisher._max_packet_size = NO_LIMIT  # as if the CONNACK had not said
            publisher.publish(f"parks/{park_id}/x", b"x" * 300)
            await publisher.drain()


async def test_a_broker_that_goes_away_raises(own_mosquitto: Mosquitto, park_id: str) -> None:
    settings = MqttSettings(port=own_mosquitto.port)
    with pytest.raises(ConnectionLost):
        async with open_publisher(settings, f"t-{park_id}") as publisher:
            own_mosquitto.kill()
            await asyncio.sleep(0.2)
            await publish_many(publisher, [f"parks/{park_id}/x"], 10)


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for 127.0.0.1 signed by it: (ca, cert, key)."""
    openssl = require_binary("openssl")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ca, ca_key = folder / "ca.crt", folder / "ca.key"
    cert, key, request = folder / "server.crt", folder / "server.key", folder / "server.csr"
    extensions = folder / "server.ext"
    extensions.write_text("subjectAltName = IP:127.0.0.1, DNS:localhost\n")
    commands = [
        [openssl, "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2",
         "-subj", "/CN=parktwin test CA"],
        [openssl, "req", *ec, "-keyout", key, "-out", request, "-subj", "/CN=127.0.0.1"],
        [openssl, "x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key,
         "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", extensions],
    ]  # fmt: skip
    for command in commands:
        subprocess.run([str(part) for part in command], check=True, capture_output=True)
    return ca, cert, key


@pytest.fixture
def tls_mosquitto(tmp_path: Path) -> Iterator[tuple[Mosquitto, int, Path]]:
    """A broker with a plain listener (for the subscriber) and a TLS one: (broker, port, CA)."""
    folder = tmp_path / "tls"
    folder.mkdir()
    ca, cert, key = make_certificates(folder)
    tls_port = free_port()
    server = Mosquitto.create(
        folder, f"listener {tls_port} 127.0.0.1\ncertfile {cert}\nkeyfile {key}\nuser root\n"
    )
    server.start()
    yield server, tls_port, ca
    server.kill()


async def test_publishing_over_tls(
    tls_mosquitto: tuple[Mosquitto, int, Path], park_id: str
) -> None:
    broker, tls_port, ca = tls_mosquitto
    topic = f"parks/{park_id}/devices/d/telemetry"
    settings = MqttSettings(port=tls_port, tls=TlsSettings(ca_file=ca))
    async with listening(broker, park_id) as subscriber:
        async with open_publisher(settings, f"t-{park_id}", window=100) as publisher:
            await publish_many(publisher, [topic], 3000)
        await subscriber.wait_for(3000, "/telemetry")
    untrusted = MqttSettings(port=tls_port, tls=TlsSettings())  # the system's CAs only
    with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):
        async with open_publisher(untrusted, f"u-{park_id}"):
            pass


async def test_pings_keep_an_idle_connection_and_notice_a_frozen_broker(
    own_mosquitto: Mosquitto, park_id: str
) -> None:
    settings = MqttSettings(port=own_mosquitto.port, keepalive_s=5)
    topic = f"parks/{park_id}/devices/d/telemetry"
    # pings start after 2.5 s without a write and give up 5 s later: 10 s at most
    with pytest.raises(ConnectionLost, match="no PINGRESP within 5 s"):
        async with open_publisher(settings, f"t-{park_id}") as publisher:
            await asyncio.sleep(8)  # mosquitto drops a silent client after 1.5 keep alives
            await publish_many(publisher, [topic], 10)
            own_mosquitto.freeze()
            try:
                publisher.publish(topic, b"never acknowledged")
                await publisher.drain(timeout_s=12)
            finally:
                own_mosquitto.thaw()


async def test_a_cancelled_simulator_leaves_its_will(mosquitto: Mosquitto, park_id: str) -> None:
    park = every_kind_park(park_id)
    options = SimulatorOptions(
        park=park, mqtt=MqttSettings(port=mosquitto.port), speed=60.0, window=100
    )
    gateway = f"parks/{park_id}/gateways/simulator/status"
    run = asyncio.create_task(run_simulator(options))
    async with asyncio.timeout(10):
        while await status_seen(mosquitto, gateway) != b"online":
            await asyncio.sleep(0.05)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    async with asyncio.timeout(10):  # no goodbye was sent: the broker publishes the will
        while await status_seen(mosquitto, gateway) != b"offline":
            await asyncio.sleep(0.05)
