"""The demo in one process: broker, simulator, collectors, twin and alerts, with a live summary.

Everything the demo keeps lives in one state folder (default ``var/demo/``): the simulator's
clock and counters, the twin's checkpoint, the alert engine's state, the collectors' spool and
the embedded broker's persistence. A restarted demo therefore continues the same simulated day.

Stopping happens in order, so that no acknowledged reading is lost: the simulator stops and
saves its state; the collectors and the twin are given a moment to take in what the broker
still holds, then write their last batch and checkpoint and acknowledge it; the broker stops
last and saves whatever is still unacknowledged for the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from collectors.mapping.encode import wire_formats
from collectors.metrics import CollectorMetrics
from collectors.service import Collector
from parktwin.config import Settings
from parktwin.metrics import IntakeMetrics
from parktwin.park.model import Park
from programs.demo.broker import Broker, embedded_broker, named_broker
from programs.demo.storage import NullWriter, influx_answers, storage_notice
from programs.demo.terminal import Counts, LiveBlock, summary_lines
from programs.wiring import attach_alerts, attach_reports, attach_what_if, twin_service
from simulators.run import SimulationReport, SimulatorOptions, run_simulator
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


@dataclass(frozen=True)
class DemoReport:
    """What a demo run did."""

    simulation: SimulationReport
    readings_received: int
    readings_stored: int
    stored: bool
    view_url: str | None
    twin_watermark_ms: int | None


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


def demo_settings(
    settings: Settings, broker: Broker, folder: Path, api_port: int, stored: bool
) -> Settings:
    """The settings with the demo's broker, state folder and time warp."""
    update = {
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


@contextlib.asynccontextmanager
async def _broker(options: DemoOptions) -> AsyncIterator[Broker]:
    if options.broker is not None:
        async with named_broker(*options.broker) as broker:
            yield broker
    else:
        async with embedded_broker(options.state_folder / "broker") as broker:
            yield broker


async def _until_connected(collector: Collector, twin: TwinService) -> None:
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
    park, out = options.park, options.out
    folder = options.state_folder
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    stored = await influx_answers(options.settings.influx)
    api_port = port_or_any(options.settings.api.host, options.api_port)
    async with _broker(options) as broker:
        settings = demo_settings(options.settings, broker, folder, api_port, stored)
        collector_writer = None if stored else NullWriter()
        collector = Collector(park, settings, collector_writer)
        twin = twin_service(park, settings, writer=None if stored else NullWriter())
        alerts = attach_alerts(twin)
        attach_reports(twin, alerts)
        if stored:  # what-if runs over stored history; without InfluxDB there is none
            attach_what_if(twin)
        twin.registry.register(
            CollectorMetrics(collector.stats, lambda: collector.spool_pending_lines)
        )
        twin.registry.register(IntakeMetrics(collector.intake, "collector"))
        where = "embedded mosquitto" if broker.embedded else "broker"
        out.write(f"demo: {where} on {broker.host}:{broker.port}; state in {folder}/\n")
        out.write(storage_notice(stored, settings.influx, str(folder)) + "\n")
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
            received = collector.stats.readings_accepted
            written = collector.stats.readings_written
            return Counts(received, written if stored else received, stored)

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
            await _until_connected(collector, twin)
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
            readings_stored=collector.stats.readings_written,
            stored=stored,
            view_url=twin.api_url,
            twin_watermark_ms=twin.twin.watermark_ms,
        )
