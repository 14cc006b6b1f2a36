"""One MQTT v5 client connection on asyncio: the handshake, keep-alive, errors and closing.

The simulator's publisher and the collectors' intake are subclasses; each adds what it sends
and how it reads its packets (``_consume``). The first error (a refusal, a malformed packet, a
lost connection, a DISCONNECT from the broker) is kept, every waiter is woken to raise it, and
the transport is dropped: an error is raised by the next call, never lost. A protocol error of
the broker's (``MalformedPacket`` and its kinds) is answered with DISCONNECT and its reason code
first (4.13).

Reads are framed here: a packet that spans reads is kept as a list of its chunks until its whole
size (known from its fixed header) has come, then joined once; so a packet costs one copy,
whatever the number of reads, and the subclass's decoder (which enforces the Maximum Packet Size
we sent) has refused an oversized one as soon as its header arrived.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import TypeVar

from parktwin.config import MqttSettings
from parktwin.mqtt import tls_context
from parktwin.wire.inbound import packet_size
from parktwin.wire.packets import (
    MAX_PACKET_ID,
    PINGREQ_PACKET,
    ConnAck,
    ConnectRefused,
    Disconnect,
    MalformedPacket,
    MqttError,
    PingResp,
    ServerDisconnected,
    encode_disconnect,
    reason_name,
)

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 5.0
# mosquitto leaves Nagle's algorithm on (set_tcp_nodelay false), so it holds back what it sends
# until we acknowledge its previous segment, and Linux delays that ACK by up to 40 ms when we
# have nothing to send: a publisher's window of 10 then made 230 messages/s. Asking for a quick
# ACK after every read (Linux only) removes the stall: 75,000 messages/s with the same window.
QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


class ConnectionLost(MqttError):
    """The connection to the broker ended, or stopped answering, before we closed it."""


class MqttConnection(asyncio.Protocol):
    """What every client connection does; subclasses say what they send and read."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._socket: socket.socket | None = None
        self._error: MqttError | None = None
        self._closing = False
        self._connack: asyncio.Future[ConnAck] = self._loop.create_future()
        self._closed: asyncio.Future[None] = self._loop.create_future()
        # The start of a packet whose rest has not arrived yet: its chunks, their size, and the
        # packet's whole size once its fixed header is in (None before).
        self._chunks: list[bytes | memoryview] = []
        self._buffered = 0
        self._needed: int | None = None
        self._keepalive_s = 0.0
        self._last_write = 0.0
        self._last_read = 0.0
        self._ping_sent_at: float | None = None
        self._ping_timer: asyncio.TimerHandle | None = None
        self._reading_paused = False  # by the subclass, to bound what waits for its owner
        self._peeking = False  # reading resumed for one read, to see that the broker lives
        self._packet_ids = bytearray(MAX_PACKET_ID + 1)  # 1 where one of our packet ids is in use
        self._next_id = 1

    # --- for subclasses ------------------------------------------------------------------

    def _consume(self, data: bytes) -> int:
        """Handle the complete packets at the start of ``data``; return the bytes they took."""
        raise NotImplementedError

    def _adopt(self, connack: ConnAck) -> None:
        """Take the limits the broker set in its CONNACK."""

    def _wake(self) -> None:
        """Wake every waiter, so that it sees the error."""

    def _before_close(self) -> None:
        """Send what is still queued, before DISCONNECT."""

    def _take_packet_id(self) -> int:
        """The next of our packet ids not in use (1..65535, wrapping); freed by setting
        ``_packet_ids[id] = 0`` when its answer comes."""
        packet_id = self._next_id
        in_use = self._packet_ids
        for _ in range(MAX_PACKET_ID):
            if not in_use[packet_id]:
                in_use[packet_id] = 1
                self._next_id = packet_id % MAX_PACKET_ID + 1
                return packet_id
            packet_id = packet_id % MAX_PACKET_ID + 1
        raise MqttError("every packet id is in use")

    def _write(self, data: bytes) -> None:
        if self._transport is not None:
            self._transport.write(data)
            self._last_write = self._loop.time()

    # --- what callers use ---------------------------------------------------------------

    async def handshake(self, connect_packet: bytes, keepalive_s: int) -> ConnAck:
        """Send CONNECT, wait for CONNACK, adopt the limits it sets; raise if it refuses."""
        if self._transport is None:
            raise MqttError("handshake before the connection is made")
        self._write(connect_packet)
        connack = await self._connack
        self._adopt(connack)
        server_keepalive = connack.server_keep_alive
        self._keepalive_s = float(keepalive_s if server_keepalive is None else server_keepalive)
        self._schedule_ping()
        return connack

    def abort(self) -> None:
        """Drop the connection without DISCONNECT, as a crash would: the broker sends the will."""
        self._fail(ConnectionLost("the connection was aborted"))

    async def close(self) -> None:
        """Send what is queued and DISCONNECT (the will is discarded); wait for the end.

        Over TCP the connection is half-closed after DISCONNECT and the broker closes it once
        it has read everything before (3.14.4): only then is every acknowledgement sent known
        to be processed. Closing at once let mosquitto take a reconnection under the same
        client id before it had read the last PUBACKs of the old one, and deliver those
        messages again (tests/test_wire_subscriber.py, one run in ten under load)."""
        self._check()
        self._before_close()
        self._closing = True
        self._stop_pings()
        transport = self._transport
        if transport is not None and not transport.is_closing():
            transport.write(encode_disconnect())
            if transport.can_write_eof():
                transport.write_eof()
                # Read on, or the broker's close is never seen; what still comes is dropped.
                self._reading_paused = self._peeking = False
                transport.resume_reading()
            else:  # TLS: no half-close; close after the buffered bytes are written
                transport.close()
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await self._closed
        except TimeoutError:  # a broker need not close (it SHOULD): everything is sent
            log.debug("the broker did not close within %g s of DISCONNECT", CLOSE_TIMEOUT_S)
            if transport is not None:
                transport.abort()

    # --- asyncio protocol callbacks --------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._socket = transport.get_extra_info("socket")

    def data_received(self, data: bytes) -> None:
        if QUICKACK is not None and self._socket is not None:
            self._socket.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
        self._last_read = self._loop.time()
        if self._chunks:
            self._chunks.append(data)
            self._buffered += len(data)
            if self._needed is not None and self._buffered < self._needed:
                return
            data = b"".join(self._chunks)
            self._chunks = []
            self._buffered = 0
            self._needed = None
        try:
            consumed = self._consume(data)
        except MalformedPacket as exc:
            self._fail(exc)
            return
        if consumed < len(data):
            rest = memoryview(data)[consumed:]  # no copy: the read's buffer is kept instead
            self._chunks = [rest]
            self._buffered = len(rest)
            try:
                self._needed = packet_size(rest)
            except MalformedPacket as exc:
                self._fail(exc)
                return
        if self._peeking:
            self._peeking = False
            if self._reading_paused and self._transport is not None:
                self._transport.pause_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._closing:
            detail = f": {exc}" if exc else " (closed by the broker)"
            self._fail(ConnectionLost(f"lost the connection to the broker{detail}"))
        self._stop_pings()
        if not self._closed.done():
            self._closed.set_result(None)

    # --- inside ------------------------------------------------------------------------------

    def _handle_control(self, packet: object) -> bool:
        """CONNACK, PINGRESP and DISCONNECT, the same for every client; False for the rest."""
        if isinstance(packet, ConnAck):
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
        else:
            return False
        return True

    def _pause_reading(self) -> None:
        """Stop reading from the socket (the owner has enough waiting)."""
        if not self._reading_paused:
            self._reading_paused = True
            if self._transport is not None and not self._peeking:
                self._transport.pause_reading()

    def _resume_reading(self) -> None:
        if self._reading_paused:
            self._reading_paused = False
            if self._transport is not None and not self._peeking:
                self._transport.resume_reading()

    def _fail(self, error: MqttError) -> None:
        """Keep the first error, wake every waiter to raise it, drop the connection (after a
        DISCONNECT with the reason when the broker broke the protocol, 4.13)."""
        first = self._error is None
        if self._error is None:
            self._error = error
            log.debug("MQTT connection failed: %s", error)
        if not self._connack.done():
            self._connack.set_exception(self._error)
            self._connack.exception()  # retrieved here, so asyncio does not warn when unawaited
        self._wake()
        self._stop_pings()
        self._chunks = []
        self._buffered = 0
        transport = self._transport
        if transport is None:
            return
        if first and isinstance(error, MalformedPacket) and not transport.is_closing():
            log.error("closing the MQTT connection with DISCONNECT %s: %s",
                      reason_name(error.reason_code), error)  # fmt: skip
            transport.write(encode_disconnect(error.reason_code))
            transport.pause_reading()
            transport.close()  # sends what is buffered, the DISCONNECT last, then closes
        else:
            transport.abort()

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def _schedule_ping(self) -> None:
        if self._keepalive_s > 0:
            self._ping_timer = self._loop.call_later(self._keepalive_s / 2, self._keep_alive)

    def _stop_pings(self) -> None:
        if self._ping_timer is not None:
            self._ping_timer.cancel()
            self._ping_timer = None

    def _keep_alive(self) -> None:
        """Ping when nothing was sent for half the keep alive; give up when nothing at all
        comes from the broker within the keep alive after a ping (a PINGRESP, or any packet:
        the PINGRESP may queue behind them). While reading is paused, each ping resumes it
        for one read, so that a silent broker is found dead all the same (3.1.2.10)."""
        now = self._loop.time()
        sent_at = self._ping_sent_at
        if sent_at is not None and self._last_read >= sent_at:
            self._ping_sent_at = sent_at = None  # the broker spoke since: it is alive
        if sent_at is not None and now - sent_at >= self._keepalive_s:
            self._fail(ConnectionLost(f"no PINGRESP within {self._keepalive_s:g} s"))
            return
        if (
            sent_at is None
            and now - self._last_write >= self._keepalive_s / 2
            and self._transport is not None
        ):
            self._write(PINGREQ_PACKET)
            self._ping_sent_at = now
            if self._reading_paused and not self._peeking:
                self._peeking = True
                self._transport.resume_reading()
        self._schedule_ping()


Connection = TypeVar("Connection", bound=MqttConnection)


async def connect(
    connection: Connection, settings: MqttSettings, connect_packet: bytes
) -> tuple[Connection, ConnAck]:
    """Open TCP (or TLS when ``settings.tls`` is set) to the broker for ``connection`` and
    complete the MQTT handshake within ``CONNECT_TIMEOUT_S``; drop the connection on failure.

    Raises ``MqttError`` (refused, malformed), ``OSError`` (unreachable) or ``TimeoutError``.
    """
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            await loop.create_connection(
                lambda: connection, settings.host, settings.port, ssl=tls_context(settings)
            )
            connack = await connection.handshake(connect_packet, settings.keepalive_s)
    except BaseException:
        connection.abort()
        raise
    return connection, connack
