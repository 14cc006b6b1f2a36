"""Fast QoS 1 publishing: a lean MQTT v5 client on asyncio, no message counted before its PUBACK.

Why not aiomqtt/paho: on a 2-core machine paho's v5 client spends about half its time decoding
PUBACKs (a ``Properties`` and two ``ReasonCode`` objects per packet), and aiomqtt adds its socket
hand-over between paho and the event loop; the simulator stayed below 10,000 messages/s. This
client does only what the simulator needs (CONNECT with will and credentials, PUBLISH at QoS 0
or 1, keep-alive pings, DISCONNECT) on ``parktwin.wire.packets``'s packets: publishes are encoded
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
from collections.abc import AsyncIterator

from parktwin.config import MqttSettings
from parktwin.wire.connection import ConnectionLost, MqttConnection, connect
from parktwin.wire.packets import (
    MAX_PACKET_ID,
    ConnAck,
    MalformedPacket,
    MqttError,
    PubAck,
    PublishRefused,
    Will,
    decode_packets,
    encode_connect,
    encode_publish,
    encode_string,
    reason_name,
)

__all__ = ["NO_LIMIT", "ConnectionLost", "WindowedPublisher", "open_publisher"]

log = logging.getLogger(__name__)

# Encoded publishes wait in a list and go out in one write: at the next turn of the event loop,
# or at once when this many bytes wait (a bound on latency and memory for callers that never
# yield).
FLUSH_BYTES = 64 * 1024
NO_LIMIT = 1 << 28  # larger than any MQTT packet


class WindowedPublisher(MqttConnection):
    """Publishes without awaiting each message, with a bounded window of unacknowledged ones.

    Made by ``open_publisher``; the asyncio protocol callbacks are not for callers.
    """

    def __init__(self, qos: int = 1, window: int = 1000) -> None:
        if qos not in (0, 1):
            raise ValueError(f"the simulator publishes at QoS 0 or 1, not {qos}")
        super().__init__()
        self.qos = qos
        self.window = max(1, min(window, MAX_PACKET_ID))
        self.sent = 0
        self.acked = 0  # QoS 0 messages count as acknowledged once handed to the transport
        self._topics: dict[str, bytes] = {}  # topic -> encoded topic; the park's topics repeat
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._flush_scheduled = False
        self._room = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._writable = asyncio.Event()
        self._writable.set()
        self._retain_available = True
        self._max_packet_size = NO_LIMIT

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

    def publish(
        self, topic: str, payload: bytes, retain: bool = False, properties: bytes = b"\x00"
    ) -> None:
        """Queue one message for the next write; call only when ``has_room()``. ``properties``:
        the PUBLISH's v5 property list as sent, its length first (none by default)."""
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
            packet = encode_publish(encoded, payload, 1, packet_id, retain, properties)
        else:
            packet = encode_publish(encoded, payload, 0, 0, retain, properties)
        if len(packet) > self._max_packet_size:
            if self.qos:
                self._packet_ids[packet_id] = 0
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
        self._write(data)

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

    # --- the connection's hooks and asyncio's callbacks --------------------------------------

    def _adopt(self, connack: ConnAck) -> None:
        if self.qos > connack.maximum_qos:
            raise MqttError(f"the broker accepts QoS {connack.maximum_qos} at most, not {self.qos}")
        self.window = min(self.window, connack.receive_maximum)
        self._retain_available = connack.retain_available
        self._max_packet_size = connack.maximum_packet_size or NO_LIMIT

    def _consume(self, data: bytes) -> int:
        decoded = decode_packets(data)
        if decoded.acked:
            self._release(decoded.acked)
        for packet in decoded.packets:
            if isinstance(packet, PubAck):  # only refused ones come here
                detail = f"packet id {packet.packet_id}"
                if packet.reason_string:
                    detail += f": {packet.reason_string}"
                self._fail(PublishRefused(packet.reason_code, detail))
            else:
                self._handle_control(packet)
        return decoded.consumed

    def _wake(self) -> None:
        self._room.set()
        self._idle.set()
        self._writable.set()

    def _before_close(self) -> None:
        self.flush()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # --- inside ------------------------------------------------------------------------------

    def _release(self, packet_ids: list[int]) -> None:
        outstanding = self._packet_ids
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

    def _scheduled_flush(self) -> None:
        self._flush_scheduled = False
        self.flush()


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
    _, connack = await connect(publisher, settings, connect_packet)
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
