"""A subscribing MQTT v5 client whose owner acknowledges messages, in batches, once they are safe.

The collectors and the twin read the telemetry through this (by way of ``parktwin.intake``).
It replaced aiomqtt/paho on that path because paho decoded each PUBLISH into a ``Properties``
and an ``MQTTMessage``, read each packet with three ``recv`` calls, and aiomqtt ran one turn of
the event loop per packet: three quarters of a collector's CPU (docs/performance.md). Here
``data_received`` decodes a whole read of PUBLISH packets with a few slices each, and a batch of
acknowledgements goes out in one write.

What it does: CONNECT (credentials, TLS, persistent session, Receive Maximum, Maximum Packet
Size, Topic Alias Maximum), SUBSCRIBE, messages at QoS 0, 1 and 2 acknowledged by the owner
(PUBACK, or PUBREC then PUBCOMP), small publishes of its own at QoS 0 or 1 (dead letters,
retained state) without waiting, within the CONNACK's Receive Maximum, Maximum QoS, Retain
Available and Maximum Packet Size, keep-alive pings and DISCONNECT. Its own QoS 1 publishes live
in an ``OutboundSession`` that outlasts the connection: after a reconnect those in flight are
sent again with DUP set and their packet ids when the broker kept the session (4.4), as new
messages when it lost it (which is logged and counted), and then those queued.

It stops reading from the socket while too many messages wait for the owner, so memory stays
bounded whatever the broker sends: a QoS 0 flood, or (mosquitto 2.0.11,
tests/test_wire_subscriber.py) a session's whole queue at once after an acknowledgement, beyond
our Receive Maximum.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from parktwin.config import MqttSettings
from parktwin.wire.connection import ConnectionLost, MqttConnection, connect
from parktwin.wire.inbound import (
    InboundLimits,
    InboundPacket,
    Message,
    PubRel,
    SubAck,
    decode_inbound,
)
from parktwin.wire.packets import (
    MAX_PACKET_ID,
    MAX_PACKET_SIZE,
    PUBACK,
    PUBCOMP,
    PUBREC,
    ConnAck,
    MqttError,
    ProtocolError,
    PubAck,
    Refused,
    encode_ack,
    encode_connect,
    encode_pubacks,
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
DUP = 0x08  # the DUP flag of a PUBLISH's first byte (3.3.1.1)


class SubscribeRefused(Refused):
    what = "the broker refused the subscription"


# One publish of our own: topic, payload, retain.
Outgoing = tuple[str, bytes, bool]


@dataclass
class OutboundSession:
    """The client's side of a session (4.1) for its own QoS 1 publishes, kept across the
    connections of one client id: those sent and not yet acknowledged, by packet id, in the
    order sent, and those waiting for room in the broker's Receive Maximum. Counters for the
    owner's metrics."""

    in_flight: dict[int, Outgoing] = field(default_factory=dict)
    outbox: deque[Outgoing] = field(default_factory=lambda: deque(maxlen=OUTBOX_MESSAGES))
    present: bool = False  # the broker should hold a session for us (we asked for one before)
    sessions_lost: int = 0  # CONNACKs without the session we had
    publishes_dropped: int = 0  # outbox full, or larger than the broker's Maximum Packet Size
    publishes_resent: int = 0  # sent again after a reconnect


# Told of each publish of ours the broker refused: (topic, reason code, reason string).
RefusalHandler = Callable[[str, int, str], None]


def log_refusal(topic: str, code: int, reason: str) -> None:
    """The default: a warning (an owner that must react passes its own handler)."""
    log.warning("the broker refused a message to %r: %s %s", topic, reason_name(code), reason)


class Subscriber(MqttConnection):
    """One connection's messages for its owner. Made by ``open_subscriber``."""

    def __init__(
        self, session: OutboundSession | None = None, limits: InboundLimits | None = None
    ) -> None:
        super().__init__()
        self.session = session if session is not None else OutboundSession()
        self.session_lost = False  # this connection's CONNACK said the session was gone
        self._limits = limits if limits is not None else InboundLimits()
        self._inbox: list[Message] = []
        self._arrived = asyncio.Event()
        self._awaiting_release: set[int] = set()  # QoS 2 ids we sent PUBREC for
        self._qos2: set[int] = set()  # QoS 2 ids not yet acknowledged by the owner
        self._subacks: dict[int, asyncio.Future[SubAck]] = {}
        self._window = MAX_PACKET_ID
        self._maximum_qos = 2
        self._retain_available = True
        self._max_packet_size = MAX_PACKET_SIZE
        self._warned: set[str] = set()
        self._topics: dict[str, bytes] = {}
        self.on_refused: RefusalHandler = log_refusal
        self.connack: ConnAck | None = None  # the broker's answer, with its limits

    @property
    def publishes_dropped(self) -> int:
        return self.session.publishes_dropped

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
            self._resume_reading()
        return burst

    def ack(self, mids: Sequence[int]) -> None:
        """Acknowledge messages by their ids, in one write: PUBACK at QoS 1, PUBREC at QoS 2."""
        if self._error is not None or not mids:
            return
        qos2 = self._qos2
        if not qos2:  # the usual case: every message at QoS 1
            self._write(encode_pubacks(mids))
            return
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
        while the broker's Receive Maximum is used up (the oldest is dropped when it is full).
        Within the broker's limits (3.2.2.3): QoS above its Maximum QoS is lowered, retain is
        left out when it keeps no retained messages, a message larger than its Maximum Packet
        Size is dropped; each with a warning, once per connection."""
        if qos not in (0, 1):
            raise ValueError(f"publishes at QoS 0 or 1 only, not {qos}")
        self._check()
        if qos > self._maximum_qos:
            self._warn_once("qos", f"the broker takes QoS {self._maximum_qos} at most")
            qos = self._maximum_qos
        if retain and not self._retain_available:
            self._warn_once("retain", "the broker keeps no retained messages")
            retain = False
        session = self.session
        if qos == 0:
            packet = encode_publish(self._topic(topic), payload, 0, 0, retain)
            if self._fits(topic, packet):
                self._write(packet)
            return
        if len(session.in_flight) < self._window and not session.outbox:
            self._send(topic, payload, retain)
            return
        if len(session.outbox) == session.outbox.maxlen:
            session.publishes_dropped += 1
            log.warning("MQTT outbox full: dropped the oldest message to %s", session.outbox[0][0])
        session.outbox.append((topic, payload, retain))

    # --- the connection's hooks ------------------------------------------------------------

    def _adopt(self, connack: ConnAck) -> None:
        self.connack = connack
        self._window = connack.receive_maximum
        self._maximum_qos = connack.maximum_qos
        self._retain_available = connack.retain_available
        self._max_packet_size = connack.maximum_packet_size or MAX_PACKET_SIZE
        session = self.session
        if session.present and not connack.session_present:
            self.session_lost = True
            session.sessions_lost += 1
            log.error(
                "the broker lost our MQTT session (CONNACK without session present): "
                "subscribing again; messages published for us meanwhile may be missing"
            )
        resend = list(session.in_flight.items())
        session.in_flight.clear()
        if connack.session_present:  # the same packet ids, DUP set (4.4)
            for packet_id, (topic, payload, retain) in resend:
                self._packet_ids[packet_id] = 1
                session.in_flight[packet_id] = (topic, payload, retain)
                packet = encode_publish(self._topic(topic), payload, 1, packet_id, retain)
                self._write(bytes((packet[0] | DUP,)) + packet[1:])
        else:  # no session: they go again as new messages, before those queued
            session.outbox.extendleft(reversed([message for _, message in resend]))
        session.publishes_resent += len(resend)
        self._send_queued()

    def _before_close(self) -> None:
        self._send_queued()

    def _consume(self, data: bytes) -> int:
        packets: list[InboundPacket] = []
        inbox = self._inbox
        before = len(inbox)
        consumed = decode_inbound(data, inbox, packets, self._qos2, self._limits)
        if len(inbox) > before:
            self._arrived.set()
            if len(inbox) >= PAUSE_MESSAGES:
                self._pause_reading()
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
        sent = self.session.in_flight.pop(puback.packet_id, None)
        if sent is None:
            self._fail(ProtocolError(f"PUBACK for packet id {puback.packet_id}, not in flight"))
            return
        self._packet_ids[puback.packet_id] = 0
        if puback.reason_code >= 0x80:
            # Ours are dead letters and state: the owner decides, never worth the connection.
            self.on_refused(sent[0], puback.reason_code, puback.reason_string)
        self._send_queued()

    def _send_queued(self) -> None:
        session = self.session
        outbox = session.outbox
        while outbox and len(session.in_flight) < self._window and self._transport is not None:
            self._send(*outbox.popleft())

    def _send(self, topic: str, payload: bytes, retain: bool) -> None:
        packet_id = self._take_packet_id()
        packet = encode_publish(self._topic(topic), payload, 1, packet_id, retain)
        if not self._fits(topic, packet):
            self._packet_ids[packet_id] = 0
            return
        self.session.in_flight[packet_id] = (topic, payload, retain)
        self._write(packet)

    def _fits(self, topic: str, packet: bytes) -> bool:
        """Whether the broker takes a packet this large (3.2.2.3.6); if not, dropped, counted."""
        if len(packet) <= self._max_packet_size:
            return True
        self.session.publishes_dropped += 1
        log.warning(
            "dropped a %d-byte message to %s: the broker takes %d bytes at most",
            len(packet),
            topic,
            self._max_packet_size,
        )
        return False

    def _warn_once(self, what: str, text: str) -> None:
        if what not in self._warned:
            self._warned.add(what)
            log.warning("MQTT publishes adjusted: %s", text)

    def _topic(self, topic: str) -> bytes:
        encoded = self._topics.get(topic)
        if encoded is None:
            if len(self._topics) > 10_000:  # per-month and per-alert topics: keep it bounded
                self._topics.clear()
            encoded = self._topics[topic] = encode_string(topic)
        return encoded


@contextlib.asynccontextmanager
async def open_subscriber(
    settings: MqttSettings,
    client_id: str,
    *,
    persistent: bool = True,
    session: OutboundSession | None = None,
) -> AsyncIterator[Subscriber]:
    """A connected subscriber. ``persistent`` keeps the session (subscriptions, unacknowledged
    and queued messages) on the broker for ``settings.session_expiry_s`` after a disconnect;
    ``session`` is our side of it, to pass to each connection of the same client id.
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
        maximum_packet_size=settings.max_packet_size_bytes,
        topic_alias_maximum=settings.topic_alias_maximum,
    )
    limits = InboundLimits(settings.max_packet_size_bytes, settings.topic_alias_maximum)
    subscriber = Subscriber(session, limits)
    try:
        await connect(subscriber, settings, connect_packet)
    except (OSError, TimeoutError) as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else str(exc)
        raise ConnectionLost(
            f"cannot connect to {settings.host}:{settings.port}: {reason}"
        ) from exc
    # From now on the broker holds a session for us as long as we asked for one.
    subscriber.session.present = persistent and settings.session_expiry_s > 0
    try:
        yield subscriber
    except BaseException:
        subscriber.abort()
        raise
    await subscriber.close()
