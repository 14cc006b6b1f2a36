"""Helpers shared by the tests: parks, harnesses that run a part as a user would, and what
several test modules check against. Fixtures and the servers they start are in conftest.py."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import aiomqtt
import orjson
import yaml
from aiohttp import web
from conftest import (
    InfluxDatabase,
    InfluxDB1,
    Mosquitto,
    free_port,
    http_request,
    require_binary,
)
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from alerts.engine import AlertEngine, AlertEvent
from alerts.service import AlertService, alert_topic
from collectors.service import Collector
from collectors.tagging import render, series_keys
from parktwin.config import MqttSettings, Settings, load_settings
from parktwin.contract import topics
from parktwin.contract.reading import Reading
from parktwin.mqtt import make_client
from parktwin.park.loader import load_park, parse_park
from parktwin.park.model import Park
from parktwin.validation import Limits
from parktwin.wire.connection import MqttConnection
from parktwin.wire.inbound import InboundLimits, InboundPacket, Message, decode_inbound
from parktwin.wire.packets import (
    PUBACK,
    PUBREL,
    encode_ack,
    encode_publish,
    encode_string,
    encode_varint,
)
from twin.state.snapshot import TwinSnapshot
from twin.state.twin import Twin

# -- A small park: one of each common device kind --------------------------------------------------

SMALL_PARK = """
park:
  id: {park_id}
  name: Test park
  timezone: Asia/Shanghai
  location: {{latitude: 30.5, longitude: 120.1}}
zones:
  - {{id: prod, name: Production, type: production}}
  - {{id: home, name: Housing, type: talent_housing}}
buildings:
  - {{id: plant-1, name: Plant 1, zone: prod, use: factory, floor_area_m2: 5000,
     occupant_capacity: 200, shifts: 2}}
  - {{id: flats, name: Flats, zone: home, use: residential, floor_area_m2: 3000,
     occupant_capacity: 150}}
enterprises:
  - {{id: acme, name: ACME, industry: machinery, land_area_mu: 30, buildings: [plant-1]}}
devices:
  - {{id: main, kind: grid_main_meter, zone: prod}}
  - {{id: m-plant, kind: sub_meter, building: plant-1, enterprise: acme}}
  - {{id: m-flats, kind: sub_meter, building: flats}}
  - {{id: pv-1, kind: pv_inverter, building: plant-1, capacity_kwp: 300}}
  - {{id: gas-1, kind: gas_meter, building: plant-1, enterprise: acme}}
  - {{id: occ-1, kind: occupancy_counter, building: plant-1}}
"""


def small_park(park_id: str = "test") -> Park:
    """The small park under ``park_id``."""
    return parse_park(SMALL_PARK.format(park_id=park_id), "small_park")


# -- A park with every device kind, for the simulator ----------------------------------------------

EVERY_KIND_PARK = """
schema_version: 1
park:
  id: {park_id}
  name: Test park
  timezone: Asia/Shanghai
  location: {{latitude: 30.04, longitude: 121.15}}
zones:
  - {{id: prod, name: Production, type: production}}
  - {{id: office, name: Offices, type: rnd}}
  - {{id: home, name: Housing, type: talent_housing}}
  - {{id: util, name: Utilities, type: utilities}}
buildings:
  - {{id: fab, name: Fab, zone: prod, use: factory, floor_area_m2: 10000,
     occupant_capacity: 150, shifts: 2}}
  - {{id: hq, name: HQ, zone: office, use: office, floor_area_m2: 6000, occupant_capacity: 300}}
  - {{id: apt, name: Apartments, zone: home, use: residential, floor_area_m2: 8000,
     occupant_capacity: 400}}
  - {{id: es, name: Energy station, zone: util, use: utility, floor_area_m2: 800,
     occupant_capacity: 4}}
devices:
  - {{id: main, kind: grid_main_meter, building: es, interval_s: 60}}
  - {{id: fab-em, kind: sub_meter, building: fab, interval_s: 60}}
  - {{id: fab-line, kind: sub_meter, building: fab, parent: fab-em, interval_s: 30}}
  - {{id: fab-pv, kind: pv_inverter, building: fab, interval_s: 60, capacity_kwp: 1500}}
  - {{id: fab-gas, kind: gas_meter, building: fab, interval_s: 300}}
  - {{id: fab-stk, kind: stack_monitor, building: fab, interval_s: 60}}
  - {{id: fab-water, kind: water_meter, building: fab, interval_s: 300}}
  - {{id: fab-fuel, kind: fuel_meter, building: fab, interval_s: 300}}
  - {{id: fab-occ, kind: occupancy_counter, building: fab, interval_s: 300}}
  - {{id: hq-em, kind: sub_meter, building: hq, interval_s: 60}}
  - {{id: hq-gas, kind: gas_meter, building: hq, interval_s: 300}}
  - {{id: hq-occ, kind: occupancy_counter, building: hq, interval_s: 300}}
  - {{id: hq-co2, kind: indoor_co2_sensor, building: hq, interval_s: 120}}
  - {{id: apt-em, kind: sub_meter, building: apt, interval_s: 60}}
  - {{id: apt-ev, kind: ev_charger, building: apt, parent: apt-em, interval_s: 60,
     rated_power_kw: 7}}
  - {{id: apt-heat, kind: heat_meter, building: apt, parent: es-heat, interval_s: 300}}
  - {{id: es-em, kind: sub_meter, building: es, interval_s: 60}}
  - {{id: es-heat, kind: heat_meter, building: es, interval_s: 300}}
  - {{id: es-battery, kind: battery, building: es, interval_s: 60, rated_power_kw: 500,
     capacity_kwh: 1000}}
  - {{id: street-ev, kind: ev_charger, zone: home, interval_s: 60, rated_power_kw: 60}}
"""


def every_kind_park(park_id: str = "testpark") -> Park:
    """The small test park under the given id (tests on one broker use their own ids)."""
    return parse_park(EVERY_KIND_PARK.format(park_id=park_id))


# -- The hand-worked day of test_twin_day.py: its park and readings --------------------------------

TZ = ZoneInfo("Asia/Shanghai")


H = 3_600_000


DAY0 = int(datetime(2024, 3, 5, tzinfo=TZ).timestamp() * 1000)


DAY_PARK = """
park: {id: demo, name: Demo park, timezone: Asia/Shanghai,
       location: {latitude: 31.2, longitude: 121.5}}
zones:
  - {id: z_prod, name: Production, type: production}
  - {id: z_home, name: Talent housing, type: talent_housing}
buildings:
  - {id: b_fab, name: Fab, zone: z_prod, use: factory, floor_area_m2: 5000, occupant_capacity: 100}
  - {id: b_lab, name: Lab, zone: z_prod, use: lab, floor_area_m2: 2000, occupant_capacity: 50}
  - {id: b_flat, name: Flats, zone: z_home, use: residential, floor_area_m2: 3000,
     occupant_capacity: 80}
enterprises:
  - {id: e_fab, name: FabCo, industry: electronics, land_area_mu: 30, buildings: [b_fab]}
  - {id: e_lab, name: LabCo, industry: biotech, land_area_mu: 10, buildings: [b_lab]}
devices:
  - {id: grid, kind: grid_main_meter, zone: z_prod, interval_s: 3600}
  - {id: pv, kind: pv_inverter, building: b_fab, enterprise: e_fab, capacity_kwp: 500,
     interval_s: 3600}
  - {id: bat, kind: battery, building: b_fab, enterprise: e_fab, capacity_kwh: 200,
     interval_s: 3600}
  - {id: m_fab, kind: sub_meter, building: b_fab, enterprise: e_fab, parent: grid, interval_s: 3600}
  - {id: m_line, kind: sub_meter, building: b_fab, enterprise: e_fab, parent: m_fab,
     interval_s: 3600}
  - {id: m_lab, kind: sub_meter, building: b_lab, enterprise: e_lab, parent: grid, interval_s: 3600}
  - {id: gas, kind: gas_meter, building: b_fab, enterprise: e_fab, interval_s: 3600}
  - {id: occ, kind: occupancy_counter, building: b_fab, interval_s: 21600}
twin:
  green_power: {"2024-03": {certificates: 0, direct_kwh: 100}}
  sinks: {t_co2_per_ha_year: {lawn: 3}, area_ha: {lawn: 2}}
  financials:
    e_fab: {"2024-03": {tax_10k_yuan: 30, value_added_10k_yuan: 120, revenue_10k_yuan: 500,
                        rnd_10k_yuan: 25, employees: 100}}
    e_lab: {"2024-03": {tax_10k_yuan: 20, value_added_10k_yuan: 60, revenue_10k_yuan: 200,
                        rnd_10k_yuan: 30, employees: 40}}
"""


def day_park() -> Park:
    return parse_park(DAY_PARK)


def at(hour: float) -> int:
    """Epoch ms of a local hour of 2024-03-05."""
    return DAY0 + round(hour * H)


def day_batches() -> list[list[Reading]]:
    """The day's readings, one batch per reading time, in arrival order."""

    def r(device: str, hour: float, **values: float) -> Reading:
        return Reading(device, at(hour), {k: float(v) for k, v in values.items()})

    return [
        [
            r("grid", 0, energy_import_kwh=1000, energy_export_kwh=50),
            r("pv", 0, energy_kwh=5000),
            r("bat", 0, energy_charge_kwh=100, energy_discharge_kwh=80, soc_pct=50),
            r("m_fab", 0, energy_kwh=2000),
            r("m_line", 0, energy_kwh=10),
            r("m_lab", 0, energy_kwh=7000),
            r("gas", 0, gas_m3=300),
            r("occ", 0, occupancy_persons=0),
        ],
        [
            r("grid", 6, energy_import_kwh=1100, energy_export_kwh=50),
            r("pv", 6, energy_kwh=5000),
            r("m_fab", 6, energy_kwh=2100),
            r("m_lab", 6, energy_kwh=7040),
            r("m_lab", 3, energy_kwh=7020),  # late, older than 06:00: ignored
        ],
        [
            r("occ", 8, occupancy_persons=80),
            r("grid", 12, energy_import_kwh=1150, energy_export_kwh=130),
            r("pv", 12, energy_kwh=5200),
            r("bat", 12, energy_charge_kwh=150, energy_discharge_kwh=80, soc_pct=75),
            r("m_fab", 12, energy_kwh=2250),
            r("m_fab", 12, energy_kwh=2260),  # same time as the 12:00 reading: ignored
            r("m_line", 12, energy_kwh=60),
            r("m_lab", 12, energy_kwh=15),  # meter replaced: counts 15 from zero
            r("gas", 12, gas_m3=340),
        ],
        [
            r("grid", 18, energy_import_kwh=1300, energy_export_kwh=130),
            r("pv", 18, energy_kwh=5300),
            r("m_lab", 18, energy_kwh=45),
            r("occ", 18, occupancy_persons=10),
            # m_fab is silent at 18:00: a gap
        ],
        [
            r("grid", 23, energy_import_kwh=1400, energy_export_kwh=130),
            r("pv", 23, energy_kwh=5300),
            r("bat", 23, energy_charge_kwh=150, energy_discharge_kwh=125, soc_pct=55),
            r("m_fab", 23, energy_kwh=2450),
            r("m_line", 23, energy_kwh=110),
            r("m_lab", 23, energy_kwh=65),
            r("gas", 23, gas_m3=400),
            r("occ", 23, occupancy_persons=0),
            Reading("stranger", at(23), {"energy_kwh": 1.0}),  # unknown device: counted
        ],
    ]


def day_snapshot() -> TwinSnapshot:
    """The snapshot at the end of the day."""
    twin = Twin(day_park())
    for batch in day_batches():
        twin.ingest(batch)
    return twin.snapshot()


# -- Collectors: settings, readings as devices send them, a running collector ----------------------

BASE_TS_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@dataclass(frozen=True)
class Sent:
    """A reading the test published."""

    device_id: str
    ts_ms: int
    values: dict[str, float]


def readings_for(park: Park, count: int, step_ms: int = 60_000) -> list[Sent]:
    """``count`` readings per electricity/gas/occupancy device, a minute apart."""
    values = {
        "grid_main_meter": lambda i: {"energy_import_kwh": 1000.0 + i, "power_kw": 50.0},
        "sub_meter": lambda i: {"energy_kwh": 100.0 + i * 0.5, "power_kw": 30.0},
        "pv_inverter": lambda i: {"energy_kwh": 10.0 + i, "power_kw": 5.5},
        "gas_meter": lambda i: {"gas_m3": 5.0 + i, "flow_m3_h": 1.25},
        "occupancy_counter": lambda i: {"occupancy_persons": float(i % 40)},
    }
    return [
        Sent(device.id, BASE_TS_MS + i * step_ms, values[device.kind.value](i))
        for device in park.devices
        for i in range(count)
    ]


def payload_of(sent: Sent) -> bytes:
    return orjson.dumps({"v": 1, "ts": sent.ts_ms, "values": sent.values})


async def publish(
    mqtt: MqttSettings,
    park_id: str,
    readings: Iterable[Sent],
    extra: Iterable[tuple[str, bytes]] = (),
) -> None:
    """Publish readings (and raw extra messages) with QoS 1, each confirmed by the broker."""
    async with make_client(mqtt, f"pub-{uuid.uuid4().hex[:8]}") as client:
        for sent in readings:
            await client.publish(topics.telemetry(park_id, sent.device_id), payload_of(sent), qos=1)
        for topic, data in extra:
            await client.publish(topic, data, qos=1)


def collector_settings(
    mqtt_port: int, spool: Path, influx: dict[str, Any], **overrides: Any
) -> Settings:
    """Settings for a test collector with its own session and spool."""
    options: dict[str, Any] = {
        "mqtt__host": "127.0.0.1",
        "mqtt__port": mqtt_port,
        "mqtt__client_id": f"collector-{uuid.uuid4().hex[:8]}",
        "spool__folder": spool,
        "collector__flush_interval_s": 0.1,
        "collector__max_future_s": 10 * 365 * 86400.0,
        "collector__retry_initial_s": 0.1,
        "collector__retry_max_s": 1.0,
    }
    options |= {f"influx__{k}": v for k, v in influx.items()}
    options |= overrides
    return load_settings(None, **options)


@contextlib.asynccontextmanager
async def running(collector: Collector) -> AsyncIterator[asyncio.Task[Any]]:
    """Run a collector in the background; stop it (cleanly) on leaving."""
    stop = asyncio.Event()
    task = asyncio.create_task(collector.run(stop))
    try:
        await wait_until(lambda: collector.intake.connected or task.done(), 15)
        if task.done():
            task.result()
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def wait_until(condition: Callable[[], bool], timeout_s: float) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout_s``."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.05)


async def collect_dead_letters(
    mqtt: MqttSettings, park_id: str, ready: asyncio.Event, into: list[dict[str, Any]]
) -> None:
    """Subscribe to the park's dead-letter topic and append what arrives."""
    async with make_client(mqtt, f"dlq-{uuid.uuid4().hex[:8]}") as client:
        await client.subscribe(topics.dead_letter(park_id), qos=1)
        ready.set()
        async for message in client.messages:
            assert isinstance(message.payload, bytes)
            into.append(orjson.loads(message.payload))


# -- Alerts: a park with rules, a replay into the engine, a webhook receiver -----------------------

MINUTE = 60_000


HOUR = 3_600_000


DAY = 86_400_000


ALERT_PARK = """
park: {{id: {park_id}, name: Alert park, timezone: Asia/Shanghai,
       location: {{latitude: 30.5, longitude: 120.1}}}}
zones:
  - {{id: prod, name: Production, type: production}}
buildings:
  - {{id: plant-1, name: Plant 1, zone: prod, use: factory, floor_area_m2: 5000,
     occupant_capacity: 200}}
devices:
  - {{id: main, kind: grid_main_meter, zone: prod, interval_s: 300}}
  - {{id: m-plant, kind: sub_meter, building: plant-1, parent: main, interval_s: 300}}
  - {{id: occ-1, kind: occupancy_counter, building: plant-1, interval_s: 300}}
alerts:
  rules:
{rules}
"""


def alert_park(rules: str, park_id: str = "alerts") -> Park:
    """The one-building park with the given YAML rule list items (indented by four)."""
    return parse_park(ALERT_PARK.format(park_id=park_id, rules=rules), "alert_park")


def local_ms(text: str) -> int:
    """Epoch ms of a local Asia/Shanghai time, ``2026-03-02T08:00``."""
    return int(datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp() * 1000)


def hour_of(ts_ms: int) -> int:
    return datetime.fromtimestamp(ts_ms / 1000, TZ).hour


def usual_kw(ts_ms: int) -> float:
    """A one-shift factory on weekdays: 60 kW at night, 300 kW from 08:00 to 18:00."""
    local = datetime.fromtimestamp(ts_ms / 1000, TZ)
    if local.weekday() >= 5:
        return 60.0
    return 300.0 if 8 <= local.hour < 18 else 60.0


def usual_persons(ts_ms: int) -> float:
    local = datetime.fromtimestamp(ts_ms / 1000, TZ)
    return 150.0 if local.weekday() < 5 and 8 <= local.hour < 18 else 0.0


@dataclass
class Replay:
    """A twin and an alert engine fed the same minutes; events are kept in order."""

    park: Park
    step_ms: int = 5 * MINUTE
    evaluate_every: int = 1  # a snapshot every few steps, as ticks would take them
    twin: Twin = field(init=False)
    engine: AlertEngine = field(init=False)
    events: list[AlertEvent] = field(default_factory=list)
    energy_kwh: float = 0.0
    t_ms: int | None = None
    steps: int = 0

    def __post_init__(self) -> None:
        self.twin = Twin(self.park)
        self.engine = AlertEngine(self.park)

    def run(
        self,
        start_ms: int,
        end_ms: int,
        kw: Callable[[int], float],
        persons: Callable[[int], float] = usual_persons,
        silent: Callable[[int], bool] = lambda t: False,
        evaluate_every: int | None = None,
    ) -> list[AlertEvent]:
        """Feed [start, end) at ``kw(t)`` (mean power over the step before t); new events."""
        before = len(self.events)
        for t in range(start_ms, end_ms, self.step_ms):
            self.energy_kwh += kw(t) * self.step_ms / HOUR
            readings = [
                Reading("main", t, {"energy_import_kwh": self.energy_kwh, "power_kw": kw(t)}),
                Reading("occ-1", t, {"occupancy_persons": persons(t)}),
            ]
            if not silent(t):
                readings.append(
                    Reading("m-plant", t, {"energy_kwh": self.energy_kwh, "power_kw": kw(t)})
                )
            self.twin.ingest(readings)
            self.t_ms = t
            self.steps += 1
            if self.steps % (evaluate_every or self.evaluate_every) == 0:
                self.events.extend(self.engine.evaluate(self.twin.snapshot()))
        return self.events[before:]


def noisy(kw: Callable[[int], float], seed: int, spread: float = 0.1) -> Callable[[int], float]:
    """``kw`` times a factor that changes every hour, uniform in [1 - spread, 1 + spread]."""
    rng = random.Random(seed)
    factors: dict[int, float] = {}

    def value(ts_ms: int) -> float:
        hour = ts_ms // HOUR
        if hour not in factors:
            factors[hour] = rng.uniform(1 - spread, 1 + spread)
        return kw(ts_ms) * factors[hour]

    return value


def by_state(events: list[AlertEvent], state: str) -> Iterator[AlertEvent]:
    return (e for e in events if e.state == state)


@dataclass
class Received:
    """One request a test receiver got."""

    headers: dict[str, str]
    query: dict[str, str]
    body: bytes
    at_s: float


@dataclass
class Receiver:
    """A real HTTP server standing in for a webhook receiver.

    It answers the statuses in ``answers`` first, then 200 (with ``ok_body``); with ``hang`` it
    never answers. Every request is recorded.
    """

    answers: list[int] = field(default_factory=list)
    hang: bool = False
    ok_body: bytes = b'{"errcode": 0, "code": 0}'
    requests: list[Received] = field(default_factory=list)
    port: int = 0
    _runner: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook?access_token=t0ken"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(
            Received(dict(request.headers), dict(request.query), body, time.time())
        )
        if self.hang:
            await asyncio.sleep(3600)
        if self.answers:
            return web.Response(status=self.answers.pop(0), text="not now")
        return web.Response(body=self.ok_body, content_type="application/json")

    async def start(self, port: int = 0) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.2)  # a hanging handler is cut
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        await self._runner.cleanup()


# -- The demo as a user runs it --------------------------------------------------------------------

VIEW_URL = re.compile(r"^twin view: (http://\S+/)$")


FINAL = re.compile(
    r"^demo: simulated (\S+) \.\. (\S+); readings published (\d+), received (\d+), "
    r"(?:stored (\d+) in (.+)|not stored .*)$"
)


ENERGY_TODAY = re.compile(r"^energy today: ([\d,.]+) kWh")


SIM_TIME = re.compile(r"^simulated time (\S+)$")


@dataclass
class DemoRun:
    """One ``parktwin demo`` process; its output is collected line by line as it comes."""

    state_dir: Path
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # on top of the harness's own
    lines: list[str] = field(default_factory=list)
    process: subprocess.Popen[str] | None = None

    def start(self) -> DemoRun:
        env = dict(os.environ)
        # Nothing answers there: the demo starts its own InfluxDB (on that port, when free).
        env["PARKTWIN_INFLUX__URL"] = f"http://127.0.0.1:{free_port()}"
        env.update(self.env)
        command = [sys.executable, "-m", "programs", "demo", "--state-dir", str(self.state_dir)]
        self.process = subprocess.Popen(
            [*command, "--api-port", "0", "--refresh-s", "1", *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: re.Pattern[str], timeout_s: float = 60) -> re.Match[str]:
        """The first output line matching ``pattern``; fails with the output after the timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if found := pattern.match(line):
                    return found
            assert self.process is not None
            if self.process.poll() is not None and not any(pattern.match(x) for x in self.lines):
                break
            time.sleep(0.1)
        raise AssertionError(f"no line matching {pattern.pattern!r} in:\n" + self.output())

    def last(self, pattern: re.Pattern[str]) -> re.Match[str]:
        """The last output line matching ``pattern``."""
        found = [m for line in self.lines if (m := pattern.match(line))]
        assert found, f"no line matching {pattern.pattern!r} in:\n" + self.output()
        return found[-1]

    def interrupt(self, timeout_s: float = 60) -> int:
        """Ctrl-C, and the exit code once the demo has stopped."""
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        return self.wait(timeout_s)

    def wait(self, timeout_s: float = 90) -> int:
        assert self.process is not None
        code = self.process.wait(timeout=timeout_s)
        time.sleep(0.2)  # let the reader take the last lines
        return code

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        return "\n".join(self.lines[-80:])


# -- Headless Chromium for the twin view -----------------------------------------------------------

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]


class Page:
    """One browser tab: navigate, evaluate JavaScript, take screenshots."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result (events in between are skipped)."""
        call_id = next(self._ids)
        await self._socket.send_json({"id": call_id, "method": method, "params": params})
        async with asyncio.timeout(30):
            async for message in self._socket:
                data = message.json()
                if data.get("id") == call_id:
                    if "error" in data:
                        raise RuntimeError(f"{method}: {data['error']}")
                    result: dict[str, Any] = data["result"]
                    return result
        raise RuntimeError(f"{method}: the browser closed the connection")

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def screenshot(self, path: Path, width: int, height: int) -> None:
        """A PNG of the page at ``width`` × ``height`` CSS pixels."""
        await self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        shot = await self.call("Page.captureScreenshot", format="png")
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))


@contextlib.asynccontextmanager
async def chromium_page(folder: Path, url: str) -> AsyncIterator[Page]:
    """Headless Chromium showing ``url``; closed when the block ends."""
    binary = require_binary("chromium")
    port = free_port()
    profile = folder / "chromium-profile"
    process = await asyncio.create_subprocess_exec(
        binary,
        *FLAGS,
        f"--user-data-dir={profile}",
        f"--remote-debugging-port={port}",
        url,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with aiohttp.ClientSession() as session:
            target = await _page_target(session, port)
            async with session.ws_connect(target, max_msg_size=0) as socket:
                yield Page(socket)
    finally:
        process.terminate()
        try:
            async with asyncio.timeout(15):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


async def _page_target(session: aiohttp.ClientSession, port: int) -> str:
    """The DevTools websocket of the browser's first page, once the browser answers."""
    async with asyncio.timeout(30):
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
                    pages = [t for t in await response.json() if t.get("type") == "page"]
                    if pages:
                        return str(pages[0]["webSocketDebuggerUrl"])
            await asyncio.sleep(0.2)


# -- Alerts on a service fed by hand, delivering to webhooks ---------------------------------------

SECRET = "s3cret-for-tests"


ALERT_START = local_ms("2026-03-03T09:00")


INSTANT_DEMAND = (
    '    - {id: plant-demand, kind: demand, place: "building:plant-1", limit_kw: 400,'
    " window_s: 600, for_s: 0, clear_for_s: 0}\n"
)


DASHBOARD = "https://grafana.example/d/parktwin-alerts?var-park={park}&from={from_ms}&to={to_ms}"


def receiver_settings(url: str, **extra: Any) -> dict[str, Any]:
    return {"url": url, "retry_initial_s": 0.05, "retry_max_s": 0.2, **extra}


def settings_for(folder: Path, receivers: dict[str, dict[str, Any]]) -> Settings:
    return load_settings(
        None,
        alerts={
            "folder": folder,
            "write_influx": False,
            "dashboard_url": DASHBOARD,
            "receivers": receivers,
        },
    )


class Driver:
    """A twin and an alert service fed five-minute steps of the plant's power."""

    def __init__(self, park: Park, settings: Settings) -> None:
        self.twin = Twin(park)
        self.retained: dict[str, bytes] = {}
        self.service = AlertService(park, settings, self._publish)
        self.energy_kwh = 0.0

    def first_alert(self) -> tuple[str, str]:
        """The fingerprint of the first alert the rules can raise, and its retained topic."""
        fingerprint = self.service.engine.watches[0].fingerprint
        return fingerprint, alert_topic(self.service.park.park.id, fingerprint)

    def _publish(self, topic: str, payload: bytes, *, retain: bool = False) -> bool:
        assert retain
        self.retained[topic] = payload
        return True

    async def feed(self, start_ms: int, end_ms: int, kw: Callable[[int], float]) -> list[str]:
        states = []
        for t in range(start_ms, end_ms, 5 * MINUTE):
            self.energy_kwh += kw(t) * 5 * MINUTE / HOUR
            self.twin.ingest(
                [Reading("m-plant", t, {"energy_kwh": self.energy_kwh, "power_kw": kw(t)})]
            )
            events = await self.service.on_snapshot(self.twin.snapshot())
            states.extend(e.state for e in events)
        return states

    async def fire(self) -> None:
        assert await self.feed(ALERT_START, ALERT_START + HOUR, lambda t: 500.0) == ["firing"]

    async def resolve(self) -> None:
        assert await self.feed(ALERT_START + HOUR, ALERT_START + 2 * HOUR, lambda t: 100.0) == [
            "resolved"
        ]


@contextlib.asynccontextmanager
async def delivering(service: AlertService) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(service.deliver())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(condition: Callable[[], bool], timeout_s: float = 10) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.02)


# -- The twin service's settings on the test servers -----------------------------------------------


def twin_settings(mosquitto: Mosquitto, db: InfluxDatabase, folder: Path, **extra: Any) -> Settings:
    return load_settings(
        None,
        mqtt__port=mosquitto.port,
        influx__url=db.url,
        influx__database=db.name,
        twin__client_id=f"twin-{uuid.uuid4().hex[:6]}",
        twin__checkpoint_folder=folder,
        twin__tick_s=0.3,
        collector__max_future_s=1e9,
        api__port=0,
        **extra,
    )


# -- What the database holds -----------------------------------------------------------------------

DATABASE = "park"


def stored_pairs(server: InfluxDB1, database: str = DATABASE) -> Counter[tuple[str, int]]:
    """How many points each (device, event time) has, over every measurement of the database."""
    stored: Counter[tuple[str, int]] = Counter()
    try:
        series_list = server.query(database, 'SELECT * FROM /.*/ GROUP BY "device"')
    except (OSError, RuntimeError):  # the database is not there (yet)
        return stored
    for series in series_list:
        for row in series["values"]:  # type: ignore[union-attr]
            stored[(series["tags"]["device"], row[0])] += 1  # type: ignore[index]
    return stored


# -- Every reason a message can be refused for -----------------------------------------------------

REASONS = {
    "too_large", "bad_topic", "wrong_park", "unknown_device", "not_utf8", "malformed_json",
    "bad_schema", "bad_version", "bad_timestamp", "timestamp_out_of_window", "unknown_quantity",
    "unknown_unit", "quantity_not_for_kind", "bad_value", "out_of_range", "duplicate_key",
    "senml_unsupported", "conflicting_values",
}  # fmt: skip


# -- Everything published under one park -----------------------------------------------------------


class Subscriber:
    """Everything published under one park, in arrival order."""

    def __init__(self, mosquitto: Mosquitto, park_id: str) -> None:
        self.settings = MqttSettings(port=mosquitto.port)
        self.park_id = park_id
        self.received: list[tuple[str, bytes]] = []
        self._ready = asyncio.Event()

    async def run(self) -> None:
        async with aiomqtt.Client(
            "127.0.0.1", self.settings.port, max_queued_incoming_messages=0
        ) as c:
            await c.subscribe(f"parks/{self.park_id}/#", qos=1)
            self._ready.set()
            async for message in c.messages:
                self.received.append((str(message.topic), bytes(message.payload)))  # type: ignore[arg-type]

    async def ready(self) -> None:
        await asyncio.wait_for(self._ready.wait(), 10)

    async def wait_for(self, count: int, prefix: str) -> None:
        async with asyncio.timeout(30):
            while sum(1 for t, _ in self.received if t.endswith(prefix)) < count:
                await asyncio.sleep(0.05)

    def telemetry(self) -> list[tuple[str, bytes]]:
        return [(t, p) for t, p in self.received if t.endswith("/telemetry")]


# -- real devices' messages (tests/data/devices): the park that maps them and the readings,
# written by hand, each must give --------------------------------------------------------------
DEVICES_DATA = Path(__file__).parent / "data" / "devices"


@dataclass(frozen=True)
class Expected:
    device: str
    ts_ms: int | None  # None: the message's arrival time
    values: dict[str, float]


@dataclass(frozen=True)
class DeviceCase:
    """One recorded message, where it was published, and what it must give."""

    preset: str
    sample: str
    topic: str
    source: str
    readings: list[Expected]
    refused: list[str]

    @property
    def payload(self) -> bytes:
        return (DEVICES_DATA / self.sample).read_bytes()


def devices_park() -> Park:
    return load_park(DEVICES_DATA / "park.yaml")


def device_cases() -> list[DeviceCase]:
    """Every case of tests/data/devices/cases.yaml."""
    raw: list[dict[str, Any]] = yaml.safe_load((DEVICES_DATA / "cases.yaml").read_text("utf-8"))
    return [
        DeviceCase(
            case["preset"],
            case["sample"],
            case["topic"],
            case["source"],
            [
                Expected(r["device"], None if r["ts_ms"] == "arrival" else r["ts_ms"], r["values"])
                for r in case["readings"]
            ],
            case.get("refused", []),
        )
        for case in raw
    ]


# -- A small park with a hand-checkable tariff (example figures, the tests' own) ------------------

# Summer (Jul-Sep) weekdays: valley 0-8, peak 8-11, sharp 11-13, peak 13-19, flat 19-24.
# The rest of the year: weekdays valley 0-8, peak 8-12, flat 12-17, peak 17-21, flat 21-24;
# weekends valley 0-8, flat 8-24; holidays valley 0-10, deep valley 10-14, flat 14-24.
# Version 2 (from 2026-11-16) raises prices and the demand price.
TARIFFS = """
tariffs:
  currency: CNY
  calendar: {{holidays: [2026-10-01], workdays: [2026-10-10]}}
  versions:
    - valid_from: 2026-01-01
      source: "tests: example figures"
      example: true
      bands: {{sharp: 1.5, peak: 1.2, flat: 0.7, valley: 0.3, deep_valley: 0.15}}
      seasons:
        - name: summer
          months: [7, 8, 9]
          weekday:
            - {{from: "00:00", to: "08:00", band: valley}}
            - {{from: "08:00", to: "11:00", band: peak}}
            - {{from: "11:00", to: "13:00", band: sharp}}
            - {{from: "13:00", to: "19:00", band: peak}}
            - {{from: "19:00", to: "24:00", band: flat}}
        - name: rest
          months: [1, 2, 3, 4, 5, 6, 10, 11, 12]
          weekday: &rest
            - {{from: "00:00", to: "08:00", band: valley}}
            - {{from: "08:00", to: "12:00", band: peak}}
            - {{from: "12:00", to: "17:00", band: flat}}
            - {{from: "17:00", to: "21:00", band: peak}}
            - {{from: "21:00", to: "24:00", band: flat}}
          weekend: &weekend
            - {{from: "00:00", to: "08:00", band: valley}}
            - {{from: "08:00", to: "24:00", band: flat}}
          holiday:
            - {{from: "00:00", to: "10:00", band: valley}}
            - {{from: "10:00", to: "14:00", band: deep_valley}}
            - {{from: "14:00", to: "24:00", band: flat}}
          prices: {{peak: 1.1}}
      basic: {{kind: demand, price_yuan_per_kw_month: 40, contracted_kw: {{main: 100}}}}
      feed_in_yuan_per_kwh: 0.4
      gas_yuan_per_m3: 3.5
      heat_yuan_per_gj: 80
      green_certificate_yuan: 5
      green_power_premium_yuan_per_kwh: 0.03
      carbon_yuan_per_t: {carbon}
    - valid_from: 2026-11-16
      source: "tests: example revision"
      example: true
      bands: {{sharp: 1.6, peak: 1.25, flat: 0.75, valley: 0.35, deep_valley: 0.2}}
      seasons:
        - {{name: all, months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], weekday: *rest,
           weekend: *weekend}}
      basic: {{kind: demand, price_yuan_per_kw_month: 45, contracted_kw: {{main: 100}}}}
      feed_in_yuan_per_kwh: 0.4
      gas_yuan_per_m3: 3.5
"""


def tariff_park(park_id: str = "tariffed", carbon: float = 0) -> Park:
    """The small park (tests/small_park.py) with the tariffs above."""
    text = SMALL_PARK.format(park_id=park_id) + TARIFFS.format(carbon=carbon)
    return parse_park(text, "tariff_park")


def steady(
    device: str, quantity: str, kw: float, start: str, end: str, step_min: int = 15
) -> Iterator[Reading]:
    """Counter readings of a constant ``kw`` (or m3/h...) from ``start`` to ``end``, counting
    from zero at ``start``."""
    t0, t1 = local_ms(start), local_ms(end)
    step = step_min * 60_000
    for t in range(t0, t1 + 1, step):
        yield Reading(device, t, {quantity: kw * (t - t0) / 3_600_000})


# -- MQTT packets: the wire's framing without a socket, a stream of every packet kind --------------
# (tests/test_wire_conformance.py and the fuzz target tests/fuzz/fuzz_wire.py)


def packet(first: int, body: bytes) -> bytes:
    """A packet from its first byte and body."""
    return bytes((first,)) + encode_varint(len(body)) + body


class WireReader(MqttConnection):
    """The connection's framing (``data_received``) with the subscriber's decoder, no socket;
    made inside a running event loop."""

    def __init__(self, limits: InboundLimits) -> None:
        super().__init__()
        self.limits = limits
        self.messages: list[Message] = []
        self.packets: list[InboundPacket] = []
        self.qos2: set[int] = set()
        self.most_buffered = 0

    def _consume(self, data: bytes) -> int:
        return decode_inbound(data, self.messages, self.packets, self.qos2, self.limits)

    def feed(self, reads: list[bytes]) -> None:
        """Hand over each read as the socket would; stop at the first error (kept)."""
        for data in reads:
            self.data_received(data)
            self.most_buffered = max(self.most_buffered, self._buffered)
            if self._error is not None:
                return


def mixed_stream() -> bytes:
    """Every kind of packet a subscribing client reads, with properties written by paho: CONNACK,
    SUBACK, PUBLISH at QoS 0, 1 (properties, setting a topic alias) and 2 (by that alias, DUP),
    a retained one, PUBACK, PUBREL, PINGRESP and DISCONNECT."""
    props = Properties(PacketTypes.PUBLISH)
    props.PayloadFormatIndicator = 1
    props.ContentType = "application/json"
    props.UserProperty = [("site", "北区"), ("k", "v")]
    props.MessageExpiryInterval = 60
    props.TopicAlias = 4
    alias_only = Properties(PacketTypes.PUBLISH)
    alias_only.TopicAlias = 4
    connack = Properties(PacketTypes.CONNACK)
    connack.ReceiveMaximum = 10
    return b"".join(
        [
            packet(0x20, b"\x00\x00" + connack.pack()),
            packet(0x90, b"\x00\x01\x00\x01"),
            encode_publish(encode_string("a/b"), b"q0", 0),
            packet(0x32, encode_string("parks/p1/m") + b"\x00\x02" + props.pack() + b"{}"),
            packet(0x3C, encode_string("") + b"\x00\x03" + alias_only.pack() + b"x" * 300),
            packet(0x31, encode_string("r") + b"\x00" + b"retained"),
            encode_ack(PUBACK, 1),
            encode_ack(PUBREL | 2, 3),
            b"\xd0\x00",
            packet(0xE0, b"\x00\x00"),
        ]
    )


# -- What-if: a small park with two known days of readings -----------------------------------------

WHATIF_PARK = """
schema_version: 1
park:
  id: {park_id}
  name: What-if park
  timezone: Asia/Shanghai
  location: {{latitude: 31.23, longitude: 121.47}}
zones:
  - {{id: prod, name: Production, type: production}}
buildings:
  - {{id: plant, name: Plant, zone: prod, use: factory, floor_area_m2: 10000,
     occupant_capacity: 100}}
  - {{id: office, name: Office, zone: prod, use: office, floor_area_m2: 2000,
     occupant_capacity: 80}}
enterprises:
  - {{id: acme, name: ACME, industry: machinery, land_area_mu: 30, buildings: [plant]}}
devices:
  - {{id: main, kind: grid_main_meter, zone: prod, interval_s: 900}}
  - {{id: m-plant, kind: sub_meter, building: plant, enterprise: acme, interval_s: 900}}
  - {{id: m-office, kind: sub_meter, building: office, interval_s: 900}}
  - {{id: gas-plant, kind: gas_meter, building: plant, enterprise: acme, interval_s: 900}}
"""

# The known days (Asia/Shanghai): 2025-03-20 (the equinox) and 2025-03-21. The plant draws
# 400 kW, the office 100 kW and the plant burns 50 m3 of gas an hour, all day; from 10:00 to
# 11:00 on the first day the plant draws 900 kW, the month's peak (1,000 kW from the grid).
WHATIF_FROM = "2025-03-20T00:00"
WHATIF_HOURS = 48
WHATIF_PEAK_HOUR = 10
PLANT_KW, OFFICE_KW, PEAK_PLANT_KW, GAS_M3_H = 400.0, 100.0, 900.0, 50.0


def whatif_park(park_id: str) -> Park:
    return parse_park(WHATIF_PARK.format(park_id=park_id), "whatif_park")


def whatif_readings() -> list[Reading]:
    """A reading of every meter each 15 minutes over the known days (counters from 1,000)."""
    start = local_ms(WHATIF_FROM)
    step_ms = 900_000
    totals = {"import": 1000.0, "plant": 1000.0, "office": 1000.0, "gas": 1000.0}
    readings = []
    for k in range(WHATIF_HOURS * 4 + 1):
        ts = start + k * step_ms
        if k:
            hour = (k - 1) // 4  # the quarter hour that just ended
            plant = PEAK_PLANT_KW if hour == WHATIF_PEAK_HOUR else PLANT_KW
            totals["plant"] += plant / 4
            totals["office"] += OFFICE_KW / 4
            totals["import"] += (plant + OFFICE_KW) / 4
            totals["gas"] += GAS_M3_H / 4
        readings += [
            Reading("main", ts, {"energy_import_kwh": totals["import"], "energy_export_kwh": 5.0}),
            Reading("m-plant", ts, {"energy_kwh": totals["plant"]}),
            Reading("m-office", ts, {"energy_kwh": totals["office"]}),
            Reading("gas-plant", ts, {"gas_m3": totals["gas"]}),
        ]
    return readings


def store_in_influxdb(database: InfluxDatabase, park: Park, readings: list[Reading]) -> None:
    """Write readings as the collectors tag them, straight to InfluxDB 1.x's /write."""
    body = "\n".join(render(series_keys(park), readings)).encode()
    http_request(f"{database.url}/write?db={database.name}&precision=ms", data=body)


# The what-if park with a two-band tariff and a demand charge (test figures, not a real tariff).
WHATIF_TARIFFS = """
tariffs:
  currency: CNY
  versions:
    - valid_from: 2025-01-01
      source: "test tariff"
      example: true
      bands: {peak: 1.0, valley: 0.4}
      seasons:
        - name: all year
          months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
          weekday:
            - {from: "00:00", to: "08:00", band: valley}
            - {from: "08:00", to: "24:00", band: peak}
      basic: {kind: demand, price_yuan_per_kw_month: 40, contracted_kw: {main: 800}}
      gas_yuan_per_m3: 3.0
      green_certificate_yuan: 5
"""


def priced_whatif_park(park_id: str) -> Park:
    return parse_park(WHATIF_PARK.format(park_id=park_id) + WHATIF_TARIFFS, "whatif_park")


# -- Sparkplug B: a park with one edge node (gw1) and two devices behind it -----------------------

SPARKPLUG_LIMITS = Limits(
    max_payload_bytes=65_536, earliest_ts_ms=0, max_future_ms=10 * 365 * 86_400_000
)

SPARKPLUG_PARK = """
park: {{id: {park_id}, name: P, timezone: Asia/Shanghai, location: {{latitude: 0, longitude: 0}}}}
zones: [{{id: z, name: Z, type: production}}]
buildings:
  - {{id: b, name: B, zone: z, use: factory, floor_area_m2: 100, occupant_capacity: 5}}
devices:
  - {{id: main, kind: grid_main_meter, zone: z, interval_s: 60}}
  - {{id: m-line, kind: sub_meter, building: b, interval_s: 60}}
  - {{id: m-press, kind: sub_meter, building: b, interval_s: 60}}
sparkplug:
  - group: {group}
    devices: {{gw1/line: m-line, gw1/press: m-press}}
    values:
      energy_kwh: {{metric: Energy/Total}}
      power_kw: {{metric: Power/Active, scale: 0.001}}   # the meter sends W
"""


# The native message shortcuts (the collector's lines, the twin's readings) and their general
# paths are tested on the same messages: a usual message each takes, bad ones each leaves to
# the general path (with the reason it refuses them), unusual good ones it leaves too.
SHORTCUT_NOW_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
SHORTCUT_LIMITS = Limits(
    max_payload_bytes=2048, earliest_ts_ms=946_684_800_000, max_future_ms=300_000
)


def native_body(**fields: object) -> bytes:
    """A usual native message of a sub-meter, with ``fields`` changed or added."""
    return orjson.dumps({"v": 1, "ts": SHORTCUT_NOW_MS, "values": {"energy_kwh": 10.5}} | fields)


def usual_native_payloads() -> list[bytes]:
    """Messages a shortcut must take and make what the general path makes of them."""
    now = SHORTCUT_NOW_MS
    return [
        native_body(),
        native_body(seq=7),
        native_body(values={"energy_kwh": 10, "power_kw": 2.5}),  # an integer: a float stored
        native_body(values={"power_kw": 0.1 + 0.2, "energy_kwh": 1e-7}),  # another order
        orjson.dumps({"ts": now, "values": {"energy_kwh": 1.0}}),  # v is optional
        orjson.dumps({"values": {"power_kw": 3.0}, "seq": 1, "ts": now, "v": 1}),
        native_body(ts=now + 300_000),  # the latest time allowed
        native_body(ts=946_684_800_000),  # the earliest
        native_body(seq=None),
    ]


def bad_native_messages(park_id: str) -> list[tuple[str, bytes, str]]:
    """(topic, payload, reason) of bad messages a shortcut must leave to the general path,
    which refuses them for that reason ("": a repeated key, whatever the wording)."""
    meter, body, now = topics.telemetry(park_id, "fab-em"), native_body, SHORTCUT_NOW_MS
    return [
        (meter, body(v=2), "bad_version"),
        (meter, body(v=True), "bad_version"),
        (meter, body(v=1.0), "bad_version"),
        (meter, body(ts=True), "bad_timestamp"),
        (meter, orjson.dumps({"v": 1, "values": {"energy_kwh": 1.0}}), "bad_schema"),
        (meter, body(ts=now + 300_001), "timestamp_out_of_window"),
        (meter, body(ts=946_684_799_999), "timestamp_out_of_window"),
        (meter, body(values={}), "bad_schema"),
        (meter, body(values=[1]), "bad_schema"),
        (meter, body(values={"energy_kwh": True}), "bad_value"),
        (meter, body(values={"energy_kwh": "1"}), "bad_value"),
        (meter, body(values={"energy_kwh": -1.0}), "out_of_range"),
        (
            meter,
            b'{"ts":1767225600000,"values":{"energy_kwh":123456789012345678901234567890}}',
            "out_of_range",
        ),  # beyond int64: orjson reads a float
        (meter, body(values={"co2_ppm": 400.0}), "quantity_not_for_kind"),
        (meter, body(values={"nonsense_kwh": 1.0}), "unknown_quantity"),
        (meter, body(seq=1.5), "bad_schema"),
        (meter, body(seq=True), "bad_schema"),
        (meter, b'{"v":1,"ts":1767225600000,"values":{"energy_kwh":1.0,"energy_kwh":2.0}}', ""),
        (meter, b'{"v":1,"v":1,"ts":1767225600000,"values":{"energy_kwh":1.0}}', ""),
        (meter, b'{"v":1,"ts":', "malformed_json"),
        (meter, b"\xff\xfe{}", "not_utf8"),
        (meter, b"[1, 2]", "bad_schema"),
        (meter, b"42", "bad_schema"),
        (meter, b" " * 2049, "too_large"),
        (topics.telemetry(park_id, "nobody"), body(), "unknown_device"),
        (topics.telemetry("other", "fab-em"), body(), "wrong_park"),
        (f"parks/{park_id}/devices/fab-em/status", body(), "bad_topic"),
    ]


def unusual_good_native_payloads() -> list[bytes]:
    """Good messages a shortcut leaves to the general path, which accepts them."""
    body = native_body
    return [
        body(ts="2026-01-01T08:00:00+08:00"),  # RFC 3339 text: colons inside a string
        body(ts=float(SHORTCUT_NOW_MS)),
        body(note="a: b"),  # an extra key with a colon in its text
        body(extra={"nested": 1}),  # an object elsewhere: more keys than counted
        orjson.dumps(
            [
                {
                    "bn": "urn:dev:fab-em:",
                    "bt": SHORTCUT_NOW_MS / 1000,
                    "n": "power",
                    "u": "W",
                    "v": 2500,
                }
            ]
        ),
    ]
