"""Run a simulated park against an MQTT broker: pacing, status topics, state file and ledger."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from parktwin.config import MqttSettings
from parktwin.contract import topics
from parktwin.mqtt import make_client
from parktwin.park.model import Park
from parktwin.wire.packets import Will
from simulators.faults import Encoder, FaultCounts, FaultOptions, Message
from simulators.park import ModelOptions, ParkSimulator
from simulators.publisher import WindowedPublisher, open_publisher
from simulators.sparkplug import SparkplugEdge
from simulators.stream import TelemetryStream

FAST_CHUNK_MS = 60_000  # simulated time generated at once when running as fast as possible
YIELD_EVERY = 200  # messages between returns to the event loop, so socket I/O keeps flowing
STATE_SAVE_INTERVAL_S = 30.0
MAX_SLEEP_S = 0.25  # longest nap while pacing, so a stop request is seen quickly


@dataclass(frozen=True)
class SimulatorOptions:
    """Everything a simulator run needs; the CLI builds this from flags."""

    park: Park
    mqtt: MqttSettings
    seed: int = 1
    start: datetime | None = None  # default: today's midnight in the park's time zone
    speed: float = 60.0  # simulated seconds per wall second; 0 = as fast as possible
    duration_s: float | None = None  # stop after this much wall time
    max_rate: float | None = None  # messages per wall second at most
    faults: FaultOptions = field(default_factory=FaultOptions)
    qos: int = 1
    gateway_id: str = "simulator"
    senml_share: float = 0.0
    # Devices publishing as a real firmware or gateway would: device id -> (topic, encoder).
    device_formats: dict[str, tuple[str, Encoder]] = field(default_factory=dict)
    sparkplug: bool = True  # the park's sparkplug: devices publish as their edge nodes would
    state_file: Path | None = None
    ledger_file: Path | None = None
    simulated_duration_s: float | None = None  # stop after this much simulated time
    model: ModelOptions = field(default_factory=ModelOptions)
    window: int = 1000  # unacknowledged QoS 1 messages at most


@dataclass
class SimulationReport:
    """What a run did."""

    messages_published: int
    readings_published: int  # valid readings (the ledger's lines)
    by_fault: FaultCounts
    meter_resets: int
    simulated_start: datetime
    simulated_end: datetime
    wall_s: float
    rate_msg_s: float


def default_start(park: Park) -> datetime:
    """Today's midnight in the park's time zone: the simulator's only use of the wall clock."""
    today = datetime.now(park.timezone).date()
    return datetime(today.year, today.month, today.day, tzinfo=park.timezone)


def load_state(path: Path | None) -> dict[str, Any] | None:
    """A saved simulator state, or None when there is none."""
    if path is None or not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write the state atomically: a reader sees the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        json.dump(state, out)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)


def build_stream(options: SimulatorOptions) -> TelemetryStream:
    """The message stream of a run, continued from the state file when there is one."""
    saved = load_state(options.state_file)
    if saved is not None:
        simulator = ParkSimulator.from_state(options.park, saved, options.model)
    else:
        start = options.start or default_start(options.park)
        start_ms = round(start.timestamp() * 1000)
        simulator = ParkSimulator(options.park, options.seed, start_ms, options.model)
    edge = SparkplugEdge(options.park)
    return TelemetryStream(
        simulator,
        options.faults,
        options.senml_share,
        options.device_formats,
        edge if options.sparkplug and edge.devices else None,
    )


@dataclass
class _Pacer:
    """Maps simulated time to wall time and caps the message rate."""

    speed: float
    max_rate: float | None
    sim_start_ms: int
    wall_start: float = field(default_factory=time.monotonic)
    sent: int = 0

    def sim_now_ms(self) -> float:
        if self.speed <= 0:
            return float("inf")
        return self.sim_start_ms + (time.monotonic() - self.wall_start) * self.speed * 1000

    def wall_delay_s(self, sim_ts_ms: int) -> float:
        """How long to wait before the reading at ``sim_ts_ms`` is due."""
        if self.speed <= 0:
            return 0.0
        due = self.wall_start + (sim_ts_ms - self.sim_start_ms) / (self.speed * 1000)
        return due - time.monotonic()

    def rate_delay_s(self) -> float:
        if not self.max_rate:
            return 0.0
        return self.wall_start + self.sent / self.max_rate - time.monotonic()


async def _publish_all(
    messages: list[Message],
    publisher: WindowedPublisher,
    pacer: _Pacer,
    ledger: IO[str] | None,
) -> int:
    """Publish messages in order; return how many were valid readings."""
    readings = 0
    for i, message in enumerate(messages):
        if not publisher.has_room():
            await publisher.wait_for_room()
        elif i % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
        delay = pacer.rate_delay_s()
        if delay > 0:
            await asyncio.sleep(delay)
        publisher.publish(message.topic, message.payload)
        pacer.sent += 1
        if message.ledger:
            readings += 1
            if ledger is not None:
                ledger.write(f"{message.device_id},{message.ts_ms}\n")
    return readings


async def _listen_commands(
    settings: MqttSettings,
    identifier: str,
    filters: list[str],
    ready: asyncio.Event,
    inbox: asyncio.Queue[tuple[str, bytes]],
) -> None:
    """Put the Sparkplug commands (NCMD) sent to the simulated edge nodes in ``inbox``.

    A connection of its own: the publisher only publishes (simulators/publisher.py)."""
    async with make_client(settings, identifier) as client:
        for topic in filters:
            await client.subscribe(topic, qos=1)
        ready.set()
        async for message in client.messages:
            payload = message.payload
            if isinstance(payload, bytes | bytearray):
                inbox.put_nowait((str(message.topic), bytes(payload)))


async def _answer_commands(
    stream: TelemetryStream,
    inbox: asyncio.Queue[tuple[str, bytes]],
    publisher: WindowedPublisher,
) -> None:
    """Publish the births that the Sparkplug commands received so far ask for."""
    while stream.sparkplug is not None and not inbox.empty():
        topic, payload = inbox.get_nowait()
        for birth_topic, birth in stream.sparkplug.answer(topic, payload, stream.simulator.now_ms):
            await publisher.wait_for_room()
            publisher.publish(birth_topic, birth)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(0.0, seconds)):
            await stop.wait()


async def run_simulator(
    options: SimulatorOptions, stop: asyncio.Event | None = None
) -> SimulationReport:
    """Simulate the park's devices over MQTT until a duration is reached or ``stop`` is set."""
    stop = stop or asyncio.Event()
    stream = build_stream(options)
    simulator = stream.simulator
    park_id = options.park.park.id
    sim_start_ms = simulator.now_ms
    end_ms = (
        sim_start_ms + round(options.simulated_duration_s * 1000)
        if options.simulated_duration_s is not None
        else None
    )
    gateway_topic = topics.gateway_status(park_id, options.gateway_id)
    will = Will(gateway_topic, b"offline", qos=1, retain=True)
    identifier = f"{options.gateway_id}-{park_id}"
    readings = 0
    ledger = options.ledger_file.open("a", encoding="utf-8") if options.ledger_file else None
    wall_start = time.monotonic()
    last_save = wall_start
    commands: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    listener: asyncio.Task[None] | None = None
    try:
        if stream.sparkplug is not None:
            ready = asyncio.Event()
            listener = asyncio.create_task(
                _listen_commands(
                    options.mqtt,
                    f"{identifier}-ncmd",
                    stream.sparkplug.command_topics(),
                    ready,
                    commands,
                )
            )
            waiting = asyncio.create_task(ready.wait())
            await asyncio.wait({listener, waiting}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if listener.done():
                listener.result()  # the broker refused: raise why
        async with open_publisher(
            options.mqtt, identifier, will=will, qos=options.qos, window=options.window
        ) as publisher:
            publisher.publish(gateway_topic, b"online", retain=True)
            for device in options.park.devices:
                await publisher.wait_for_room()
                publisher.publish(topics.device_status(park_id, device.id), b"online", True)
            if stream.sparkplug is not None:
                for topic, birth in stream.sparkplug.births(simulator.now_ms):
                    await publisher.wait_for_room()
                    publisher.publish(topic, birth)
            await publisher.drain()
            status_messages = publisher.sent
            pacer = _Pacer(options.speed, options.max_rate, sim_start_ms)
            while not stop.is_set():
                if options.duration_s is not None and time.monotonic() - wall_start >= (
                    options.duration_s
                ):
                    break
                if end_ms is not None and simulator.now_ms >= end_ms:
                    break
                until = (
                    simulator.now_ms + FAST_CHUNK_MS
                    if options.speed <= 0
                    else int(pacer.sim_now_ms()) + 1
                )
                if end_ms is not None:
                    until = min(until, end_ms)
                await _answer_commands(stream, commands, publisher)
                batch = list(stream.advance(until))
                readings += await _publish_all(batch, publisher, pacer, ledger)
                if options.speed > 0:
                    delay = pacer.wall_delay_s(simulator.next_ts_ms())
                    await _sleep_or_stop(stop, min(MAX_SLEEP_S, delay))
                if options.state_file and time.monotonic() - last_save > STATE_SAVE_INTERVAL_S:
                    save_state(options.state_file, simulator.state())
                    last_save = time.monotonic()
            readings += await _publish_all(list(stream.flush()), publisher, pacer, ledger)
            await publisher.drain()
            messages = publisher.published - status_messages
            # A clean disconnect does not fire the will: say goodbye ourselves.
            publisher.publish(gateway_topic, b"offline", retain=True)
            for device in options.park.devices:
                await publisher.wait_for_room()
                publisher.publish(topics.device_status(park_id, device.id), b"offline", True)
            await publisher.drain()
    finally:
        if listener is not None:
            listener.cancel()
            # Its end (cancelled, or a lost connection) is the run's end, not a new error.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener
        if ledger is not None:
            ledger.close()
        if options.state_file is not None:
            save_state(options.state_file, simulator.state())
    wall_s = time.monotonic() - wall_start
    return SimulationReport(
        messages_published=messages,
        readings_published=readings,
        by_fault=stream.fault_counts,
        meter_resets=len(simulator.resets),
        simulated_start=datetime.fromtimestamp(sim_start_ms / 1000, UTC),
        simulated_end=datetime.fromtimestamp(simulator.now_ms / 1000, UTC),
        wall_s=wall_s,
        rate_msg_s=messages / wall_s if wall_s > 0 else 0.0,
    )
