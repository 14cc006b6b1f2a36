"""``parktwin demo`` brought up as the README says, watched in real headless Chromium: the plan
shows every building of the park with live figures, the KPI tiles fill and keep changing, the
labels switch to Chinese, and Ctrl-C stops the demo with every published reading received."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import require_binary
from helpers import FINAL, VIEW_URL, DemoRun, Page, chromium_page

from parktwin.park.bundled import demo_park_path
from parktwin.park.loader import load_park

pytestmark = pytest.mark.integration

SCREENSHOT = Path(__file__).parent.parent / "docs" / "img" / "twin-view.png"
PAGE_STATE = """!document.getElementById("sim-time") ? "{}" : JSON.stringify({
  ticks: Number(document.body.dataset.ticks),
  time: document.getElementById("sim-time").textContent,
  power: Object.fromEntries([...document.querySelectorAll("#plan [data-building]")]
    .map((e) => [e.dataset.building, e.dataset.power || null])),
  rows: document.querySelectorAll("#buildings tbody tr").length,
  grid: document.querySelector("#kpi-grid-power .value").textContent,
  energy: document.querySelector("#kpi-energy-today .value").textContent,
  persons: document.querySelector("#kpi-persons .value").textContent,
  cost: document.querySelector("#kpi-cost-today .value").textContent,
})"""


async def page_state(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(await page.evaluate(PAGE_STATE))
    return state


async def wait_for_page(page: Page, condition: Any, timeout_s: float = 60) -> dict[str, Any]:
    state: dict[str, Any] = {}
    try:
        async with asyncio.timeout(timeout_s):
            while not condition(state := await page_state(page)):
                await asyncio.sleep(0.5)
    except TimeoutError:
        raise AssertionError(f"the page never got there; it shows {state}") from None
    return state


async def test_the_demo_shows_every_building_live_in_a_browser(tmp_path: Path) -> None:
    require_binary("mosquitto")  # the demo's embedded broker
    require_binary("influxd")  # and its embedded database
    park = load_park(demo_park_path())
    buildings = {b.id for b in park.buildings}
    demo = DemoRun(tmp_path / "state", ["--speed", "600"]).start()
    try:
        url = (await asyncio.to_thread(demo.wait_for, VIEW_URL, 60)).group(1)
        assert any(
            line.startswith("storage: readings and KPIs go to embedded InfluxDB")
            for line in demo.lines
        ), demo.output()
        await asyncio.to_thread(demo.wait_for, re.compile(r"cost today: [\d,]+ CNY"), 60)
        async with chromium_page(tmp_path, url) as page:
            first = await wait_for_page(
                page,
                lambda s: s and s["ticks"] >= 1 and all(s["power"].get(b) for b in buildings),
            )
            assert set(first["power"]) == buildings
            assert first["rows"] == len(buildings)
            assert "—" not in (first["grid"], first["energy"], first["persons"], first["cost"])
            assert first["cost"].endswith("CNY")  # today's cost at the demo's example tariff

            later = await wait_for_page(
                page, lambda s: s["ticks"] >= first["ticks"] + 2 and s["time"] != first["time"]
            )
            assert later["energy"] != first["energy"]  # the day's energy keeps adding up
            assert later["power"] != first["power"]

            await page.evaluate('document.getElementById("toggle-lang").click()')
            assert await page.evaluate(
                'document.querySelector("#kpi-grid-power h2").textContent'
            ) == ("电网功率")
            assert await page.evaluate('document.getElementById("park-name").textContent') == (
                park.park.name_zh
            )
            await page.evaluate('document.getElementById("toggle-lang").click()')
            await page.evaluate('document.getElementById("toggle-colour").click()')
            assert await page.evaluate("document.body.dataset.colour") == "occupancy"
            await page.evaluate('document.getElementById("toggle-colour").click()')

            shot = tmp_path / "twin-view.png"
            await page.screenshot(shot, 1440, 900)
            assert shot.read_bytes().startswith(b"\x89PNG")
            if os.environ.get("PARKTWIN_UPDATE_SCREENSHOT"):  # the README's picture
                shutil.copyfile(shot, SCREENSHOT)
        assert await asyncio.to_thread(demo.interrupt) == 0, demo.output()
        final = demo.last(FINAL)
        assert int(final.group(3)) > 0
        # published == received == stored
        assert final.group(3) == final.group(4) == final.group(5), demo.output()
    finally:
        demo.stop()


HISTORY_STATE = """!document.getElementById("trend-chart") ? "{}" : JSON.stringify({
  ticks: Number(document.body.dataset.ticks),
  storage: document.getElementById("storage").textContent,
  bars: Number(document.getElementById("trend-chart").dataset.bars || 0),
  trend: document.getElementById("trend-chart").dataset.trend || "",
  partial: document.querySelectorAll("#trend-chart .bar-used.partial").length,
  open: document.querySelectorAll("#trend-chart .bar-used.open").length,
  trend_lines: document.querySelectorAll("#trend-chart line.trend").length,
  note: document.getElementById("trend-note").textContent,
})"""


async def history_state(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(await page.evaluate(HISTORY_STATE))
    return state


async def test_a_demo_with_history_shows_its_days_months_trend_and_storage(
    tmp_path: Path,
) -> None:
    require_binary("mosquitto")
    require_binary("influxd")
    demo = DemoRun(tmp_path / "state", ["--speed", "60", "--history", "8d"]).start()
    try:
        url = (await asyncio.to_thread(demo.wait_for, VIEW_URL, 240)).group(1)
        async with chromium_page(tmp_path, url) as page:
            try:
                async with asyncio.timeout(60):
                    while not (month := await history_state(page)).get("bars"):
                        await asyncio.sleep(0.5)
            except TimeoutError:
                raise AssertionError(f"no history drawn: {month}") from None
            assert month["storage"].startswith("embedded InfluxDB http://127.0.0.1:")
            # Eight days of history and today: the oldest is marked (it may have begun before
            # the data), today is still open, the seven days between carry the trend line.
            assert month["bars"] == 9, month
            assert (month["partial"], month["open"], month["trend_lines"]) == (1, 1, 1), month
            float(month["trend"])  # a number: the slope, % a day
            assert "over 7 whole days" in month["note"], month

            await page.evaluate('document.getElementById("span-year").click()')
            year = await history_state(page)
            months = {day.month for day in history_days()}
            assert year["bars"] == len(months), year
            assert year["trend_lines"] == 0 and "three whole months" in year["note"], year

            shot = tmp_path / "twin-view-history.png"
            await page.screenshot(shot, 1440, 1300)
            assert shot.read_bytes().startswith(b"\x89PNG")
        assert await asyncio.to_thread(demo.interrupt) == 0, demo.output()
        final = demo.last(FINAL)
        assert final.group(3) == final.group(4) == final.group(5), demo.output()
    finally:
        demo.stop()


def history_days() -> list[datetime]:
    """Every day of the demo's eight days of history and today, as local midnights."""
    park = load_park(demo_park_path())
    today = datetime.now(park.timezone).replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - timedelta(days=n) for n in range(9)]
