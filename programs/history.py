"""``parktwin backfill``, ``parktwin import-csv`` and ``parktwin demo-db``: history in InfluxDB.

Registered on the ``parktwin`` command line by :mod:`programs.cli`.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from parktwin.park.model import Park
from programs.demo import DEFAULT_RESOLUTION_S
from programs.loading import fail, load, setup_logging

SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhw])\s*$")
SPAN_DAYS = {"d": 1.0, "h": 1 / 24, "w": 7.0}


def parse_span_days(text: str) -> float:
    """Days in ``90d``, ``36h`` or ``2w``; ``typer.BadParameter`` otherwise."""
    match = SPAN.match(text)
    if match is None:
        raise typer.BadParameter(f"{text!r}: expected a span such as 90d, 36h or 2w")
    return float(match.group(1)) * SPAN_DAYS[match.group(2)]


def parse_when_ms(text: str, park: Park, option: str) -> int:
    """``now``, a date (the park's local midnight) or an ISO 8601 time, in epoch ms."""
    if text.strip().lower() == "now":
        return round(time.time() * 1000)
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        message = f"{text!r}: expected now, YYYY-MM-DD or ISO 8601"
        raise typer.BadParameter(message, param_hint=option) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=park.timezone)
    return round(when.timestamp() * 1000)


def backfill_command(
    park: Annotated[Path | None, typer.Option("--park", help="Park file (YAML).")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="Settings (TOML).")] = None,
    from_: Annotated[
        str, typer.Option("--from", help="First day (YYYY-MM-DD, park's time) or ISO time.")
    ] = "",
    to: Annotated[str, typer.Option("--to", help="End (exclusive): now, a date, a time.")] = "now",
    seed: Annotated[int, typer.Option(help="The simulator's seed; same seed, same history.")] = 1,
    resolution_s: Annotated[
        float,
        typer.Option(help="Devices report at least this far apart (0: their own intervals)."),
    ] = DEFAULT_RESOLUTION_S,
    influx_url: Annotated[str | None, typer.Option("--influx-url", help="InfluxDB URL.")] = None,
    database: Annotated[str | None, typer.Option("--database", help="v1 database.")] = None,
    log_level: Annotated[str, typer.Option("--log-level")] = "WARNING",
) -> None:
    """Store the simulator's readings of past dates in InfluxDB at full speed, as live ones
    would be stored (same checks, tags and points); running it twice stores nothing twice."""
    from collectors.history import HistoryWriter
    from parktwin.influx.writer import WriteError
    from programs.demo.backfill import backfill, history_simulator
    from programs.demo.progress import progress_bar

    setup_logging(log_level)
    if not from_:
        raise fail("backfill: --from is required (e.g. --from 2026-01-01)")
    loaded, settings = load(park, config, influx__url=influx_url, influx__database=database)
    start_ms = parse_when_ms(from_, loaded, "--from")
    end_ms = parse_when_ms(to, loaded, "--to")
    if end_ms <= start_ms:
        raise fail(f"backfill: --to ({to}) is not after --from ({from_})")

    async def run() -> None:
        history = HistoryWriter(loaded, settings, arrival_ms=round(time.time() * 1000))
        simulator = history_simulator(loaded, start_ms, seed, resolution_s)
        label = f"backfill {loaded.park.id}"
        try:
            with progress_bar(sys.stdout, label, end_ms - start_ms) as done:
                report = await backfill(simulator, history, end_ms, lambda t: done(t - start_ms))
        finally:
            await history.aclose()
        typer.echo(
            f"backfill: {report.readings_stored:,} readings of park {loaded.park.id} from "
            f"{_iso(start_ms, loaded)} to {_iso(end_ms, loaded)} stored in InfluxDB at "
            f"{settings.influx.url} in {report.wall_s:.1f} s"
        )

    try:
        asyncio.run(run())
    except WriteError as exc:
        raise fail(f"backfill: InfluxDB at {settings.influx.url}: {exc}") from None


def import_csv_command(
    csv_file: Annotated[Path, typer.Argument(help="CSV: device,time,quantity,value,unit.")],
    park: Annotated[Path | None, typer.Option("--park", help="Park file (YAML).")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="Settings (TOML).")] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Where rejected rows go, with reasons (default: FILE.rejected.csv)."),
    ] = None,
    influx_url: Annotated[str | None, typer.Option("--influx-url", help="InfluxDB URL.")] = None,
    database: Annotated[str | None, typer.Option("--database", help="v1 database.")] = None,
    log_level: Annotated[str, typer.Option("--log-level")] = "WARNING",
) -> None:
    """Import a park's meter history from CSV through the live readings' checks; rows that fail
    go to a rejects file with line, column and reason. Importing twice stores each point once."""
    from collectors.csv_history import CsvFileError, import_csv
    from collectors.history import HistoryWriter
    from parktwin.influx.writer import WriteError
    from programs.demo.progress import count_bar

    setup_logging(log_level)
    if not csv_file.is_file():
        raise fail(f"import-csv: {csv_file}: no such file")
    loaded, settings = load(park, config, influx__url=influx_url, influx__database=database)
    rejects_file = rejects or csv_file.with_name(f"{csv_file.name}.rejected.csv")

    async def run() -> None:
        history = HistoryWriter(loaded, settings, arrival_ms=round(time.time() * 1000))
        rows = await asyncio.to_thread(_count_rows, csv_file)
        try:
            with count_bar(sys.stdout, f"import {csv_file.name}", rows) as done:
                report = await import_csv(csv_file, history, rejects_file, done)
        finally:
            await history.aclose()
        typer.echo(
            f"import-csv: {report.rows:,} rows, {report.stored:,} stored in InfluxDB at "
            f"{settings.influx.url}, {len(report.rejected):,} rejected"
            + (f" (reasons in {rejects_file})" if report.rejected else "")
        )

    try:
        asyncio.run(run())
    except CsvFileError as exc:
        raise fail(f"import-csv: {exc}") from None
    except WriteError as exc:
        raise fail(f"import-csv: InfluxDB at {settings.influx.url}: {exc}") from None


def demo_db_command(
    state_dir: Annotated[Path, typer.Option("--state-dir", help="The demo's state folder.")] = Path(
        "var/demo"
    ),
    port: Annotated[int, typer.Option(help="Loopback port (busy or 0: any free port).")] = 8086,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
) -> None:
    """Serve the demo's stored readings (its embedded InfluxDB) until Ctrl-C, to query them with
    Debian's ``influx`` or Grafana after the demo has stopped."""
    from programs.demo.database import DatabaseError, embedded_influxdb
    from programs.demo.run import port_or_any
    from programs.demo.storage import influx_command
    from programs.lifecycle import run_until_stopped

    folder = state_dir / "influxdb"
    if not (folder / "meta").is_dir():
        raise fail(f"demo-db: no demo data in {folder}/ (run the demo first)")

    async def serve(stop: asyncio.Event) -> None:
        async with embedded_influxdb(folder, "parktwin", port_or_any("127.0.0.1", port)) as db:
            typer.echo(f"demo-db: InfluxDB {db.url} serves {folder}/ until Ctrl-C; query with:")
            typer.echo(f"  {influx_command(db)}")
            await stop.wait()

    try:
        asyncio.run(run_until_stopped(serve, duration))
    except DatabaseError as exc:
        raise fail(f"demo-db: {exc}") from None


def _count_rows(path: Path) -> int:
    """Lines after the header: the progress bar's total (rows with quoted line breaks count
    more than once, so the bar may end short of it)."""
    with path.open("rb") as handle:
        return max(0, sum(1 for _ in handle) - 1)


def _iso(ts_ms: int, park: Park) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, park.timezone).isoformat(timespec="minutes")
