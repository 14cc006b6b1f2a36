"""Reports inside a running service: made on request (HTTP) and on schedule, one at a time, in a
worker thread with its own event loop, so the twin's loop never waits for a replay or a PDF.

A failed report (bad period, unknown enterprise, no data, InfluxDB down, folder not writable)
is an error for that request or that schedule run only: the service keeps running.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from parktwin.config import Settings
from parktwin.influx.influxql import QueryError
from parktwin.park.model import Park
from parktwin.periods import Calendar
from parktwin.report_settings import ReportSchedule
from reports.build import UnknownEnterpriseError
from reports.make import LANGS, ReportFolderError, ReportRequest, make_report
from reports.period import PeriodError, parse_period
from reports.replay import NoDataError
from reports.schedule import Due, load_state, pending, save_state
from twin.model.inputs import MonthlyInputs
from twin.service.history import latest_event_ms

log = logging.getLogger(__name__)

Inputs = Callable[[], tuple[dict[str, MonthlyInputs], str]]
Announce = Callable[[dict[str, Any]], Awaitable[int]]
NOTICE_VERSION = 1


class ReportService:
    """Makes one park's reports into the configured folder.

    It has the shape of a twin snapshot listener (``on_snapshot``, ``deliver``, ``close``), so a
    program can run its schedules alongside the twin: ``deliver`` makes due reports until it is
    cancelled. ``announce`` (the alert service's, in ``parktwin run``) tells receivers.
    """

    def __init__(
        self, park: Park, settings: Settings, inputs: Inputs, announce: Announce | None = None
    ) -> None:
        self.park = park
        self.settings = settings
        self.folder = settings.reports.folder
        self.inputs = inputs
        self.announce = announce
        self._lock = asyncio.Lock()
        self.made = 0
        self.failed = 0

    async def on_snapshot(self, snapshot: object) -> None:
        """Reports are read from history, not from snapshots: nothing to do."""

    async def deliver(self) -> None:
        """Run the schedules until cancelled (returns at once without any)."""
        await self.run_schedules(self.announce)

    async def close(self) -> None:
        """Nothing is held open between reports."""

    async def make(self, request: ReportRequest) -> list[Path]:
        """Make one report (one at a time); raises what ``make_report`` raises."""
        monthly, source = self.inputs()
        now_ms = int(time.time() * 1000)
        async with self._lock:
            return await asyncio.to_thread(
                asyncio.run,
                make_report(
                    self.settings.influx,
                    self.park,
                    request,
                    self.folder,
                    monthly,
                    source,
                    now_ms,
                ),
            )

    # -- HTTP ---------------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        """``GET /api/reports`` (saved files), ``/api/reports/files/{name}`` (one of them) and
        ``/api/reports/{period}.{format}?lang=en&enterprise=ID`` (made now, then sent)."""
        app.router.add_get("/api/reports", self._list)
        app.router.add_get("/api/reports/files/{name}", self._file)
        app.router.add_get(r"/api/reports/{period}.{format:xlsx|pdf}", self._make)

    async def _list(self, _: web.Request) -> web.Response:
        files = []
        if self.folder.is_dir():
            for path in sorted(self.folder.iterdir()):
                if path.suffix in (".xlsx", ".pdf") and not path.name.startswith("."):
                    stat = path.stat()
                    files.append(
                        {
                            "name": path.name,
                            "bytes": stat.st_size,
                            "modified_s": stat.st_mtime,
                            "url": f"/api/reports/files/{path.name}",
                        }
                    )
        return web.json_response({"folder": str(self.folder), "files": files})

    async def _file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = self.folder / name
        if "/" in name or name.startswith(".") or not path.is_file():
            return web.json_response({"error": f"no report file {name!r}"}, status=404)
        return web.FileResponse(path, headers=_disposition(name))

    async def _make(self, request: web.Request) -> web.StreamResponse:
        fmt = request.match_info["format"]
        lang = request.query.get("lang", "en")
        enterprise = request.query.get("enterprise") or None
        if lang not in LANGS:
            return web.json_response(
                {"error": f"lang {lang!r}: expected one of {', '.join(LANGS)}"}, status=400
            )
        wanted = ReportRequest(request.match_info["period"], enterprise, (lang,), (fmt,))  # type: ignore[arg-type]
        try:
            paths = await self.make(wanted)
        except (PeriodError, UnknownEnterpriseError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except NoDataError as exc:
            return web.json_response({"error": str(exc)}, status=404)
        except QueryError as exc:
            return web.json_response({"error": f"InfluxDB: {exc}"}, status=503)
        except ReportFolderError as exc:
            return web.json_response({"error": str(exc)}, status=500)
        self.made += 1
        return web.FileResponse(paths[0], headers=_disposition(paths[0].name))

    # -- schedules ------------------------------------------------------------------------------

    async def run_schedules(self, announce: Announce | None) -> None:
        """Make due reports until cancelled, checking every ``check_interval_s`` (wall clock)."""
        schedules = self.settings.reports.schedules
        if not schedules:
            return
        while True:
            for schedule in schedules:
                try:
                    await self.run_schedule(schedule, announce)
                except (OSError, QueryError) as exc:
                    log.error("report schedule %s: %s; trying again later", schedule.name, exc)
            await asyncio.sleep(self.settings.reports.check_interval_s)

    async def run_schedule(
        self, schedule: ReportSchedule, announce: Announce | None, now_ms: int | None = None
    ) -> list[Path]:
        """Make every report of ``schedule`` that is due and not yet made; the files made."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        state = await asyncio.to_thread(load_state, self.folder, schedule, now_ms)
        made: list[Path] = []
        for due in pending(schedule, self.park.timezone, state, now_ms):
            if not await self._ready(schedule, due, now_ms):
                break  # later ones wait for this one
            outcome, paths = await self._make_due(schedule, due)
            state.done[due.period] = outcome
            await asyncio.to_thread(save_state, self.folder, schedule, state)
            made += paths
            if paths and announce is not None:
                await announce(self.notice(schedule, due, paths, now_ms))
        return made

    async def _ready(self, schedule: ReportSchedule, due: Due, now_ms: int) -> bool:
        """Stored readings have passed the period's end, or the grace time is over."""
        if now_ms >= due.due_ms + schedule.grace_h * 3_600_000:
            return True
        period = parse_period(due.period, Calendar(self.park.timezone))
        latest = await latest_event_ms(self.settings.influx, self.park)
        return latest is not None and latest >= period.end_ms

    async def _make_due(self, schedule: ReportSchedule, due: Due) -> tuple[str, list[Path]]:
        targets: list[str | None] = [None]
        if schedule.enterprises:
            targets += [e.id for e in self.park.enterprises]
        paths: list[Path] = []
        for enterprise in targets:
            request = ReportRequest(
                due.period, enterprise, tuple(schedule.langs), tuple(schedule.formats)
            )
            try:
                paths += await self.make(request)
                self.made += 1
            except NoDataError as exc:
                log.warning("report %s %s: %s", schedule.name, due.period, exc)
                self.failed += 1
                return "no data", paths
            except (PeriodError, UnknownEnterpriseError) as exc:
                log.error("report %s %s: %s", schedule.name, due.period, exc)
                self.failed += 1
                return f"error: {exc}", paths
        log.info("report %s %s: %d files in %s", schedule.name, due.period, len(paths), self.folder)
        return "made", paths

    def link(self, path: Path) -> str:
        base = self.settings.reports.base_url
        return f"{base.rstrip('/')}/{path.name}" if base else str(path.resolve())

    def notice(
        self, schedule: ReportSchedule, due: Due, paths: list[Path], now_ms: int
    ) -> dict[str, Any]:
        """The announcement every webhook receiver gets (alerts' generic payload fields)."""
        park = self.park.park
        links = [self.link(p) for p in paths]
        return {
            "version": NOTICE_VERSION,
            "kind": "report",
            "state": "report",
            "idempotency_key": f"report-{park.id}-{schedule.name}-{due.period}",
            "fingerprint": f"report-{schedule.name}",
            "rule": schedule.name,
            "severity": "info",
            "park": {"id": park.id, "name": park.name, "timezone": str(park.timezone)},
            "period": due.period,
            "summary": f"{park.name}: report {due.period} ({schedule.name}) is ready",
            "files": [{"name": p.name, "link": link} for p, link in zip(paths, links, strict=True)],
            "at_ms": now_ms,
            "due_ms": due.due_ms,
            "dashboard_url": None,
        }


def _disposition(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}
