"""The collector service: MQTT in, validated and tagged readings out, acknowledged when durable.

Three tasks share one event loop:
- the consumer reads messages, validates and tags them into the current batch;
- the flusher closes a batch when it is full or old enough and queues it (a bounded queue:
  when the store falls behind, the consumer waits, unacknowledged messages pile up at the broker
  up to our Receive Maximum, and the broker stops sending: back-pressure end to end);
- the writer makes each batch durable (database or spool) and only then acknowledges its messages.

Acknowledgements are manual (paho's manual_ack, reached through aiomqtt's client, as aiomqtt
issue #345 suggests until aiomqtt exposes it), so a crash never loses an acknowledged reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field

import aiomqtt

from collectors.deadletter import dead_letter_body
from collectors.spool import Spool
from collectors.stats import CollectorStats
from collectors.store import DurableStore, backoff_s
from collectors.tagging import render, series_keys
from collectors.validation import Limits, validate_message
from collectors.writer import PointWriter, make_writer
from parktwin.config import Settings
from parktwin.contract import topics
from parktwin.contract.reading import PayloadError
from parktwin.mqtt import make_client
from parktwin.park.model import Park

log = logging.getLogger(__name__)


@dataclass
class Batch:
    """Lines to store and the message ids to acknowledge once they are durable."""

    generation: int  # which MQTT connection the ids belong to
    lines: list[str] = field(default_factory=list)
    acks: list[int] = field(default_factory=list)
    opened: float = field(default_factory=time.monotonic)


class Collector:
    """One collector process for one park (several may share the load via ``shared_group``)."""

    def __init__(self, park: Park, settings: Settings, writer: PointWriter | None = None) -> None:
        self.park = park
        self.settings = settings
        self.stats = CollectorStats()
        self._writer = writer or make_writer(settings.influx)
        self._limits = Limits.from_settings(settings.collector)
        self._keys = series_keys(park)
        self._client: aiomqtt.Client | None = None
        self._generation = 0
        self._batch = Batch(0)
        self._store: DurableStore | None = None
        self._spool: Spool | None = None
        self._rng = random.Random()

    @property
    def subscription(self) -> str:
        filter_ = topics.telemetry_filter(self.park.park.id)
        group = self.settings.mqtt.shared_group
        return topics.shared(filter_, group) if group else filter_

    @property
    def spool_pending_lines(self) -> int:
        return self._spool.pending_lines if self._spool is not None else 0

    async def run(self, stop: asyncio.Event) -> CollectorStats:
        """Collect until ``stop`` is set, then store and acknowledge what was taken in."""
        folder = self.settings.spool.folder / self.park.park.id
        self._spool = await asyncio.to_thread(Spool, folder, self.settings.spool.max_bytes)
        store = DurableStore(
            self._writer, self._spool, self.settings.collector, self.stats, self._refused
        )
        self._store = store
        pending: asyncio.Queue[Batch | None] = asyncio.Queue(
            self.settings.collector.max_pending_batches
        )
        drained = asyncio.Event()
        try:
            async with asyncio.TaskGroup() as group:
                replay = group.create_task(store.replay_forever())
                writing = group.create_task(self._write_loop(pending, store, drained))
                await self._mqtt_loop(pending, drained, stop)
                # The spool keeps whatever is left for the next start; a writer still stuck
                # after the shutdown timeout holds nothing acknowledged.
                replay.cancel()
                writing.cancel()
        finally:
            await self._writer.aclose()
            await asyncio.to_thread(self._spool.close)
        return self.stats

    async def _mqtt_loop(
        self, pending: asyncio.Queue[Batch | None], drained: asyncio.Event, stop: asyncio.Event
    ) -> None:
        """Connect, consume, and reconnect with backoff until stopped; then drain and leave."""
        attempt = 0
        settings = self.settings
        while True:
            client = make_client(settings.mqtt, settings.mqtt.client_id, persistent=True)
            # Before connecting: a persistent session may deliver queued messages at once.
            client._client.manual_ack_set(True)
            try:
                async with client:
                    self._generation += 1
                    self._client = client
                    self._batch = Batch(self._generation)
                    await client.subscribe(self.subscription, qos=settings.mqtt.qos)
                    log.info("subscribed to %s", self.subscription)
                    attempt = 0
                    await self._consume_until(client, pending, stop)
                    # Stopping: hand over the last batch and wait for its acknowledgements.
                    await pending.put(self._take_batch())
                    await pending.put(None)
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(settings.collector.shutdown_timeout_s):
                            await drained.wait()
                    return
            except aiomqtt.MqttError as exc:
                self._client = None
                self.stats.reconnects += 1
                delay = backoff_s(attempt, 0.5, 15.0, self._rng)
                attempt += 1
                log.warning("MQTT connection lost (%s); reconnecting in %.1f s", exc, delay)
                if stop.is_set():
                    await pending.put(self._take_batch())
                    await pending.put(None)
                    return
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await stop.wait()

    async def _consume_until(
        self, client: aiomqtt.Client, pending: asyncio.Queue[Batch | None], stop: asyncio.Event
    ) -> None:
        """Consume messages until stopped; a lost connection raises MqttError."""
        # A race between the stream and the stop signal, so not a TaskGroup: whichever ends
        # first cancels the others, and a consumer's error is re-raised as itself.
        consumer = asyncio.create_task(self._consume(client, pending))
        flusher = asyncio.create_task(self._flush_periodically(pending))
        stopper = asyncio.create_task(stop.wait())
        tasks = (consumer, flusher, stopper)
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in (consumer, flusher):
            if task in done:
                task.result()  # raises the task's error, MqttError on a lost connection
                raise aiomqtt.MqttError("message stream ended")

    async def _consume(self, client: aiomqtt.Client, pending: asyncio.Queue[Batch | None]) -> None:
        batch_lines = self.settings.collector.batch_lines
        # aiomqtt's iterator costs a task and an asyncio.wait per message; after each wake-up,
        # take what is already queued without waiting (aiomqtt keeps it in client._queue).
        queue: asyncio.Queue[aiomqtt.Message] = client._queue
        async for first in client.messages:
            message: aiomqtt.Message | None = first
            now_ms = int(time.time() * 1000)
            while message is not None:
                self._take_in(client, message, now_ms)
                if len(self._batch.lines) >= batch_lines:
                    await pending.put(self._take_batch())
                message = None if queue.empty() else queue.get_nowait()

    def _take_in(self, client: aiomqtt.Client, message: aiomqtt.Message, now_ms: int) -> None:
        """Validate and tag one message into the current batch, or dead-letter it."""
        stats = self.stats
        stats.messages_received += 1
        payload = message.payload
        if not isinstance(payload, bytes):
            payload = bytes(payload) if isinstance(payload, bytearray) else str(payload).encode()
        topic = message.topic.value
        batch = self._batch
        try:
            readings = validate_message(self.park, self._limits, topic, payload, now_ms)
        except PayloadError as exc:
            self._reject(client, topic, payload, exc)
        else:
            batch.lines.extend(render(self._keys, readings))
            stats.readings_accepted += len(readings)
            stats.last_event_ts_ms = readings[-1].ts_ms
        if message.qos > 0:
            batch.acks.append(message.mid)

    async def _flush_periodically(self, pending: asyncio.Queue[Batch | None]) -> None:
        interval = self.settings.collector.flush_interval_s
        while True:
            await asyncio.sleep(interval / 4)
            batch = self._batch
            if (batch.lines or batch.acks) and time.monotonic() - batch.opened >= interval:
                await pending.put(self._take_batch())

    def _take_batch(self) -> Batch:
        batch, self._batch = self._batch, Batch(self._generation)
        return batch

    async def _write_loop(
        self, pending: asyncio.Queue[Batch | None], store: DurableStore, drained: asyncio.Event
    ) -> None:
        while True:
            batch = await pending.get()
            if batch is None:
                drained.set()
                return
            if batch.lines:
                await store.put(batch.lines)
            self._acknowledge(batch)

    def _acknowledge(self, batch: Batch) -> None:
        client = self._client
        # Ids of an earlier connection mean nothing now; the broker redelivers those messages.
        if client is None or batch.generation != self._generation:
            return
        qos = self.settings.mqtt.qos
        for mid in batch.acks:
            client._client.ack(mid, qos)

    def _reject(
        self, client: aiomqtt.Client, topic: str, payload: bytes, error: PayloadError
    ) -> None:
        self.stats.messages_rejected += 1
        first = self.stats.rejected_by_reason[error.reason] == 0
        self.stats.rejected_by_reason[error.reason] += 1
        if first:
            log.warning("rejected a message on %s: %s", topic[:120], error)
        body = dead_letter_body(error.reason, error.detail, topic, payload, int(time.time() * 1000))
        # Not awaited: the dead-letter copy must never hold up good messages.
        client._client.publish(topics.dead_letter(self.park.park.id), body, qos=1)

    def _refused(self, line: str, reason: str) -> None:
        log.error("database refused a line (%s): %.200s", reason, line)
        client = self._client
        if client is not None:
            body = dead_letter_body(
                "database_refused", reason, "", line.encode(), int(time.time() * 1000)
            )
            client._client.publish(topics.dead_letter(self.park.park.id), body, qos=1)
