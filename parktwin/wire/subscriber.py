"""A subscribing MQTT v5 client whose owner acknowledges messages, in batches, once they are safe.

The collectors and the twin read the telemetry through this (by way of ``parktwin.intake``).
It replaced aiomqtt/paho on that path because paho decoded each PUBLISH into a ``Properties``
and an ``MQTTMessage``, read each packet with three ``recv`` calls, and aiomqtt ran one turn of
the event loop per packet: three quarters of a collector's CPU (docs/performance.md). Here
``data_received`` decodes a whole read of PUBLISH packets with a few slices each, and a batch of
acknowledgements goes out in one write.

What it does: CONNECT (credentials, TLS, persistent session, Receive Maximum), SUBSCRIBE,
messages at QoS 0, 1 and 2 acknowledged by the owner (PUBACK, or PUBREC then PUBCOMP), small
publishes of its own at QoS 0 or 1 (dead letters, retained state) without waiting, keep-alive
pings and DISCONNECT. It stops reading from the socket while too many messages wait for the
owner, so memory stays bounded whatever the broker sends: a QoS 0 flood, or (mosquitto 2.0.11,
tests/test_wire_subscriber.py) a session's whole queue at once after an acknowledgement,
beyond our Receive Maximum.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Sequence

from parktwin.config import MqttSettings
from parktwin.wire.connection import ConnectionLost, MqttConnection, connect
from parktwin.wire.inbound import InboundPacket, Message, PubRel, SubAck, decode_inbound
from parktwin.wire.packets import (
    MAX_PACKET_ID,
    PUBACK,
    PUBCOMP,
    PUBREC,
    ConnAck,
    MqttError,
    PubAck,
    Refused,
    encode_ack,
    encode_connect,
    encode_publish,
    encode_string,
    encode_subscribe,
    reason_name,
)

log = logging.getLogger(__name__)

# Messages handed to the owner at once: enough to spread the per-burst cost, few enough that
# the owner's work on one burst never holds the event loop for long.
BURST_MESSAGES = 2000
# Stop reading from the socket when this many messages wait for the owner (about 10 MB of
# telemetry); read again once half of them are taken.
PAUSE_MESSAGES = 50_000
# Publishes of our own waiting for room in the broker's Receive Maximum; beyond, the oldest go.
OUTBOX_MESSAGES = 10_000


class SubscribeRefused(Refused):
    what = "the broker refused the subscription"


class Subscriber(MqttConnection):
    """One connection's messages for its owner. Made by ``open_subscriber``."""

    def __init__(self) -> None:
        super().__init__()
        self.publishes_dropped = 0
        self._inbox: list[Message] = []
        self._arrived = asyncio.Event()
        self._awaiting_release: set[int] = set()  # QoS 2 ids we sent PUBREC for
        self._qos2: set[int] = set()  # QoS 2 ids not yet acknowledged by the owner
        self._subacks: dict[int, asyncio.Future[SubAck]] = {}
        self._publishing = 0  # our QoS 1 publishes awaiting PUBACK
        self._window = MAX_PACKET_ID
        self._outbox: deque[tuple[str, bytes, bool]] = deque(maxlen=OUTBOX_MESSAGES)
        self._topics: dict[str, bytes] = {}

    # --- what the owner uses -------------------------------------------------------------

    async def subscribe(self, filters: Sequence[str], qos: int, timeout_s: float) -> SubAck:
        """Subscribe and wait for the broker's answer; ``SubscribeRefused`` if it refuses any."""
        self._check()
        packet_id = self._take_packet_id()
        answer: asyncio.Future[SubAck] = self._loop.create_future()
        self._subacks[packet_id] = answer
        try:
            self._write(encode_subscribe(packet_id, filters, qos))
            async with asyncio.timeout(timeout_s):
                suback = await answer
        except TimeoutError:
            raise ConnectionLost(f"no SUBACK within {timeout_s:g} s") from None
        finally:
            self._subacks.pop(packet_id, None)
            self._packet_ids[packet_id] = 0
        for topic_filter, code in zip(filters, suback.reason_codes, strict=False):
            if code >= 0x80:
                detail = topic_filter if not suback.reason_string else suback.reason_string
                raise SubscribeRefused(code, detail)
            if code < qos:
                log.warning("%s granted at QoS %d, not %d", topic_filter, code, qos)
        return suback

    async def next_burst(self) -> list[Message]:
        """The messages that have arrived, oldest first, at most ``BURST_MESSAGES``; waits for
        one when none has. Raises the connection's error once it has failed."""
        while not self._inbox:
            self._check()
            self._arrived.clear()
            await self._arrived.wait()
        self._check()
        inbox = self._inbox
        if len(inbox) <= BURST_MESSAGES:
            self._inbox = []
            burst = inbox
        else:
            burst = inbox[:BURST_MESSAGES]
            del inbox[:BURST_MESSAGES]
        if self._reading_paused and len(self._inbox) < PAUSE_MESSAGES // 2:
            self._reading_paused = False
            if self._transport is not None:
                self._transport.resume_reading()
        return burst

    def ack(self, mids: Sequence[int]) -> None:
        """Acknowledge messages by their ids, in one write: PUBACK at QoS 1, PUBREC at QoS 2."""
        if self._error is not None or not mids:
            return
        qos2 = self._qos2
        packets = []
        for mid in mids:
            if mid in qos2:  # second of four steps (4.3.3): the broker answers PUBREL
                qos2.discard(mid)
                self._awaiting_release.add(mid)
                packets.append(encode_ack(PUBREC, mid))
            else:
                packets.append(encode_ack(PUBACK, mid))
        self._write(b"".join(packets))

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        """Send a message without waiting for it; at QoS 1 it waits here, in a bounded outbox,
        while the broker's Receive Maximum is used up (the oldest is dropped when it is full)."""
        if qos not in (0, 1):
            raise ValueError(f"publishes at QoS 0 or 1 only, not {qos}")
        self._check()
        if qos == 0:
            self._write(encode_publish(self._topic(topic), payload, 0, 0, retain))
            return
        if self._publishing < self._window and not self._outbox:
            self._send(topic, payload, retain)
            return
        if len(self._outbox) == self._outbox.maxlen:
            self.publishes_dropped += 1
            log.warning("MQTT outbox full: dropped the oldest message to %s", self._outbox[0][0])
        self._outbox.append((topic, payload, retain))

    # --- the connection's hooks ------------------------------------------------------------

    def _adopt(self, connack: ConnAck) -> None:
        self._window = connack.receive_maximum

    def _consume(self, data: bytes) -> int:
        packets: list[InboundPacket] = []
        inbox = self._inbox
        before = len(inbox)
        consumed = decode_inbound(data, inbox, packets, self._qos2)
        if len(inbox) > before:
            self._arrived.set()
            if len(inbox) >= PAUSE_MESSAGES and not self._reading_paused:
                self._reading_paused = True
                if self._transport is not None:
                    self._transport.pause_reading()
        for packet in packets:
            self._handle(packet)
        return consumed

    def _wake(self) -> None:
        self._arrived.set()
        for answer in self._subacks.values():
            if not answer.done() and self._error is not None:
                answer.set_exception(self._error)
                answer.exception()

    # --- inside ------------------------------------------------------------------------------

    def _handle(self, packet: InboundPacket) -> None:
        if isinstance(packet, PubAck):
            self._published(packet)
        elif isinstance(packet, PubRel):
            self._awaiting_release.discard(packet.packet_id)
            self._write(encode_ack(PUBCOMP, packet.packet_id))
        elif isinstance(packet, SubAck):
            answer = self._subacks.get(packet.packet_id)
            if answer is None or answer.done():
                self._fail(MqttError(f"SUBACK for packet id {packet.packet_id}, not asked"))
            else:
                answer.set_result(packet)
        elif not self._handle_control(packet):
            self._fail(MqttError(f"unexpected {type(packet).__name__} from the broker"))

    def _published(self, puback: PubAck) -> None:
        if not self._packet_ids[puback.packet_id]:
            self._fail(MqttError(f"PUBACK for packet id {puback.packet_id}, not in flight"))
            return
        self._packet_ids[puback.packet_id] = 0
        self._publishing -= 1
        if puback.reason_code >= 0x80:
            # Ours are dead letters and state: worth a warning, never worth the connection.
            log.warning(
                "the broker refused a message: %s %s",
                reason_name(puback.reason_code),
                puback.reason_string,
            )
        while self._outbox and self._publishing < self._window:
            self._send(*self._outbox.popleft())

    def _send(self, topic: str, payload: bytes, retain: bool) -> None:
        packet_id = self._take_packet_id()
        self._publishing += 1
        self._write(encode_publish(self._topic(topic), payload, 1, packet_id, retain))

    def _topic(self, topic: str) -> bytes:
        encoded = self._topics.get(topic)
        if encoded is None:
            if len(self._topics) > 10_000:  # per-month and per-alert topics: keep it bounded
                self._topics.clear()
            encoded = self._topics[topic] = encode_string(topic)
        return encoded


@contextlib.asynccontextmanager
async def open_subscriber(
    settings: MqttSettings, client_id: str, *, persistent: bool = True
) -> AsyncIterator[Subscriber]:
    """A connected subscriber. ``persistent`` keeps the session (subscriptions, unacknowledged
    and queued messages) on the broker for ``settings.session_expiry_s`` after a disconnect.
    Leaving normally sends DISCONNECT; leaving by an exception drops the connection. Failing to
    reach the broker raises ``ConnectionLost``; a refusal ``ConnectRefused``."""
    password = settings.password.get_secret_value().encode() if settings.password else None
    connect_packet = encode_connect(
        client_id,
        keepalive_s=settings.keepalive_s,
        clean_start=not persistent,
        session_expiry_s=settings.session_expiry_s if persistent else 0,
        username=settings.username,
        password=password,
        receive_maximum=settings.receive_maximum,
    )
    subscriber = Subscriber()
    try:
        await connect(subscriber, settings, connect_packet)
    except (OSError, TimeoutError) as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else str(exc)
        raise ConnectionLost(
            f"cannot connect to {settings.host}:{settings.port}: {reason}"
        ) from exc
    try:
        yield subscriber
    except BaseException:
        subscriber.abort()
        raise
    await subscriber.close()
