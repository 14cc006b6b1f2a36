"""What a mosquitto crash loses: messages it confirmed to devices, queued for a persistent session
whose client is away, survive a SIGKILL once an autosave has passed. The brokers parktwin ships
(deploy/mosquitto, the demo's and the tests' configuration) save every second; at mosquitto's
default, every 30 minutes, the same crash loses them all. Real mosquitto, real SIGKILL."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Mosquitto, deploy_mosquitto, deploy_password

from parktwin.acl import device_username
from parktwin.config import MqttSettings
from parktwin.contract import topics
from parktwin.mqtt import make_client
from parktwin.wire.subscriber import open_subscriber

pytestmark = pytest.mark.integration

PARK = "crashpark"
COUNT = 300


def account(broker: Mosquitto, user: str | None) -> MqttSettings:
    if user is None:
        return MqttSettings(host="127.0.0.1", port=broker.port)
    password = deploy_password(user)
    return MqttSettings(host="127.0.0.1", port=broker.port, username=user, password=password)


async def queued_through_a_crash(
    broker: Mosquitto, reader: str | None, device: str | None, wait_s: float
) -> int:
    """Messages a persistent session gets after a SIGKILL of the broker, of ``COUNT`` confirmed
    to the publisher while the session's client was away ``wait_s`` before the kill."""
    client_id = f"away-{uuid.uuid4().hex[:6]}"
    async with open_subscriber(account(broker, reader), client_id) as session:
        await session.subscribe([topics.telemetry_filter(PARK)], 1, 10)
    async with make_client(account(broker, device), None) as publisher:
        for i in range(COUNT):
            # Each awaited: confirmed (PUBACK) by the broker before the next.
            await publisher.publish(topics.telemetry(PARK, "m-plant"), f"{i}".encode(), qos=1)
    await asyncio.sleep(wait_s)
    broker.kill()
    await asyncio.to_thread(broker.start)
    got: set[bytes] = set()
    async with open_subscriber(account(broker, reader), client_id) as session:
        deadline = time.monotonic() + 5
        while len(got) < COUNT and time.monotonic() < deadline:
            try:
                async with asyncio.timeout(1):
                    burst = await session.next_burst()
            except TimeoutError:
                break
            got.update(m.payload for m in burst)
            session.ack([m.mid for m in burst])
    return len(got)


Factory = Callable[[Path], tuple[Mosquitto, str | None, str | None]]


def demo_broker(folder: Path) -> tuple[Mosquitto, str | None, str | None]:
    return Mosquitto.create(folder), None, None


def compose_broker(folder: Path) -> tuple[Mosquitto, str | None, str | None]:
    device = device_username(PARK, "m-plant")
    return deploy_mosquitto(folder, [device]), "parktwin", device


@pytest.mark.parametrize("factory", [demo_broker, compose_broker], ids=["demo", "deploy"])
async def test_confirmed_messages_survive_a_broker_crash_after_one_second(
    factory: Factory, tmp_path: Path
) -> None:
    broker, reader, device = factory(tmp_path)
    await asyncio.to_thread(broker.start)
    try:
        assert await queued_through_a_crash(broker, reader, device, wait_s=2.0) == COUNT
    finally:
        broker.kill()


async def test_at_mosquittos_default_autosave_the_same_crash_loses_them_all(
    tmp_path: Path,
) -> None:
    broker = Mosquitto.create(tmp_path, "autosave_interval 1800\n")  # the last setting wins
    await asyncio.to_thread(broker.start)
    try:
        assert await queued_through_a_crash(broker, None, None, wait_s=2.0) == 0
    finally:
        broker.kill()
