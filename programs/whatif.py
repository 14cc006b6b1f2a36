"""``parktwin what-if``: run scenario files over the park's stored history and compare them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from parktwin.config import Settings
from parktwin.influx.influxql import QueryError
from parktwin.park.model import Park
from whatif.loader import ScenarioError, ScenarioFile, load_scenario
from whatif.report import as_csv, as_json, table
from whatif.run import Comparison, compare


def load_all(paths: list[Path], park: Park) -> list[ScenarioFile]:
    """Every scenario, or a ScenarioError listing the problems of all of them."""
    loaded, problems = [], []
    for path in paths:
        try:
            loaded.append(load_scenario(path, park))
        except ScenarioError as exc:
            problems += exc.problems
    if problems:
        raise ScenarioError(problems)
    return loaded


def run_what_if(
    park: Park,
    settings: Settings,
    scenarios: list[Path],
    json_out: Path | None,
    csv_out: Path | None,
    step_min: int,
) -> Comparison:
    """Load, run, print the table and write the files asked for; errors exit with code 2."""
    try:
        result = asyncio.run(
            compare(settings.influx, park, load_all(scenarios, park), step_min=step_min)
        )
    except ScenarioError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from None
    except QueryError as exc:
        typer.echo(f"InfluxDB at {settings.influx.url}: {exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(table(result))
    if json_out is not None:
        json_out.write_bytes(as_json(result))
    if csv_out is not None:
        csv_out.write_text(as_csv(result), encoding="utf-8")
    return result
