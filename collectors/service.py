"""The collector service: MQTT in, validated and tagged readings out, acknowledged when durable.

Three parts share one event loop:
- the intake reads messages in bursts, which are validated and tagged into the current batch;
- a flusher closes a batch when it is old enough (the consumer closes it when it is full) and
  queues it; the queue is bounded, so when the store falls behind the consumer waits,
  unacknowledged messages pile up at the broker up to our Receive Maximum, and the broker stops
  sending: back-pressure end to end;
- the writer makes each batch durable (database or spool) and only then acknowledges it, so a
  crash never loses an acknowledged reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from dataclasses import dataclass, field

from collectors.deadletter import dead_letter_body
from collectors.native_lines import NativeLines
from collectors.reading_lines import ReadingLines
from collectors.routing import MessageRouter
from collectors.spool import Spool
from collectors.stats import CollectorStats
from collectors.store import DurableStore
from collectors.tagging import series_keys
from parktwin.config import Settings
from parktwin.contract import topics
from parktwin.contract.reading import PayloadError
from parktwin.influx.factory import make_writer
from parktwin.influx.writer import PointWriter
from parktwin.intake import Intake
from parktwin.park.model import Park
from parktwin.validation import Limits
from parktwin.wire.inbound import Message

log = logging.getLogger(__name__)


@dataclass
class PendingLines:
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
        self._limits = Limits.from_settings(settings.collector)
        self.router = MessageRouter(park, self._limits)
        self.intake = Intake(
            settings.mqtt,
            settings.mqtt.client_id,
            self.router.subscriptions(settings.mqtt.shared_group),
            self.stats.mqtt,
        )
        self._writer = writer or make_writer(settings.influx)
        self._keys = series_keys(park)
        self._native = NativeLines(park, self._limits, self._keys)
        self._reading_lines = ReadingLines(self._keys, series_keys(park, {"ts_source": "arrival"}))
        self._batch = PendingLines(0)
        self._spool: Spool | None = None

    @property
    def subscription(self) -> str:
        """The native telemetry subscription (mapped topics: ``router.subscriptions``)."""
        return self.router.subscriptions(self.settings.mqtt.shared_group)[0]

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
        pending: asyncio.Queue[PendingLines | None] = asyncio.Queue(
            self.settings.collector.max_pending_batches
        )
        drained = asyncio.Event()

        async def before_leaving() -> None:
            # Hand over the last batch and wait, boundedly, for it to be acknowledged.
            await pending.put(self._take_batch(self.intake.generation))
            await pending.put(None)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.collector.shutdown_timeout_s):
                    await drained.wait()

        async def handle(burst: list[Message], generation: int, now_ms: int) -> None:
            await self._take_in(burst, generation, now_ms, pending)

        # The park, its series keys and the shortcut's tables live as long as the service (some
        # 100,000 objects at 10,000 devices): frozen after start-up, the garbage collector no
        # longer walks them in the collections a drain's many short-lived objects set off.
        gc.collect()
        gc.freeze()
        try:
            async with asyncio.TaskGroup() as group:
                replay = group.create_task(store.replay_forever())
                writing = group.create_task(self._write_loop(pending, store, drained))
                flushing = group.create_task(self._flush_periodically(pending))
                await self.intake.run(stop, handle, before_leaving)
                # The spool keeps whatever is left for the next start; a writer still stuck
                # after the shutdown timeout holds nothing acknowledged.
                for task in (replay, writing, flushing):
                    task.cancel()
        finally:
            self.stats.reconnects = self.intake.reconnects
            await self._writer.aclose()
            await asyncio.to_thread(self._spool.close)
        return self.stats

    async def _take_in(
        self,
        burst: list[Message],
        generation: int,
        now_ms: int,
        pending: asyncio.Queue[PendingLines | None],
    ) -> None:
        """Validate and tag a burst of messages into batches; dead-letter the bad ones."""
        stats, batch_lines = self.stats, self.settings.collector.batch_lines
        sequences = None if self.settings.mqtt.shared_group else stats.sequences
        if self._batch.generation != generation:
            await pending.put(self._take_batch(generation))
        route = self.router.readings
        take_run, knows = self._native.take_run, self._native.knows
        render_into = self._reading_lines.extend
        refused: list[PayloadError] = []
        index, count = 0, len(burst)
        while index < count:
            batch = self._batch
            # Usual messages take the shortcut, a run at a time; the general path below takes
            # the next one of any other, and accepts or refuses it with its reason
            # (collectors/native_lines.py).
            message = burst[index]
            if knows(message.topic):  # a mapped or Sparkplug message skips the call
                room = max(1, batch_lines - len(batch.lines))
                taken_to, ts_ms = take_run(
                    burst, index, room, now_ms, batch.lines, batch.acks, sequences
                )
                if taken_to > index:
                    stats.messages_received += taken_to - index
                    stats.readings_accepted += taken_to - index
                    stats.last_event_ts_ms = ts_ms
                    index = taken_to
                    if len(batch.lines) >= batch_lines:
                        await pending.put(self._take_batch(generation))
                    continue
            index += 1
            stats.messages_received += 1
            payload = message.payload
            topic = message.topic
            try:
                readings = route(topic, payload, now_ms, refused)
            except PayloadError as exc:
                self._reject(topic, payload, exc, now_ms)
                refused.clear()
            else:
                if refused:
                    # Values of a mapped message refused one by one; the message counts as
                    # rejected when nothing of it was taken.
                    for i, error in enumerate(refused):
                        self._reject(topic, payload, error, now_ms, whole=not readings and i == 0)
                    refused.clear()
                if readings:
                    render_into(batch.lines, readings)
                    stats.readings_accepted += len(readings)
                    if sequences is not None:
                        sequences.observe(readings)
                    stats.last_event_ts_ms = readings[-1].ts_ms
            if (events := self.router.session_events()) is not None:
                for command_topic, body in events.commands:  # rebirth requests
                    self.intake.publish_nowait(command_topic, body)
                stats.sparkplug_rebirths_requested += events.rebirths
                stats.sparkplug_seq_gaps += events.seq_gaps
            if message.qos > 0:
                batch.acks.append(message.mid)
            if len(batch.lines) >= batch_lines:
                await pending.put(self._take_batch(generation))

    async def _flush_periodically(self, pending: asyncio.Queue[PendingLines | None]) -> None:
        interval = self.settings.collector.flush_interval_s
        while True:
            await asyncio.sleep(interval / 4)
            batch = self._batch
            if (batch.lines or batch.acks) and time.monotonic() - batch.opened >= interval:
                await pending.put(self._take_batch(batch.generation))

    def _take_batch(self, generation: int) -> PendingLines:
        batch, self._batch = self._batch, PendingLines(generation)
        return batch

    async def _write_loop(
        self,
        pending: asyncio.Queue[PendingLines | None],
        store: DurableStore,
        drained: asyncio.Event,
    ) -> None:
        while True:
            batch = await pending.get()
            if batch is None:
                drained.set()
                return
            if batch.lines:
                await store.put(batch.lines)
            self.intake.ack(batch.generation, batch.acks)

    def _reject(
        self, topic: str, payload: bytes, error: PayloadError, now_ms: int, whole: bool = True
    ) -> None:
        if whole:
            self.stats.messages_rejected += 1
        if self.stats.rejected_by_reason[error.reason] == 0:
            log.warning("rejected a message on %r: %s", topic[:120], error)
        self.stats.rejected_by_reason[error.reason] += 1
        body = dead_letter_body(error.reason, error.detail, topic, payload, now_ms)
        # Not awaited: the dead-letter copy must never hold up good messages.
        self.intake.publish_nowait(topics.dead_letter(self.park.park.id), body)

    def _refused(self, line: str, reason: str) -> None:
        log.error("database refused a line (%s): %.200s", reason, line)
        body = dead_letter_body(
            "database_refused", reason, "", line.encode(), int(time.time() * 1000)
        )
        self.intake.publish_nowait(topics.dead_letter(self.park.park.id), body)
