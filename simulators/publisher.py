"""Fast QoS 1 publishing: a lean MQTT v5 client on asyncio, no message counted before its PUBACK.

Why not aiomqtt/paho: on a 2-core machine paho's v5 client spends about half its time decoding
PUBACKs (a ``Properties`` and two ``ReasonCode`` objects per packet), and aiomqtt adds its socket
hand-over between paho and the event loop; the simulator stayed below 10,000 messages/s. This
client does only what the simulator needs (CONNECT with will and credentials, PUBLISH at QoS 0
or 1, keep-alive pings, DISCONNECT) on ``simulators.mqtt_wire``'s packets: publishes are encoded
into a batch that goes out in one ``transport.write``, and ``data_received`` releases a chunk of
PUBACKs with a few byte comparisons each. docs/performance.md has the figures.

At most ``window`` QoS 1 messages are unacknowledged at once (fewer if the broker's Receive
Maximum says so); ``drain`` waits until every one is acknowledged. A refused message, a lost
connection or a DISCONNECT from the broker is raised by the next call, never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator

from parktwin.config import MqttSettings
from parktwin.mqtt import tls_context
from simulators.mqtt_wire import (
    MAX_PACKET_ID,
    PINGREQ_PACKET,
    ConnAck,
    ConnectRefused,
    Disconnect,
    MalformedPacket,
    MqttError,
    PingResp,
    PubAck,
    PublishRefused,
    ServerDisconnected,
    ServerPacket,
    Will,
    decode_packets,
    encode_connect,
    encode_disconnect,
    encode_publish,
    encode_string,
    reason_name,
)

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 5.0
# Encoded publishes wait in a list and go out in one write: at the next turn of the event loop,
# or at once when this many bytes wait (a bound on latency and memory for callers that never
# yield).
FLUSH_BYTES = 64 * 1024
# mosquitto leaves Nagle's algorithm on (set_tcp_nodelay false), so it holds back PUBACKs until
# we acknowledge its previous segment, and Linux delays that ACK by up to 40 ms while we wait for
# room and have nothing to send: a window of 10 then made 230 messages/s. Asking for a quick ACK
# after every read (Linux only) removes the stall: 75,000 messages/s with the same window.
QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)
NO_LIMIT = 1 << 28  # larger than any MQTT packet


class ConnectionLost(MqttError):
    """The connection to the broker ended, or stopped answering, before we closed it."""


class WindowedPublisher(asyncio.Protocol):
    """Publishes without awaiting each message, with a bounded window of unacknowledged ones.

    Made by ``open_publisher``; the asyncio protocol callbacks are not for callers.
    """

    def __init__(self, qos: int = 1, window: int = 1000) -> None:
        if qos not in (0, 1):
            raise ValueError(f"the simulator publishes at QoS 0 or 1, not {qos}")
        self.qos = qos
        self.window = max(1, min(window, MAX_PACKET_ID))
        self.sent = 0
        self.acked = 0  # QoS 0 messages count as acknowledged once handed to the transport
        self._loop = asyncio.get_running_loop()
        self._outstanding = bytearray(MAX_PACKET_ID + 1)  # 1 where a packet id awaits PUBACK
        self._next_id = 1
        self._topics: dict[str, bytes] = {}  # topic -> encoded topic; the park's topics repeat
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._flush_scheduled = False
        self._partial = b""  # the start of a packet whose rest has not arrived yet
        self._transport: asyncio.Transport | None = None
        self._socket: socket.socket | None = None
        self._error: MqttError | None = None
        self._closing = False
        self._connack: asyncio.Future[ConnAck] = self._loop.create_future()
        self._closed: asyncio.Future[None] = self._loop.create_future()
        self._room = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._writable = asyncio.Event()
        self._writable.set()
        self._retain_available = True
        self._max_packet_size = NO_LIMIT
        self._keepalive_s = 0.0
        self._last_write = 0.0
        self._ping_sent_at: float | None = None
        self._ping_timer: asyncio.TimerHandle | None = None

    # --- what callers use ---------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        return self.sent - self.acked

    @property
    def published(self) -> int:
        """Messages the broker has acknowledged (a refused one raises instead)."""
        return self.acked

    def has_room(self) -> bool:
        return self.sent - self.acked < self.window

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """Queue one message for the next write; call only when ``has_room()``."""
        if self._error is not None:
            raise self._error
        if self.sent - self.acked >= self.window:
            raise MqttError("the window is full: await wait_for_room() before publishing")
        if retain and not self._retain_available:
            raise MqttError(f"the broker does not keep retained messages ({topic})")
        encoded = self._topics.get(topic)
        if encoded is None:
            encoded = self._topics[topic] = encode_string(topic)
        if self.qos:
            packet_id = self._take_packet_id()
            packet = encode_publish(encoded, payload, 1, packet_id, retain)
        else:
            packet = encode_publish(encoded, payload, 0, 0, retain)
        if len(packet) > self._max_packet_size:
            if self.qos:
                self._outstanding[packet_id] = 0
            raise MqttError(
                f"a {len(packet)}-byte message to {topic} exceeds the broker's maximum packet "
                f"size of {self._max_packet_size} bytes"
            )
        self.sent += 1
        if self.qos:
            self._idle.clear()
        else:
            self.acked += 1
        self._pending.append(packet)
        self._pending_bytes += len(packet)
        if self._pending_bytes >= FLUSH_BYTES:
            self.flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._scheduled_flush)

    def flush(self) -> None:
        """Write every queued publish now, in one write."""
        if not self._pending or self._transport is None:
            return
        data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
        self._pending.clear()
        self._pending_bytes = 0
        self._transport.write(data)
        self._last_write = self._loop.time()

    async def wait_for_room(self, timeout_s: float = 30.0) -> None:
        """Return when another message may be published.

        A full window waits until it has drained to half, so that sends go out in batches; a
        transport whose buffer is full (``pause_writing``) waits until it takes data again.
        """
        self._check()
        self.flush()
        async with asyncio.timeout(timeout_s):
            if self.sent - self.acked >= self.window:
                while self.sent - self.acked > self.window // 2:
                    self._room.clear()
                    await self._room.wait()
                    self._check()
            while not self._writable.is_set():
                await self._writable.wait()
                self._check()

    async def drain(self, timeout_s: float = 60.0) -> None:
        """Wait until the broker has acknowledged everything published."""
        self._check()
        self.flush()
        async with asyncio.timeout(timeout_s):
            while self.sent > self.acked:
                await self._idle.wait()
                self._check()

    def abort(self) -> None:
        """Drop the connection without DISCONNECT, as a crash would: the broker sends the will."""
        self._fail(ConnectionLost("the connection was aborted"))

    async def close(self) -> None:
        """Send DISCONNECT (the will is discarded) and wait for the connection to end."""
        self._check()
        self.flush()
        self._closing = True
        self._stop_pings()
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(encode_disconnect())
            self._transport.close()
        async with asyncio.timeout(CLOSE_TIMEOUT_S):
            await self._closed

    async def handshake(self, connect_packet: bytes, keepalive_s: int) -> ConnAck:
        """Send CONNECT, wait for CONNACK, adopt the limits it sets; raise if it refuses."""
        if self._transport is None:
            raise MqttError("handshake before the connection is made")
        self._transport.write(connect_packet)
        self._last_write = self._loop.time()
        connack = await self._connack
        if self.qos > connack.maximum_qos:
            raise MqttError(f"the broker accepts QoS {connack.maximum_qos} at most, not {self.qos}")
        self.window = min(self.window, connack.receive_maximum)
        self._retain_available = connack.retain_available
        self._max_packet_size = connack.maximum_packet_size or NO_LIMIT
        server_keepalive = connack.server_keep_alive
        self._keepalive_s = float(keepalive_s if server_keepalive is None else server_keepalive)
        self._schedule_ping()
        return connack

    # --- asyncio protocol callbacks --------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._socket = transport.get_extra_info("socket")

    def data_received(self, data: bytes) -> None:
        if QUICKACK is not None and self._socket is not None:
            self._socket.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
        if self._partial:
            data = self._partial + data
        try:
            decoded = decode_packets(data)
        except MalformedPacket as exc:
            self._fail(exc)
            return
        self._partial = data[decoded.consumed :] if decoded.consumed < len(data) else b""
        if decoded.acked:
            self._release(decoded.acked)
        for packet in decoded.packets:
            self._handle(packet)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._closing:
            detail = f": {exc}" if exc else " (closed by the broker)"
            self._fail(ConnectionLost(f"lost the connection to the broker{detail}"))
        self._stop_pings()
        if not self._closed.done():
            self._closed.set_result(None)

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # --- inside ------------------------------------------------------------------------------

    def _take_packet_id(self) -> int:
        """The next packet id not awaiting a PUBACK (1..65535, wrapping)."""
        packet_id = self._next_id
        outstanding = self._outstanding
        while outstanding[packet_id]:  # ends: fewer than 65535 ids are outstanding
            packet_id = packet_id % MAX_PACKET_ID + 1
        outstanding[packet_id] = 1
        self._next_id = packet_id % MAX_PACKET_ID + 1
        return packet_id

    def _release(self, packet_ids: list[int]) -> None:
        outstanding = self._outstanding
        for packet_id in packet_ids:
            if not outstanding[packet_id]:
                self._fail(MalformedPacket(f"PUBACK for packet id {packet_id}, not in flight"))
                return
            outstanding[packet_id] = 0
        self.acked += len(packet_ids)
        in_flight = self.sent - self.acked
        if in_flight <= self.window // 2:
            self._room.set()
        if in_flight == 0:
            self._idle.set()

    def _handle(self, packet: ServerPacket) -> None:
        if isinstance(packet, PubAck):  # only refused ones come here
            detail = f"packet id {packet.packet_id}"
            if packet.reason_string:
                detail += f": {packet.reason_string}"
            self._fail(PublishRefused(packet.reason_code, detail))
        elif isinstance(packet, ConnAck):
            if self._connack.done():
                self._fail(MalformedPacket("a second CONNACK"))
            elif packet.reason_code >= 0x80:
                self._fail(ConnectRefused(packet.reason_code, packet.reason_string))
            else:
                self._connack.set_result(packet)
        elif isinstance(packet, PingResp):
            self._ping_sent_at = None
        elif isinstance(packet, Disconnect):
            self._fail(ServerDisconnected(packet.reason_code, packet.reason_string))

    def _fail(self, error: MqttError) -> None:
        """Keep the first error, wake every waiter to raise it, drop the connection."""
        if self._error is None:
            self._error = error
            log.debug("publisher failed: %s", error)
        if not self._connack.done():
            self._connack.set_exception(self._error)
            self._connack.exception()  # retrieved here, so asyncio does not warn when unawaited
        self._room.set()
        self._idle.set()
        self._writable.set()
        self._stop_pings()
        if self._transport is not None:
            self._transport.abort()

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def _scheduled_flush(self) -> None:
        self._flush_scheduled = False
        self.flush()

    def _schedule_ping(self) -> None:
        if self._keepalive_s > 0:
            self._ping_timer = self._loop.call_later(self._keepalive_s / 2, self._keep_alive)

    def _stop_pings(self) -> None:
        if self._ping_timer is not None:
            self._ping_timer.cancel()
            self._ping_timer = None

    def _keep_alive(self) -> None:
        """Ping when nothing was sent for half the keep alive; give up when no answer comes."""
        now = self._loop.time()
        if self._ping_sent_at is not None and now - self._ping_sent_at >= self._keepalive_s:
            self._fail(ConnectionLost(f"no PINGRESP within {self._keepalive_s:g} s"))
            return
        if (
            self._ping_sent_at is None
            and now - self._last_write >= self._keepalive_s / 2
            and self._transport is not None
        ):
            self._transport.write(PINGREQ_PACKET)
            self._last_write = self._ping_sent_at = now
        self._schedule_ping()


@contextlib.asynccontextmanager
async def open_publisher(
    settings: MqttSettings,
    client_id: str,
    *,
    will: Will | None = None,
    qos: int = 1,
    window: int = 1000,
) -> AsyncIterator[WindowedPublisher]:
    """A connected publisher; leaving normally sends DISCONNECT, leaving by an exception does not,
    so that the broker publishes the will. TCP, or TLS when ``settings.tls`` is set."""
    publisher = WindowedPublisher(qos, window)
    password = settings.password.get_secret_value().encode() if settings.password else None
    connect_packet = encode_connect(
        client_id,
        keepalive_s=settings.keepalive_s,
        username=settings.username,
        password=password,
        will=will,
    )
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            await loop.create_connection(
                lambda: publisher, settings.host, settings.port, ssl=tls_context(settings)
            )
            connack = await publisher.handshake(connect_packet, settings.keepalive_s)
    except BaseException:
        publisher.abort()
        raise
    log.info(
        "publishing to %s:%d as %s (QoS %d, window %d%s)",
        settings.host,
        settings.port,
        client_id,
        qos,
        publisher.window,
        f", {reason_name(connack.reason_code)}" if connack.reason_code else "",
    )
    try:
        yield publisher
    except BaseException:
        publisher.abort()
        raise
    await publisher.close()
