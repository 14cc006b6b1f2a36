"""The demo in one process: broker, simulator, collectors, twin and alerts, with a live summary.

Everything the demo keeps lives in one state folder (default ``var/demo/``): the simulator's
clock and counters, the twin's checkpoint, the alert engine's state, the collectors' spool, the
embedded broker's persistence and the embedded InfluxDB's data. A restarted demo therefore
continues the same simulated day, with the same stored history.

With ``history_days``, a fresh state folder first gets that many days of the simulator's past
readings in InfluxDB (no broker: straight from the generator), the simulator continues live from
where the history ends, and the twin rebuilds its year from the stored history.

Stopping happens in order, so that no acknowledged reading is lost: the simulator stops and
saves its state; the collectors and the twin are given a moment to take in what the broker
still holds, then write their last batch and checkpoint and acknowledge it; the broker stops
and saves whatever is still unacknowledged for the next start; the embedded InfluxDB stops
last, once every write has been answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from collectors.history import HistoryWriter
from collectors.mapping.encode import wire_formats
from collectors.metrics import CollectorMetrics
from collectors.service import Collector
from parktwin.config import InfluxApi, InfluxSettings, Settings
from parktwin.metrics import IntakeMetrics
from parktwin.mqtt import make_client
from parktwin.park.model import Park
from programs.demo import DEFAULT_RESOLUTION_S
from programs.demo.backfill import (
    BackfillReport,
    backfill,
    history_simulator,
    live_state,
)
from programs.demo.broker import Broker, embedded_broker, named_broker
from programs.demo.database import (
    Database,
    DatabaseError,
    embedded_influxdb,
    find_influxd,
    influx_answers,
    target_name,
)
from programs.demo.inputs import example_inputs, months_between
from programs.demo.progress import progress_bar
from programs.demo.storage import NullWriter, storage_notice, where_stored
from programs.demo.terminal import Counts, LiveBlock, summary_lines
from programs.wiring import park_twin
from simulators.run import (
    SimulationReport,
    SimulatorOptions,
    default_start,
    run_simulator,
    save_state,
)
from twin.service.live_plan import day_budget_kwh
from twin.service.service import TwinService

# Time-warped event times run ahead of the wall clock; a demo may run for days of park time.
MAX_FUTURE_S = 400 * 86400.0
TICK_S = 2.0
START_TIMEOUT_S = 30.0
SUBSCRIBE_GRACE_S = 1.0  # subscribing follows the connection within a loopback round trip
SETTLE_S = 1.0  # quiet time that means the broker has handed over what it held
SETTLE_MAX_S = 10.0


@dataclass(frozen=True)
class DemoOptions:
    """Everything a demo run needs; the CLI builds it from flags."""

    park: Park
    settings: Settings
    broker: tuple[str, int] | None  # None: start mosquitto
    speed: float = 60.0
    state_folder: Path = Path("var/demo")
    api_port: int = 8080
    refresh_s: float = 3.0
    out: TextIO = sys.stdout
    influx_url: str | None = None  # an InfluxDB that must answer; None: the configured or ours
    history_days: float = 0.0  # days of past readings a fresh state folder starts with
    history_resolution_s: float = DEFAULT_RESOLUTION_S


@dataclass(frozen=True)
class DemoReport:
    """What a demo run did."""

    simulation: SimulationReport
    readings_received: int
    readings_stored: int
    stored: bool
    view_url: str | None
    twin_watermark_ms: int | None
    storage: str  # where the readings went, in words
    history: BackfillReport | None = None
    history_readings_rebuilt: int = 0
    readings_spooled: int = 0  # kept on disk for the next start: the database did not answer


def port_or_any(host: str, port: int) -> int:
    """``port`` when it is free on ``host``, else 0 (any free port)."""
    if port == 0:
        return 0
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return 0
    return port


def influx_settings(settings: InfluxSettings, database: Database | None) -> InfluxSettings:
    """The settings of the database the demo writes to (the embedded one speaks v1)."""
    if database is None or not database.embedded:
        return settings
    return settings.model_copy(
        update={"url": database.url, "api": InfluxApi.V1, "database": database.name}
    )


def demo_settings(
    settings: Settings, broker: Broker, folder: Path, api_port: int, database: Database | None
) -> Settings:
    """The settings with the demo's broker, database, state folder and time warp."""
    stored = database is not None
    update = {
        "influx": influx_settings(settings.influx, database),
        "mqtt": settings.mqtt.model_copy(update={"host": broker.host, "port": broker.port}),
        "spool": settings.spool.model_copy(update={"folder": folder / "spool"}),
        "collector": settings.collector.model_copy(update={"max_future_s": MAX_FUTURE_S}),
        "twin": settings.twin.model_copy(
            update={
                "checkpoint_folder": folder / "twin",
                "tick_s": TICK_S,
                # Without a database there is no history to rebuild from.
                "rebuild_from_history": settings.twin.rebuild_from_history and stored,
            }
        ),
        "alerts": settings.alerts.model_copy(
            update={"folder": folder / "alerts", "write_influx": stored}
        ),
        "api": settings.api.model_copy(update={"port": api_port}),
    }
    return settings.model_copy(update=update)


def _url_port(url: str) -> int:
    """The port of a loopback URL, or 0 (any free port) for any other."""
    rest = url.removeprefix("http://")
    host, _, port = rest.partition("/")[0].rpartition(":")
    return int(port) if host in ("127.0.0.1", "localhost") and port.isdigit() else 0


@contextlib.asynccontextmanager
async def _database(options: DemoOptions) -> AsyncIterator[Database | None]:
    """The InfluxDB named by ``--influx-url``, else the configured one when it answers, else
    influxd started here (at the configured URL's port when that is on loopback and free), else
    None: nothing stored."""
    settings = options.settings.influx
    name = target_name(settings)
    if options.influx_url is not None:
        named = settings.model_copy(update={"url": options.influx_url})
        if not await influx_answers(named):
            raise DatabaseError(f"no InfluxDB answers at --influx-url {options.influx_url}")
        yield Database(options.influx_url, name, embedded=False)
    elif await influx_answers(settings):
        yield Database(settings.url, name, embedded=False)
    elif find_influxd() is None:
        yield None
    else:
        port = port_or_any("127.0.0.1", _url_port(settings.url))
        folder = options.state_folder / "influxdb"
        async with embedded_influxdb(folder, settings.database, port) as database:
            yield database


class DemoInterrupted(Exception):
    """Stopped before the live demo began (during the history); the message says what stays."""


async def _history(
    options: DemoOptions, settings: Settings, stop: asyncio.Event
) -> BackfillReport | None:
    """Store ``history_days`` of past readings before a fresh demo starts (see the module)."""
    park, out = options.park, options.out
    state_file = options.state_folder / "simulator.json"
    if await asyncio.to_thread(state_file.exists):
        out.write(
            f"history: the demo continues from {options.state_folder}/ with the history it has;"
            " --history fills a fresh state folder only\n"
        )
        return None
    end_ms = round(default_start(park).timestamp() * 1000)
    start_ms = end_ms - round(options.history_days * 86_400_000)
    simulator = history_simulator(park, start_ms, resolution_s=options.history_resolution_s)
    history = HistoryWriter(park, settings, arrival_ms=round(time.time() * 1000))
    first = default_start(park) - timedelta(days=options.history_days)
    label = f"history {first:%Y-%m-%d} .. {default_start(park):%Y-%m-%d}"
    try:
        with progress_bar(out, label, end_ms - start_ms) as done:
            report = await backfill(simulator, history, end_ms, lambda t: done(t - start_ms), stop)
    finally:
        await history.aclose()
    if report.end_ms < end_ms:
        raise DemoInterrupted(
            f"stopped during the history, {report.readings_stored:,} readings stored; the demo "
            "did not start. Run it again: the history is stored again, each point once."
        )
    # Saved only once the history is stored: an interrupted backfill is simply run again.
    await asyncio.to_thread(save_state, state_file, live_state(simulator))
    out.write(
        f"history: {report.readings_stored:,} readings of {options.history_days:g} days "
        f"stored in {report.wall_s:.0f} s\n"
    )
    return report


async def _publish_example_inputs(settings: Settings, options: DemoOptions) -> None:
    """Example monthly inputs (retained) for every month the demo's history and start cover."""
    start = default_start(options.park).date()
    months = months_between(start - timedelta(days=options.history_days), start)
    async with make_client(settings.mqtt, None) as client:
        for topic, document in example_inputs(options.park, months):
            await client.publish(topic, document, qos=1, retain=True)


@contextlib.asynccontextmanager
async def _broker(options: DemoOptions) -> AsyncIterator[Broker]:
    if options.broker is not None:
        async with named_broker(*options.broker) as broker:
            yield broker
    else:
        async with embedded_broker(options.state_folder / "broker") as broker:
            yield broker


async def _until_connected(collector: Collector, twin: TwinService, out: TextIO) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(1.0):  # a checkpoint is read in a moment
            await twin.started.wait()
    if not twin.started.is_set():
        out.write("twin: rebuilding from the stored history…\n")
        out.flush()
    # A rebuild from history takes what it takes; connecting then is quick.
    await twin.started.wait()
    # Polled: the intakes expose no event, and the demo only watches them.
    async with asyncio.timeout(START_TIMEOUT_S):
        while not (collector.intake.connected and twin.intake.connected):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    await asyncio.sleep(SUBSCRIBE_GRACE_S)


async def _settle(collector: Collector, twin: TwinService) -> None:
    """Wait until neither the collectors nor the twin have received anything for a moment."""
    deadline = time.monotonic() + SETTLE_MAX_S

    def seen() -> tuple[int, int]:
        return collector.stats.messages_received, twin.stats.messages_received

    last, quiet_since = seen(), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - quiet_since < SETTLE_S:
        await asyncio.sleep(0.1)
        now = seen()
        if now != last:
            last, quiet_since = now, time.monotonic()


async def run_demo(options: DemoOptions, stop: asyncio.Event) -> DemoReport:
    """Run the demo until ``stop`` is set; then stop its parts in order (see the module)."""
    folder = options.state_folder
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    fresh = not await asyncio.to_thread((folder / "simulator.json").exists)
    async with _database(options) as database:
        history = None
        if options.history_days > 0 and database is None:
            options.out.write("history: nothing stores it (no InfluxDB), so none is made\n")
        if options.history_days > 0 and database is not None:
            history_settings = options.settings.model_copy(
                update={"influx": influx_settings(options.settings.influx, database)}
            )
            history = await _history(options, history_settings, stop)
        return await _run_live(options, stop, database, history, fresh)


async def _run_live(
    options: DemoOptions,
    stop: asyncio.Event,
    database: Database | None,
    history: BackfillReport | None,
    fresh: bool,
) -> DemoReport:
    park, out = options.park, options.out
    folder = options.state_folder
    stored = database is not None
    api_port = port_or_any(options.settings.api.host, options.api_port)
    async with _broker(options) as broker:
        settings = demo_settings(options.settings, broker, folder, api_port, database)
        collector_writer = None if stored else NullWriter()
        collector = Collector(park, settings, collector_writer)
        # What-if runs over stored history; without InfluxDB there is none.
        twin, alerts = park_twin(park, settings, None if stored else NullWriter(), what_if=stored)
        twin.registry.register(
            CollectorMetrics(collector.stats, lambda: collector.spool_pending_lines)
        )
        twin.registry.register(IntakeMetrics(collector.intake, "collector"))
        twin.publishers["collector"] = collector.stats.mqtt
        twin.storage = where_stored(database) if stored else None
        if fresh and broker.embedded:
            await _publish_example_inputs(settings, options)
        where = "embedded mosquitto" if broker.embedded else "broker"
        out.write(f"demo: {where} on {broker.host}:{broker.port}; state in {folder}/\n")
        out.write(storage_notice(database, options.settings.influx.url, str(folder)) + "\n")
        out.flush()
        services_stop, simulator_stop, screen_stop = (asyncio.Event() for _ in range(3))
        simulation = SimulatorOptions(
            park=park,
            mqtt=settings.mqtt,
            speed=options.speed,
            device_formats=wire_formats(park),  # the park's mapped devices, as they publish
            state_file=folder / "simulator.json",
        )

        def counts() -> Counts:
            where = where_stored(database) if stored else None
            return Counts(
                collector.stats.readings_accepted,
                stored_count(collector),
                where,
                collector.spool_pending_lines,
            )

        async def services() -> None:
            async with asyncio.TaskGroup() as group:
                group.create_task(collector.run(services_stop))
                group.create_task(twin.run(services_stop))

        async def screen() -> None:
            block = LiveBlock(out)
            while True:
                state = twin.state()
                block.draw(
                    summary_lines(
                        None if state is None else state.get("kpis"),
                        alerts.active_alerts(),
                        day_budget_kwh(park),
                        counts(),
                        None if twin.api_url is None else f"{twin.api_url}/",
                    )
                )
                if screen_stop.is_set():
                    return
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(options.refresh_s):
                        await screen_stop.wait()

        async with asyncio.TaskGroup() as group:
            running = group.create_task(services())
            await _until_connected(collector, twin, out)
            simulating = group.create_task(run_simulator(simulation, simulator_stop))
            showing = group.create_task(screen())
            await stop.wait()
            simulator_stop.set()
            report = await simulating
            await _settle(collector, twin)
            services_stop.set()
            await running
            screen_stop.set()
            await showing
        return DemoReport(
            simulation=report,
            readings_received=collector.stats.readings_accepted,
            readings_stored=stored_count(collector),
            stored=stored,
            view_url=twin.api_url,
            twin_watermark_ms=twin.twin.watermark_ms,
            storage=where_stored(database),
            history=history,
            history_readings_rebuilt=twin.stats.rebuilt_readings,
            readings_spooled=collector.spool_pending_lines,
        )


def stored_count(collector: Collector) -> int:
    """Readings in the database: written at once, or later from the spool."""
    return collector.stats.readings_written + collector.stats.readings_replayed
