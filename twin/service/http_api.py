"""The twin's read-only HTTP API: state, KPIs, enterprises, health and service metrics.

It binds to loopback unless told otherwise, and takes an optional bearer token (all routes but
``/healthz``). Nothing can be changed through it: its own routes are GET, and routes that
programs add (reports, what-if) read and compute, never change the twin.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import orjson
from aiohttp import web
from prometheus_client import CollectorRegistry

from parktwin.config import ApiSettings
from parktwin.metrics import render
from twin.service.live_plan import LivePlanSource, add_live_plan_routes
from twin.state.snapshot import plain

MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


class ApiSource(Protocol):
    """What the API shows; the twin service provides it."""

    def state(self) -> dict[str, Any] | None: ...

    def state_body(self, section: str | None = None) -> bytes | None:
        """The state (or one section of it) as JSON, None before the first tick."""
        ...

    def health(self) -> dict[str, Any]: ...


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY),
        status=status,
        content_type="application/json",
    )


def _section(source: ApiSource, key: str | None) -> web.Response:
    """The state (``key`` None) or one section of it, as the source serialised it this tick."""
    body = source.state_body(key)
    if body is None:
        return _json({"error": "the twin has no state yet"}, status=503)
    return web.Response(body=body, content_type="application/json")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_app(source: ApiSource, registry: CollectorRegistry, token: str | None) -> web.Application:
    """The aiohttp application; ``token`` (if set) is required as ``Authorization: Bearer``."""

    @web.middleware
    async def authorise(request: web.Request, handler: Handler) -> web.StreamResponse:
        if token is not None and request.path != "/healthz":
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return _json({"error": "unauthorised"}, status=401)
        return await handler(request)

    async def health(_: web.Request) -> web.Response:
        report = source.health()
        # "error" (the service cannot deliver its output) fails a health check; "degraded"
        # (reconnecting) does not.
        return _json(report, status=503 if report.get("status") == "error" else 200)

    async def state(_: web.Request) -> web.Response:
        return _section(source, None)

    async def kpis(_: web.Request) -> web.Response:
        return _section(source, "kpis")

    async def enterprises(_: web.Request) -> web.Response:
        return _section(source, "enterprises")

    async def costs(_: web.Request) -> web.Response:
        return _section(source, "costs")

    async def bills(request: web.Request) -> web.Response:
        make = getattr(source, "bills", None)
        month = request.query.get("month", "")
        if make is None or not MONTH.fullmatch(month):
            return _json({"error": "give ?month=YYYY-MM"}, status=400)
        found = make(month)
        if found is None:
            return _json({"error": f"no costs kept for {month} (or no tariffs)"}, status=404)
        return _json(plain(found))

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=render(registry), content_type="text/plain", charset="utf-8")

    app = web.Application(middlewares=[authorise])
    app.router.add_get("/healthz", health)
    app.router.add_get("/api/state", state)
    app.router.add_get("/api/kpis", kpis)
    app.router.add_get("/api/enterprises", enterprises)
    app.router.add_get("/api/costs", costs)
    app.router.add_get("/api/bills", bills)
    app.router.add_get("/metrics", metrics)
    if isinstance(source, LivePlanSource):  # the live plan, for sources that know their park
        add_live_plan_routes(app, source)
    return app


async def serve(app: web.Application, settings: ApiSettings) -> web.AppRunner:
    """Start serving; the caller cleans up with ``await runner.cleanup()``."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    return runner
