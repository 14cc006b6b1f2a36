"""An MQTT intake whose messages are acknowledged by their owner, once they are safe.

Both roles read the telemetry this way: the collectors acknowledge after a batch is in the
database or the spool, the twin after a checkpoint holds the readings. The intake owns the
connection: a persistent MQTT v5 session, manual acknowledgements, reconnection with backoff,
and reading messages in bursts.

The client is ``parktwin.wire.subscriber``, not aiomqtt: on this path paho's packet decoding and
aiomqtt's hand-over took three quarters of a collector's CPU (docs/performance.md). Message ids
belong to one connection; acknowledgements for an earlier connection are dropped, and the broker
redelivers those messages instead. Its own QoS 1 publishes are kept in one ``OutboundSession``
across connections and sent again after a reconnect. A broker that lost our session (restarted
without persistence, a failover) is logged as an error and counted (``sessions_lost``); the
intake subscribes on every connection, which restores the subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from parktwin.backoff import backoff_s
from parktwin.broker_limits import limits_that_lose_data
from parktwin.config import MqttSettings
from parktwin.wire.inbound import Message
from parktwin.wire.packets import MqttError, reason_name
from parktwin.wire.subscriber import OutboundSession, Subscriber, open_subscriber

log = logging.getLogger(__name__)

# A SUBSCRIBE may wait behind a large backlog of a persistent session; give it time.
SUBSCRIBE_TIMEOUT_S = 120.0

# (messages of one burst, the connection's generation, arrival time in epoch ms)
BurstHandler = Callable[[list[Message], int, int], Awaitable[None]]


@dataclass
class PublishHealth:
    """What the broker thinks of this service's own publishes and of its session: publishes it
    refused, by the topic's kind (``deadletter``, ``twin``, ``alerts``...), and the limits its
    CONNACK announced that will lose data. A refused publish is an error (an account without
    the rights it needs, docs/access.md): ``/healthz`` turns to ``error`` and ``/metrics``
    counts it."""

    refused: Counter[str] = field(default_factory=Counter)
    last_refusal: str = ""
    broker_warnings: list[str] = field(default_factory=list)

    @property
    def failing(self) -> bool:
        return bool(self.refused)

    def report(self) -> dict[str, object]:
        """For ``/healthz``."""
        return {
            "publishes_refused": dict(self.refused),
            "last_refusal": self.last_refusal or None,
            "broker_warnings": list(self.broker_warnings),
        }


def topic_kind(topic: str) -> str:
    """``parks/{park}/{kind}/...`` -> kind: a label of few values for the metrics."""
    parts = topic.split("/", 3)
    return parts[2] if len(parts) > 2 and parts[0] == "parks" else "other"


class Intake:
    """A persistent subscription; the owner handles bursts and acknowledges by message id."""

    def __init__(
        self,
        settings: MqttSettings,
        client_id: str,
        subscriptions: Sequence[str],
        health: PublishHealth | None = None,
    ) -> None:
        self.settings = settings
        self.client_id = client_id
        self.subscriptions = list(subscriptions)
        self.generation = 0
        self.reconnects = 0
        self.session = OutboundSession()
        self.health = health if health is not None else PublishHealth()
        self._client: Subscriber | None = None
        self._subscribed = False
        self._rng = random.Random()

    @property
    def connected(self) -> bool:
        """Connected and subscribed: from now on nothing published for us is missed."""
        return self._client is not None and self._subscribed

    async def run(
        self,
        stop: asyncio.Event,
        handle: BurstHandler,
        before_leaving: Callable[[], Awaitable[None]],
    ) -> None:
        """Read until ``stop``; then ``before_leaving()`` runs while still connected, so that
        the owner can make its last messages safe and acknowledge them."""
        attempt = 0
        left = False
        while True:
            try:
                async with open_subscriber(
                    self.settings, self.client_id, session=self.session
                ) as client:
                    self.generation += 1
                    self._client = client
                    client.on_refused = self._refused
                    self._check_limits(client)
                    self._subscribed = False
                    attempt = 0
                    await self._read_until(client, stop, handle)
                    left = True
                    await before_leaving()
                    self._client = None
                    return
            except MqttError as exc:
                self._client = None
                if stop.is_set():
                    if not left:
                        await before_leaving()
                    return
                self.reconnects += 1
                delay = backoff_s(attempt, 0.5, 15.0, self._rng)
                attempt += 1
                log.warning("MQTT connection lost (%s); reconnecting in %.1f s", exc, delay)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await stop.wait()

    @property
    def sessions_lost(self) -> int:
        """Connections whose broker had lost the session we had (CONNACK session present 0)."""
        return self.session.sessions_lost

    def _refused(self, topic: str, code: int, reason: str) -> None:
        health = self.health
        kind = topic_kind(topic)
        if not health.refused[kind]:
            log.error(
                "the broker refused our publish to %r (%s%s): user %r may not publish there; "
                "give it the rights of docs/access.md. Counted in /metrics, shown in /healthz",
                topic,
                reason_name(code),
                f", {reason}" if reason else "",
                self.settings.username,
            )
        health.refused[kind] += 1
        health.last_refusal = f"{topic}: {reason_name(code)}"

    def _check_limits(self, client: Subscriber) -> None:
        if client.connack is None:
            return
        found = limits_that_lose_data(client.connack, self.settings)
        if found != self.health.broker_warnings:
            for warning in found:
                log.warning("%s: %s (docs/reliability.md)", self.client_id, warning)
            self.health.broker_warnings = found

    def ack(self, generation: int, mids: Sequence[int]) -> None:
        """Acknowledge messages of connection ``generation``, if it is still the current one."""
        client = self._client
        if client is None or generation != self.generation:
            return
        client.ack(mids)

    def publish_nowait(
        self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False
    ) -> bool:
        """Queue a publish without waiting for it; False when not connected."""
        client = self._client
        if client is None:
            return False
        try:
            client.publish(topic, payload, qos=qos, retain=retain)
        except MqttError:  # the connection has just failed; the intake is reconnecting
            return False
        return True

    async def _subscribe(self, client: Subscriber) -> None:
        await client.subscribe(self.subscriptions, self.settings.qos, SUBSCRIBE_TIMEOUT_S)
        self._subscribed = True
        log.info("%s subscribed to %s", self.client_id, ", ".join(self.subscriptions))

    async def _read_until(
        self, client: Subscriber, stop: asyncio.Event, handle: BurstHandler
    ) -> None:
        # Reading starts before subscribing: a persistent session's backlog arrives right after
        # CONNACK, up to our Receive Maximum, and its SUBACK may queue behind it; reading (and so
        # acknowledging) meanwhile keeps the broker sending instead of timing the SUBSCRIBE out.
        # A race with the stop signal, so not a TaskGroup: whichever ends first cancels the
        # others, and an error of the reader or the subscription is re-raised as itself.
        reader = asyncio.create_task(self._read(client, handle))
        subscriber = asyncio.create_task(self._subscribe(client))
        stopper = asyncio.create_task(stop.wait())
        waiting = {reader, subscriber, stopper}
        try:
            while True:
                done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if subscriber in done:
                    subscriber.result()  # MqttError when the broker refused or never answered
                if reader in done or stopper in done:
                    break
        finally:
            for task in (reader, subscriber, stopper):
                task.cancel()
            await asyncio.gather(reader, subscriber, stopper, return_exceptions=True)
        if reader in done:
            reader.result()  # MqttError on a lost connection
            raise MqttError("message stream ended")

    async def _read(self, client: Subscriber, handle: BurstHandler) -> None:
        generation = self.generation
        while True:
            burst = await client.next_burst()  # raises the connection's error once it fails
            await handle(burst, generation, int(time.time() * 1000))
            await asyncio.sleep(0)  # let the writer and timers run between bursts
