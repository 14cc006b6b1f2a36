"""``/api/what-if`` on the twin's HTTP API: run stored or posted scenarios over the park's history.

The routes are added by the program that puts the twin and what-if together (the twin knows
nothing of what-if); they sit behind the API's one (read-only) token, which is enough: a run reads
InfluxDB and returns estimates, and changes nothing in the live twin or its KPIs. A run's
counting takes seconds of CPU for a year, so it goes to a thread of its own, one run at a time,
and the twin's event loop keeps ticking.

- ``GET /what-if``: a page of the twin view to pick stored scenarios and see the comparison;
- ``GET /api/what-if``: the stored scenarios (name, file, and problems if invalid for the park);
- ``GET /api/what-if/run?scenario=NAME[&scenario=NAME...]``: run stored scenarios side by side;
- ``POST /api/what-if`` with a scenario's YAML as the body: run it (with ``?scenario=NAME`` to
  compare it with stored ones).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from parktwin.config import InfluxSettings
from parktwin.influx.influxql import QueryError
from parktwin.park.model import Park
from whatif.loader import ScenarioError, ScenarioFile, load_scenario, parse_scenario
from whatif.run import compare

PAGE = Path(__file__).parent / "static" / "whatif.html"
MAX_BODY_BYTES = 64 * 1024  # a scenario is a few lines; anything bigger is a mistake


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS),
        status=status,
        content_type="application/json",
    )


@dataclass
class WhatIfRoutes:
    """What-if routes for one park, over the InfluxDB its twin was rebuilt from."""

    park: Park
    influx: InfluxSettings
    stored: list[Path]
    step_min: int = 60
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def stored_scenarios(self) -> tuple[dict[str, ScenarioFile], list[dict[str, Any]]]:
        """Stored scenarios valid for the park by their file's stem, and a listing of all."""
        valid: dict[str, ScenarioFile] = {}
        listing: list[dict[str, Any]] = []
        for path in self.stored:
            try:
                loaded = load_scenario(path, self.park)
            except ScenarioError as exc:
                listing.append({"id": path.stem, "problems": [str(p) for p in exc.problems]})
                continue
            valid[path.stem] = loaded
            scenario = loaded.scenario
            listing.append(
                {
                    "id": path.stem,
                    "name": scenario.name,
                    "description": scenario.description,
                    "changes": [c.kind for c in scenario.changes],
                }
            )
        return valid, listing

    async def _run(self, scenarios: list[ScenarioFile]) -> web.Response:
        async with self._lock:
            try:
                result = await asyncio.to_thread(
                    asyncio.run, compare(self.influx, self.park, scenarios, self.step_min)
                )
            except ScenarioError as exc:
                return _json({"error": "scenario", "problems": [str(p) for p in exc.problems]}, 400)
            except QueryError as exc:
                return _json({"error": f"InfluxDB: {exc}"}, 502)
        return _json(result.to_dict())

    def _named(self, request: web.Request) -> list[ScenarioFile] | web.Response:
        valid, _ = self.stored_scenarios()
        names = request.query.getall("scenario", [])
        unknown = [n for n in names if n not in valid]
        if unknown:
            return _json(
                {"error": f"no valid stored scenario {unknown}", "stored": list(valid)}, 404
            )
        return [valid[n] for n in names]

    def add_routes(self, app: web.Application) -> None:
        """Add the routes to the twin's HTTP API (called by the twin service as it starts)."""

        async def listing(_: web.Request) -> web.Response:
            found = self.stored_scenarios()[1]
            return _json({"scenarios": found, "label": "results are estimates"})

        async def run_stored(request: web.Request) -> web.Response:
            named = self._named(request)
            if isinstance(named, web.Response):
                return named
            if not named:
                return _json({"error": "name at least one ?scenario="}, 400)
            return await self._run(named)

        async def run_posted(request: web.Request) -> web.Response:
            named = self._named(request)
            if isinstance(named, web.Response):
                return named
            body = await request.content.read(MAX_BODY_BYTES + 1)
            if len(body) > MAX_BODY_BYTES:
                return _json({"error": f"a scenario is at most {MAX_BODY_BYTES} bytes"}, 413)
            try:
                posted = parse_scenario(body.decode("utf-8"), "posted scenario", self.park)
            except UnicodeDecodeError:
                return _json({"error": "the body must be a scenario's YAML in UTF-8"}, 400)
            except ScenarioError as exc:
                return _json({"error": "scenario", "problems": [str(p) for p in exc.problems]}, 400)
            return await self._run([posted, *named])

        async def page(_: web.Request) -> web.FileResponse:
            return web.FileResponse(PAGE)

        app.router.add_get("/what-if", page)
        app.router.add_get("/api/what-if", listing)
        app.router.add_get("/api/what-if/run", run_stored)
        app.router.add_post("/api/what-if", run_posted)
