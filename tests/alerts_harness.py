"""Helpers for alert tests: a park with alert rules, and a replay that feeds a twin readings of
a building's electricity minute by minute and hands every snapshot to the alert engine."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from alerts.engine import AlertEngine, AlertEvent
from parktwin.contract.reading import Reading
from parktwin.park.loader import parse_park
from parktwin.park.model import Park
from twin.state.twin import Twin

TZ = ZoneInfo("Asia/Shanghai")
MINUTE = 60_000
HOUR = 3_600_000
DAY = 86_400_000

PARK = """
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
    return parse_park(PARK.format(park_id=park_id, rules=rules), "alert_park")


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
