"""Every panel, variable and annotation query of every dashboard, expanded as Grafana expands
it, answers with data from a real InfluxDB filled by the simulator, the collector and the twin."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import InfluxDatabase, Mosquitto, http_request
from helpers import FINAL, DemoRun, wait_until

from collectors.service import Collector
from dashboards.catalogue import dashboard_json, dashboards
from dashboards.expand import ALL, TimeRange, expand
from dashboards.influxql import Select
from parktwin.config import load_settings
from parktwin.contract import topics
from parktwin.mqtt import make_client
from parktwin.park.bundled import demo_park_path
from parktwin.park.loader import load_park
from simulators.run import SimulatorOptions, run_simulator
from twin.service.service import TwinService

pytestmark = pytest.mark.integration

# Ten simulated hours across a month's end: PV in the afternoon, a complete month (February) for
# carbon-neutral progress, a new day and month after midnight.
START = datetime.fromisoformat("2026-02-28T16:00:00+08:00")
HOURS = 10
START_MS = int(START.timestamp() * 1000)
END_MS = START_MS + HOURS * 3_600_000
# The demo park carries a carbon target and each enterprise's finances; monthly inputs add
# what no sensor measures.
MONTHLY_INPUTS = {
    "solid_waste_generated_t": 500,
    "solid_waste_utilised_t": 430,
    "waste_heat_available_gj": 900,
    "waste_heat_recovered_gj": 520,
    "industrial_water_use_m3": 40000,
    "industrial_water_reused_m3": 33000,
    "products": [
        {
            "enterprise": "jinlun",
            "product": "castings",
            "output_units": 1000,
            "energy_tce": 300,
            "quota_kgce_per_unit": 350,
        }
    ],
}
# Issue #4's alerts: a rule that fired and resolved, and one still firing.
ALERT_LINES = (
    "alerts,park=mingxi,place=park,rule=peak_demand,severity=critical,state=firing"
    f' summary="Grid demand above the limit" {START_MS + 3_600_000}\n'
    "alerts,park=mingxi,place=park,rule=peak_demand,severity=critical,state=resolved"
    f' summary="Grid demand back below the limit" {START_MS + 4_000_000}\n'
    "alerts,park=mingxi,place=jl-f1,rule=device_offline,severity=warning,state=firing"
    f' summary="m-jl-f1 sends nothing" {START_MS + 5_000_000}\n'
)


async def fill(mosquitto: Mosquitto, db: InfluxDatabase, folder: Path) -> None:
    """Simulate the park into InfluxDB through the collector, with the twin writing its KPIs."""
    park = load_park(demo_park_path())
    settings = load_settings(
        None,
        mqtt__port=mosquitto.port,
        influx__url=db.url,
        influx__database=db.name,
        spool__folder=folder / "spool",
        twin__checkpoint_folder=folder / "twin",
        twin__tick_s=0.3,
        twin__rebuild_from_history=False,
        collector__max_future_s=1e9,
        api__port=0,
    )
    async with make_client(settings.mqtt, "inputs") as client:
        for month in ("2026-02", "2026-03"):
            document = orjson.dumps({"month": month, **MONTHLY_INPUTS})
            await client.publish(
                topics.monthly_inputs(park.park.id, month), document, qos=1, retain=True
            )
    collector, twin = Collector(park, settings), TwinService(park, settings)
    stop = asyncio.Event()
    tasks = [asyncio.create_task(collector.run(stop)), asyncio.create_task(twin.run(stop))]
    try:
        await wait_until(lambda: collector.intake.connected and twin.intake.connected, 30)
        report = await run_simulator(
            SimulatorOptions(
                park=park,
                mqtt=settings.mqtt,
                start=START,
                speed=0,
                simulated_duration_s=HOURS * 3600,
            )
        )
        await wait_until(lambda: collector.stats.readings_written >= report.readings_published, 60)
        await wait_until(lambda: (twin.twin.watermark_ms or 0) >= END_MS - 120_000, 60)
        ticks = twin.stats.ticks
        await wait_until(lambda: twin.stats.ticks > ticks + 1, 30)  # KPIs at the last watermark
    finally:
        stop.set()
        await asyncio.gather(*tasks)


def columns_and_rows(db: InfluxDatabase, query: str) -> list[dict[str, Any]]:
    """The answer's series; an InfluxQL error fails with the query in the message."""
    try:
        return db.query(query)
    except RuntimeError as exc:
        pytest.fail(f"InfluxDB refused {query!r}: {exc}")


def problems_of(db: InfluxDatabase, select: Select, query: str) -> str | None:
    """What is wrong with the answer to one query, or None when it is as the query promises."""
    answer = columns_and_rows(db, query)
    if not answer:
        return f"no series: {query}"
    for one in answer:
        if one["columns"] != ["time", *select.aliases]:
            return f"columns {one['columns']} instead of {select.aliases}: {query}"
        if sorted(one.get("tags") or {}) != sorted(select.tags):  # type: ignore[arg-type]
            return f"tags {one.get('tags')} instead of {select.tags}: {query}"
        if not any(v is not None for row in one["values"] for v in row[1:]):  # type: ignore[union-attr]
            return f"only nulls: {query}"
    return None


FIRING = "\"state\" = 'firing'"
ACTIVE_ALERTS = re.compile(r"^active alerts: (\d+)$")

SELECTIONS: dict[str, dict[str, Any]] = {
    "every zone and building": {"zone": ALL, "building": ALL},
    "two zones, two buildings": {"zone": ["prod-w", "util"], "building": ["jl-f1", "jl-f2"]},
}


def chosen(templating: dict[str, Any], selection: dict[str, Any]) -> dict[str, Any]:
    """The dashboard variables' values: the demo park, the selection, text boxes as given."""
    values = {"park": "mingxi", **selection}
    return values | {n: v["query"] for n, v in templating.items() if v["type"] == "textbox"}


def variable_problems(
    db: InfluxDatabase,
    uid: str,
    templating: dict[str, Any],
    values: dict[str, Any],
    window: TimeRange,
) -> list[str]:
    """Each query variable of a dashboard that has no values to offer."""
    problems = []
    for variable in templating.values():
        if variable["type"] == "query":
            query = expand(variable["query"], templating, values, window)
            if not columns_and_rows(db, query):
                problems.append(f"{uid} variable {variable['name']}: no values")
    return problems


async def test_every_panel_variable_and_annotation_query_answers_with_its_columns(
    mosquitto: Mosquitto, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    started = time.monotonic()
    await fill(mosquitto, influxdb, tmp_path)
    window = TimeRange(START_MS, END_MS)
    boards = list(dashboards())
    # Before any alert exists, the alert queries answer nothing, without an error.
    for _lang, board in boards:
        for annotation in board.annotations:
            query = expand(str(annotation.query), {}, {"park": "mingxi"}, window)
            assert columns_and_rows(influxdb, query) == []
    http_request(f"{influxdb.url}/write?db={influxdb.name}&precision=ms", ALERT_LINES.encode())
    problems: list[str] = []
    checked = 0
    for lang, board in boards:
        templating = {v["name"]: v for v in dashboard_json(board, lang)["templating"]["list"]}
        for name, selection in SELECTIONS.items():
            values = chosen(templating, selection)
            problems += variable_problems(influxdb, board.uid, templating, values, window)
            for annotation in board.annotations:
                query = expand(str(annotation.query), templating, values, window)
                found = problems_of(influxdb, annotation.query, query)
                problems += [f"{board.uid} annotation ({name}): {found}"] if found else []
            for panel in board.panels():
                for target in panel.targets:
                    query = expand(str(target.query), templating, values, window)
                    found = problems_of(influxdb, target.query, query)
                    checked += 1
                    problems += [f"{board.uid} {panel.title!r} ({name}): {found}"] if found else []
    assert not problems, "\n".join(problems)
    assert checked > 100
    assert time.monotonic() - started < 90


async def test_every_panel_answers_with_rows_from_a_demo_with_history(
    influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    # The demo as a user runs it, storing in the test's database: three days of history
    # backfilled, then live for a while.
    env = {"PARKTWIN_INFLUX__URL": influxdb.url, "PARKTWIN_INFLUX__DATABASE": influxdb.name}
    args = ["--history", "3d", "--speed", "600", "--duration", "30"]
    demo = DemoRun(tmp_path / "state", args, env).start()
    try:
        assert await asyncio.to_thread(demo.wait, 240) == 0, demo.output()
    finally:
        demo.stop()
    final = demo.last(FINAL)
    assert final.group(3) == final.group(4) == final.group(5), demo.output()
    live_start = datetime.fromisoformat(final.group(1))
    window = TimeRange(
        int(live_start.timestamp() * 1000) - 3 * 86_400_000,
        int(datetime.fromisoformat(final.group(2)).timestamp() * 1000),
    )
    alerts_fired = demo.last(ACTIVE_ALERTS).group(1) != "0"
    problems: list[str] = []
    checked = 0
    for lang, board in dashboards():
        templating = {v["name"]: v for v in dashboard_json(board, lang)["templating"]["list"]}
        values = chosen(templating, SELECTIONS["every zone and building"])
        problems += variable_problems(influxdb, board.uid, templating, values, window)
        for panel in board.panels():
            for target in panel.targets:
                query = expand(str(target.query), templating, values, window)
                if FIRING in query and not alerts_fired:
                    # The active-alerts table is empty exactly when the demo had none.
                    assert columns_and_rows(influxdb, query) == [], query
                    continue
                found = problems_of(influxdb, target.query, query)
                checked += 1
                problems += [f"{board.uid} {panel.title!r}: {found}"] if found else []
    assert not problems, "\n".join(problems)
    assert checked > 50
