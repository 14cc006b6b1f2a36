"""The twin service: telemetry in, the park's live state and KPIs out.

- Telemetry and monthly inputs arrive through the MQTT intake (its own persistent session) and
  are validated exactly as the collectors validate them.
- Every ``checkpoint_interval_s`` the twin's state is written to disk atomically, and only then
  are the messages it holds acknowledged: after a crash the broker redelivers what the last
  checkpoint lacks, and the twin ignores what it has already counted, so a restart neither loses
  nor double counts.
- Every ``tick_s`` it takes a snapshot: KPIs to InfluxDB (timestamped with the event-time
  watermark, never the wall clock; the points that changed, and all of them once an event-time
  minute, see ``kpi_changes.py``), the KPI summary as retained JSON on
  ``parks/{park}/twin/state``, and the state for the HTTP API (its JSON form made when asked,
  once a tick, see ``tick_state.py``). Each snapshot is then offered to the listeners the
  program attached (the alerts; later, reports): the twin knows them only as
  ``SnapshotListener``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CollectorRegistry

from parktwin.atomic import atomic_write
from parktwin.config import Settings
from parktwin.contract import topics
from parktwin.contract.reading import PayloadError, Reading
from parktwin.decoding import MessageDecoder, NativeDecoder
from parktwin.influx.factory import make_writer
from parktwin.influx.influxql import DatabaseMissing, QueryError
from parktwin.influx.writer import PointWriter, WriteError
from parktwin.intake import Intake, PublishHealth
from parktwin.metrics import IntakeMetrics
from parktwin.park.model import Park
from parktwin.sequence import SequenceGaps
from parktwin.validation import Limits
from parktwin.wire.inbound import Message
from tariffs.bills import BillSet
from twin.model.inputs import MonthlyInputsError, parse_monthly_inputs
from twin.service.garbage import service_collection
from twin.service.http_api import build_app, serve
from twin.service.metrics import TwinMetrics
from twin.service.native_readings import NativeReadings
from twin.service.rebuild import rebuild
from twin.service.tick_outputs import TickOutputs
from twin.service.tick_state import TickState
from twin.state.snapshot import TwinSnapshot
from twin.state.trends import trends
from twin.state.twin import Twin

log = logging.getLogger(__name__)


class SnapshotListener(Protocol):
    """A role that acts on the twin's snapshots (the alerts, for one): attached by a program."""

    async def on_snapshot(self, snapshot: TwinSnapshot) -> object:
        """Quick work in the twin's tick; anything slow belongs in ``deliver``."""
        ...

    async def deliver(self) -> None:
        """Its own task while the twin runs (cancelled at stop); may return at once."""
        ...

    async def close(self) -> None:
        """Save and release what it holds, once the twin has stopped."""
        ...


AlertsShown = Callable[[], list[dict[str, Any]]]


@dataclass
class TwinStats:
    """Counters of one twin run."""

    messages_received: int = 0
    readings_ingested: int = 0
    messages_rejected: int = 0
    inputs_applied: int = 0
    inputs_rejected: int = 0
    ticks: int = 0
    checkpoints: int = 0
    kpi_points_written: int = 0
    kpi_write_failures: int = 0
    last_tick_s: float = 0.0
    rebuilt_readings: int = 0
    mqtt: PublishHealth = field(default_factory=PublishHealth)  # state and alerts refused
    # Gaps in the devices' seq since the twin started (not in the checkpoint: a restart takes
    # each device's next number as its new start).
    sequences: SequenceGaps = field(default_factory=SequenceGaps)
    meter_replacements_refused: int = 0


@dataclass
class Unacknowledged:
    """Message ids the twin holds in memory but no checkpoint has yet."""

    generation: int = 0
    mids: list[int] = field(default_factory=list)


class TwinService:
    """One twin for one park."""

    def __init__(
        self,
        park: Park,
        settings: Settings,
        writer: PointWriter | None = None,
        registry: CollectorRegistry | None = None,
        decoder: MessageDecoder | None = None,
    ) -> None:
        """``decoder``: how messages become readings; the contract's alone by default, the
        collectors' ``MessageRouter`` (with the park's mappings) from the programs."""
        self.park = park
        self.settings = settings
        self.stats = TwinStats()
        self.twin = Twin(park)
        # The program gives the collectors' decoding (native and mapped devices), so that both
        # take in the same readings; mapped topics are subscribed to as well.
        self._router: MessageDecoder = decoder or NativeDecoder(
            park, Limits.from_settings(settings.collector)
        )
        # The usual native message straight to its reading; any other goes to the decoder.
        self._native = NativeReadings(park, Limits.from_settings(settings.collector))
        self.intake = Intake(
            settings.mqtt,
            f"{settings.twin.client_id}-{park.park.id}",
            [*self._router.subscriptions(), topics.monthly_inputs_filter(park.park.id)],
            self.stats.mqtt,
        )
        # The publishing health of other services in this process (``parktwin run`` adds the
        # collector's), shown in /healthz beside the twin's own.
        self.publishers: dict[str, PublishHealth] = {"twin": self.stats.mqtt}
        self.registry = registry or CollectorRegistry(auto_describe=False)
        self.registry.register(
            TwinMetrics(self.stats, lambda: self.twin.watermark_ms, lambda: self.twin.state.stats)
        )
        self.registry.register(IntakeMetrics(self.intake, "twin"))
        self._writer = writer or make_writer(settings.influx)
        self._listeners: list[SnapshotListener] = []
        self._alerts_shown: AlertsShown = list
        self._limits = Limits.from_settings(settings.collector)
        self._unacked = Unacknowledged()
        self._checkpoint_due = asyncio.Event()
        self._tick_state: TickState | None = None
        self._outputs = TickOutputs(park)  # keeps what it can from tick to tick
        self._last_checkpoint_s: float | None = None
        self.api_url: str | None = None
        # Routes a program adds to the HTTP API (the reports'); the twin knows none of them.
        self._api_routes: list[Callable[[web.Application], None]] = []
        self._target_ready = False
        # Set once the twin has its starting state (checkpoint or history) and goes live.
        self.started = asyncio.Event()
        # Where the park's readings are stored, in words, for the view; a program that stores
        # them elsewhere (or nowhere) says so.
        influx = settings.influx
        database = influx.bucket if influx.api.value == "v2" else influx.database
        self.storage: str | None = f"InfluxDB {influx.url} ({database})"

    @property
    def checkpoint_path(self) -> Path:
        return self.settings.twin.checkpoint_folder / f"{self.park.park.id}.twin"

    def add_listener(self, listener: SnapshotListener) -> None:
        """Offer every snapshot to ``listener``, run its delivery and close it with the twin."""
        self._listeners.append(listener)

    def add_api_routes(self, add_routes: Callable[[web.Application], None]) -> None:
        """Let ``add_routes`` add its routes to the HTTP API when the service starts it."""
        self._api_routes.append(add_routes)

    def show_alerts(self, active_alerts: AlertsShown) -> None:
        """Where the twin view reads the alerts firing now (none unless a program says)."""
        self._alerts_shown = active_alerts

    # -- the view the HTTP API shows --------------------------------------------------------
    def active_alerts(self) -> list[dict[str, Any]]:
        """The alerts firing now, as the fields a screen shows, most severe first."""
        return self._alerts_shown()

    def state(self) -> dict[str, Any] | None:
        """The last tick's full state (its JSON form is made on the first call of the tick)."""
        return None if self._tick_state is None else self._tick_state.state()

    def state_body(self, section: str | None = None) -> bytes | None:
        """The last tick's state, or one section of it, as JSON (made once a tick)."""
        return None if self._tick_state is None else self._tick_state.body(section)

    def bills(self, month: str) -> BillSet | None:
        """Tenant bills of a month the twin keeps (``GET /api/bills?month=YYYY-MM``)."""
        return self.twin.bills(month)

    def trends(self) -> dict[str, Any]:
        """Days and months the twin holds, with their trend (see ``twin.trends``)."""
        return trends(self.twin)

    def health(self) -> dict[str, Any]:
        age = (
            None if self._last_checkpoint_s is None else time.monotonic() - self._last_checkpoint_s
        )
        failing = any(health.failing for health in self.publishers.values())
        return {
            # A refused publish of our own output is an error: an account without its rights.
            "status": "error" if failing else "ok" if self.intake.connected else "degraded",
            "mqtt_connected": self.intake.connected,
            "mqtt": {role: health.report() for role, health in self.publishers.items()},
            "watermark_ms": self.twin.watermark_ms,
            "checkpoint_age_s": age,
            "readings_ingested": self.stats.readings_ingested,
        }

    # -- running ----------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event, serve_api: bool = True) -> TwinStats:
        """Run until ``stop``; a final checkpoint acknowledges what the twin took in."""
        await self._start_from_checkpoint_or_history()
        self.started.set()
        runner: web.AppRunner | None = None
        if serve_api:
            token = self.settings.api.token
            app = build_app(self, self.registry, token.get_secret_value() if token else None)
            for add_routes in self._api_routes:
                add_routes(app)
            runner = await serve(app, self.settings.api)
            host, port = runner.addresses[0][:2]
            self.api_url = f"http://{host}:{port}"
            log.info("twin API on %s/", self.api_url)
        # The park, its topology and the twin live as long as the service: frozen after
        # start-up, and the young generation collected less often (see garbage.py).
        try:
            with service_collection():
                async with asyncio.TaskGroup() as group:
                    ticking = group.create_task(self._tick_forever())
                    checkpointing = group.create_task(self._checkpoint_forever())
                    delivering = [group.create_task(x.deliver()) for x in self._listeners]
                    await self.intake.run(stop, self._handle, self._before_leaving)
                    ticking.cancel()
                    checkpointing.cancel()
                    for task in delivering:
                        task.cancel()  # what a listener has not delivered stays in its outbox
                await self._tick()
        finally:
            if runner is not None:
                await runner.cleanup()
            await self._writer.aclose()
            for listener in self._listeners:
                await listener.close()
        return self.stats

    async def _start_from_checkpoint_or_history(self) -> None:
        path = self.checkpoint_path
        data = await asyncio.to_thread(_read_if_exists, path)
        if data is not None:
            self.twin = Twin.restore(self.park, None, data)
            log.info("twin restored from %s at watermark %s", path, self.twin.watermark_ms)
            return
        if not self.settings.twin.rebuild_from_history:
            return
        twin = Twin(self.park)
        try:
            # The readings of the current local year, replayed as they were stored; the loop
            # serves others meanwhile (the ingest runs in a worker thread).
            replayed = await rebuild(self.settings.influx, twin)
        except DatabaseMissing:  # a first start: nothing stored yet, nothing to rebuild
            log.info("no checkpoint and no history yet (a new database): starting empty")
            return
        except QueryError as exc:  # history is a help, not a must: start empty and say so
            log.warning("no checkpoint, and history could not be read (%s): starting empty", exc)
            return
        self.twin = twin
        self.stats.rebuilt_readings = replayed
        log.info("no checkpoint: rebuilt from %d readings of InfluxDB history", replayed)

    async def _handle(self, burst: list[Message], generation: int, now_ms: int) -> None:
        stats, unacked = self.stats, self._unacked
        if unacked.generation != generation:
            # Ids of a lost connection are void; the broker redelivers those messages and the
            # twin ignores readings it has already counted.
            self._unacked = unacked = Unacknowledged(generation)
        inputs = topics.monthly_inputs(self.park.park.id, "")
        accepted: list[Reading] = []
        route, usual = self._router.readings, self._native.reading
        refused: list[PayloadError] = []
        for message in burst:
            stats.messages_received += 1
            payload = message.payload
            topic = message.topic
            if (reading := usual(topic, payload, now_ms)) is not None:
                accepted.append(reading)
            elif topic.startswith(inputs):
                self._apply_inputs(topic, payload)
            else:
                try:
                    taken = route(topic, payload, now_ms, refused)
                except PayloadError:
                    stats.messages_rejected += 1  # the collectors dead-letter it
                else:
                    accepted.extend(taken)
                    if refused:
                        stats.messages_rejected += not taken
                        refused.clear()
                if (events := self._router.session_events()) is not None:
                    for command_topic, body in events.commands:  # rebirth requests
                        self.intake.publish_nowait(command_topic, body)
                    if events.offline:
                        if accepted:  # readings before a death count before it
                            self.twin.ingest(accepted)
                            stats.readings_ingested += len(accepted)
                            accepted = []
                        for device_id, at_ms in events.offline:
                            self.twin.mark_offline([device_id], at_ms)
            if message.qos > 0:
                unacked.mids.append(message.mid)
        if accepted:
            self.twin.ingest(accepted)
            stats.readings_ingested += len(accepted)
            stats.sequences.observe(accepted)
        if len(unacked.mids) >= self.settings.twin.max_unacknowledged:
            self._checkpoint_due.set()

    def _apply_inputs(self, topic: str, payload: bytes) -> None:
        if not payload:
            return  # an empty retained message clears the topic; the checkpoint keeps the month
        try:
            inputs = parse_monthly_inputs(payload)
            if topic.rsplit("/", 1)[-1] != inputs.month:
                raise MonthlyInputsError([f"month {inputs.month} published on {topic}"])
        except MonthlyInputsError as exc:
            self.stats.inputs_rejected += 1
            log.error("monthly inputs on %r refused: %s", topic, exc)
            return
        problems = self.twin.apply_monthly_inputs(inputs)
        self.stats.inputs_applied += 1
        for problem in problems:
            self.stats.meter_replacements_refused += 1
            log.error("monthly inputs on %r: %s", topic, problem)

    async def _checkpoint_forever(self) -> None:
        interval = self.settings.twin.checkpoint_interval_s
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._checkpoint_due.wait()
            self._checkpoint_due.clear()
            await self._checkpoint()

    async def _checkpoint(self) -> None:
        """Write the state, then acknowledge the messages it holds."""
        held, self._unacked = self._unacked, Unacknowledged(self._unacked.generation)
        data = self.twin.checkpoint()
        await asyncio.to_thread(atomic_write, self.checkpoint_path, data)
        self._last_checkpoint_s = time.monotonic()
        self.stats.checkpoints += 1
        self.intake.ack(held.generation, held.mids)

    async def _before_leaving(self) -> None:
        await self._checkpoint()

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.twin.tick_s)
            await self._tick()

    async def _tick(self) -> None:
        started = time.perf_counter()
        snapshot = self.twin.snapshot()
        output = self._outputs(snapshot, self.stats.sequences.missing_by_device())
        self._tick_state = output.state
        lines = output.lines
        self.stats.last_tick_s = time.perf_counter() - started
        self.stats.ticks += 1
        topic = topics.twin_state(self.park.park.id)
        self.intake.publish_nowait(topic, output.summary_json, retain=True)
        for listener in self._listeners:
            await listener.on_snapshot(snapshot)  # quick work; delivery is its own task
        if not lines:
            return
        try:
            if not self._target_ready:
                await self._writer.ensure_target()
                self._target_ready = True
            await self._writer.write(lines)
            self.stats.kpi_points_written += len(lines)
        except WriteError as exc:
            # KPIs are derived: the next tick writes the current values again, all of them.
            self._outputs.write_failed()
            self.stats.kpi_write_failures += 1
            log.warning("KPI write failed: %s", exc)


def _read_if_exists(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
