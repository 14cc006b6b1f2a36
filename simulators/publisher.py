"""Fast QoS 1 publishing over aiomqtt: many messages in flight, none counted before its PUBACK.

Awaiting ``aiomqtt.Client.publish`` for each message costs a round trip per message. Instead the
publisher hands messages to aiomqtt's paho client directly and keeps at most ``window`` of them
unacknowledged; ``drain`` waits until the broker has acknowledged every one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiomqtt
import paho.mqtt.client as mqtt


class PublishError(RuntimeError):
    """The broker refused a message or the connection could not take it."""


class WindowedPublisher:
    """Publishes without awaiting each message, with a bounded window of unacknowledged ones."""

    def __init__(self, client: aiomqtt.Client, qos: int = 1, window: int = 1000) -> None:
        self._paho: mqtt.Client = client._client  # aiomqtt exposes no batch publish
        self.qos = qos
        self.window = max(1, window)
        self._low_water = self.window // 2
        self.sent = 0
        self.acked = 0
        self.refused = 0
        self._room = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        aiomqtt_callback: Any = self._paho.on_publish

        def on_publish(client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
            if aiomqtt_callback is not None:
                aiomqtt_callback(client, userdata, mid, reason, props)
            self.acked += 1
            if getattr(reason, "is_failure", False):
                self.refused += 1
            unacked = self.sent - self.acked
            if unacked <= self._low_water:
                self._room.set()
            if unacked == 0:
                self._idle.set()

        self._paho.on_publish = on_publish

    @property
    def in_flight(self) -> int:
        return self.sent - self.acked

    @property
    def published(self) -> int:
        """Messages the broker has acknowledged (accepted)."""
        return self.acked - self.refused

    def has_room(self) -> bool:
        return self.sent - self.acked < self.window

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """Hand one message to the client; call only when ``has_room()``."""
        info = self._paho.publish(topic, payload, self.qos, retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise PublishError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        self.sent += 1
        self._idle.clear()

    async def wait_for_room(self, timeout_s: float = 30.0) -> None:
        """Wait until the window has drained to half, so that sends go out in batches."""
        while not self.has_room():
            self._room.clear()
            if self.sent - self.acked <= self._low_water:
                return
            async with asyncio.timeout(timeout_s):
                await self._room.wait()

    async def drain(self, timeout_s: float = 60.0) -> None:
        """Wait until the broker has acknowledged everything sent."""
        async with asyncio.timeout(timeout_s):
            await self._idle.wait()
        if self.refused:
            raise PublishError(f"the broker refused {self.refused} messages")
