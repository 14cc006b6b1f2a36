"""The twin view: a live plan of the park in the browser, served next to the twin's HTTP API.

``/`` serves ``twin/service/static/index.html`` (no build step), ``/api/plan`` the park's
geometry from the park file, ``/api/events`` a server-sent-events stream with the KPI summary,
each building's live figures, the active alerts (as the program that attached the alerts shows
them) and where readings are stored, one event per twin tick, and ``/api/trends`` the days and
months the twin holds (history included) with their trend lines. The figures come from the
twin's state dict only, so the page, ``/api/state`` and the MQTT summary never disagree.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import orjson
from aiohttp import web

from parktwin.contract.quantities import DeviceKind
from parktwin.park.alerts import BudgetRule
from parktwin.park.model import Park

STATIC = Path(__file__).with_name("static")
POLL_S = 0.5  # how often the stream looks for a new tick; ticks are seconds apart
KEEPALIVE_S = 15.0  # a comment line now and then keeps proxies from closing an idle stream
LOAD_KINDS = (DeviceKind.SUB_METER, DeviceKind.EV_CHARGER)


@runtime_checkable
class LivePlanSource(Protocol):
    """What the live plan needs of the twin service: its state, its park and its alerts."""

    park: Park
    storage: str | None  # where readings are stored, in words; None: nowhere

    def state(self) -> dict[str, Any] | None: ...

    def active_alerts(self) -> list[dict[str, Any]]: ...

    def trends(self) -> dict[str, Any]: ...


def plan(park: Park) -> dict[str, Any]:
    """The park's zones and buildings as polygons (metres east/north of the origin)."""
    zones = [
        {"id": z.id, "name": z.name, "name_zh": z.name_zh, "type": z.type.value,
         "outline": z.outline_m}
        for z in park.zones
    ]  # fmt: skip
    buildings = [
        {
            "id": b.id,
            "name": b.name,
            "name_zh": b.name_zh,
            "zone": b.zone,
            "use": b.use.value,
            "floor_area_m2": b.floor_area_m2,
            "capacity": b.occupant_capacity,
            "outline": b.outline_m,
        }
        for b in park.buildings
    ]
    outlines = [z.outline_m or [] for z in park.zones] + [b.outline_m or [] for b in park.buildings]
    points = [p for outline in outlines for p in outline]
    xs, ys = [p[0] for p in points] or [0.0], [p[1] for p in points] or [0.0]
    return {
        "park": {"id": park.park.id, "name": park.park.name, "name_zh": park.park.name_zh},
        "bounds": {"min_x": min(xs), "min_y": min(ys), "max_x": max(xs), "max_y": max(ys)},
        "zones": zones,
        "buildings": buildings,
    }


def _load_meters(park: Park) -> dict[str, list[str]]:
    """Per building, its electricity meters that no other meter of the building already counts."""
    by_building: dict[str, list[str]] = {}
    for device in park.devices:
        if device.building is None or device.kind not in LOAD_KINDS:
            continue
        parent = park.devices_by_id.get(device.parent) if device.parent else None
        if parent is not None and parent.building == device.building:
            continue
        by_building.setdefault(device.building, []).append(device.id)
    return by_building


def building_figures(park: Park, state: dict[str, Any]) -> list[dict[str, Any]]:
    """Each building's live figures from a twin state dict: power now, energy today, people."""
    channels = state.get("channels") or {"keys": [], "value": []}
    latest = dict(zip(channels["keys"], channels["value"], strict=True))
    day = (state.get("periods") or {}).get("day") or {}
    today = {row["id"]: row for row in day.get("buildings") or []}
    people = {row["building"]: row for row in (state.get("occupancy") or {}).get("buildings", [])}
    meters = _load_meters(park)
    figures = []
    for building in park.buildings:
        powers = [latest.get(f"{m}|power_kw") for m in meters.get(building.id, [])]
        known = [p for p in powers if p is not None]
        used = today.get(building.id) or {}
        present = people.get(building.id) or {}
        figures.append(
            {
                "id": building.id,
                "power_kw": sum(known) if known else None,
                "electricity_kwh_day": used.get("electricity_kwh"),
                "pv_kwh_day": used.get("pv_kwh"),
                "persons": present.get("persons"),
                "capacity": building.occupant_capacity,
                "utilisation_pct": present.get("utilisation_pct"),
                "kwh_per_person_hour": present.get("kwh_per_person_hour"),
            }
        )
    return figures


def day_budget_kwh(park: Park) -> float | None:
    """The park's daily energy budget, from its budget alert rule; None when it has none."""
    for rule in park.alerts.rules:
        if isinstance(rule, BudgetRule) and rule.place == "park" and rule.period == "day":
            return rule.budget_kwh
    return None


def live_event(source: LivePlanSource, state: dict[str, Any]) -> dict[str, Any]:
    """One tick for the page: KPI summary, buildings, alerts and the day's budget."""
    return {
        "kpis": state.get("kpis"),
        "buildings": building_figures(source.park, state),
        "alerts": source.active_alerts(),
        "budget_kwh_day": day_budget_kwh(source.park),
        "storage": source.storage,
    }


def _sse(event: dict[str, Any]) -> bytes:
    body = orjson.dumps(event, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)
    return b"event: tick\ndata: " + body + b"\n\n"


def add_live_plan_routes(app: web.Application, source: LivePlanSource) -> None:
    """Add the page, its static files, ``/api/plan`` and ``/api/events`` to the twin's API."""
    geometry = plan(source.park)
    # Open streams would hold the server's shutdown up to its timeout: end them at shutdown.
    closing = asyncio.Event()

    async def on_shutdown(_: web.Application) -> None:
        closing.set()

    async def index(_: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def plan_route(_: web.Request) -> web.Response:
        return web.json_response(geometry, dumps=lambda o: orjson.dumps(o).decode())

    async def trends_route(_: web.Request) -> web.Response:
        return web.json_response(source.trends(), dumps=lambda o: orjson.dumps(o).decode())

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        sent: dict[str, Any] | None = None
        idle = 0.0
        # A client that goes away raises on write; the server cancels us on shutdown.
        with contextlib.suppress(ConnectionResetError):
            while not closing.is_set():
                state = source.state()
                if state is not None and state is not sent:
                    await response.write(_sse(live_event(source, state)))
                    sent, idle = state, 0.0
                elif idle >= KEEPALIVE_S:
                    await response.write(b": keep-alive\n\n")
                    idle = 0.0
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(POLL_S):
                        await closing.wait()
                idle += POLL_S
        return response

    app.on_shutdown.append(on_shutdown)
    app.router.add_get("/", index)
    app.router.add_get("/api/plan", plan_route)
    app.router.add_get("/api/events", events)
    app.router.add_get("/api/trends", trends_route)
    app.router.add_static("/static/", STATIC)
