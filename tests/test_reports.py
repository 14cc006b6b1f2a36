"""Reports: a month of a small park rendered from a fixed replay stored in real InfluxDB 1.x.

The XLSX cells are checked against figures worked out by hand (tests/report_month.py) and
against a twin fed the same readings live; the PDF is turned into PNG pages (pdftoppm) that
must not be blank and into text (pdftotext) that must hold the section headings, in English
and in Chinese. Bad requests get a clear error and leave the service answering.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp import web
from conftest import Mosquitto, StoredMonth, free_port, require_poppler
from matplotlib.image import imread
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from report_month import (
    ACME_BASIC_YUAN,
    ACME_PEAK_KWH,
    ACME_VALLEY_KWH,
    DAY_IMPORT_KWH,
    NOVEMBER_BASIC_YUAN,
    NOVEMBER_GAS_M3,
    NOVEMBER_GAS_YUAN,
    NOVEMBER_IMPORT_KWH,
    NOVEMBER_KWH,
    NOVEMBER_PEAK_KWH,
    NOVEMBER_VALLEY_KWH,
    PEAK_15MIN_KW,
    PEAK_KW,
    TZ,
    november,
    report_park,
)

from parktwin.config import ConfigError, InfluxSettings, Settings, load_settings
from parktwin.park.model import Park
from parktwin.periods import Calendar, Granularity
from parktwin.report_settings import ReportSchedule, ReportSettings
from reports.build import UnknownEnterpriseError, build_report
from reports.i18n import TABLE
from reports.make import ReportFolderError, ReportRequest, make_report
from reports.period import PeriodError, parse_period
from reports.replay import NoDataError, gather
from reports.schedule import ScheduleState, due_times, pending
from reports.service import ReportService
from twin.service.service import TwinService
from twin.state.compose import StateAtWatermark
from twin.state.twin import Twin

NOW_MS = round(datetime(2026, 12, 5, 9, tzinfo=TZ).timestamp() * 1000)  # wall clock of the tests


def influx(stored: StoredMonth) -> InfluxSettings:
    return InfluxSettings(url=stored.database.url, database=stored.database.name)


async def make(
    stored: StoredMonth,
    folder: Path,
    period: str = "2026-11",
    enterprise: str | None = None,
    langs: tuple[str, ...] = ("en",),
    formats: tuple[str, ...] = ("xlsx",),
) -> list[Path]:
    park = report_park(stored.park_id)
    request = ReportRequest(period, enterprise, langs, formats)  # type: ignore[arg-type]
    return await make_report(influx(stored), park, request, folder, {}, "none", NOW_MS)


def table(sheet: Worksheet, title: str) -> tuple[list[str], dict[str, list[Any]]]:
    """A table of a sheet by its title: the header row, and each row by its first cell."""
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row[0] == title)
    header = [str(c) for c in rows[start + 1] if c is not None]
    found: dict[str, list[Any]] = {}
    for row in rows[start + 2 :]:
        if row[0] is None:
            break
        found[str(row[0])] = list(row[: len(header)])
    return header, found


def cell_of(sheet: Worksheet, title: str, row_label: str, column: int) -> Any:
    """The cell object (for its coordinate and formula) of a table row."""
    rows = list(sheet.iter_rows())
    start = next(i for i, row in enumerate(rows) if row[0].value == title)
    for row in rows[start + 2 :]:
        if row[0].value == row_label:
            return row[column]
    raise KeyError(row_label)


def evaluate_sum(sheet: Worksheet, formula: str) -> float:
    """The value of a ``=SUM(B5:B7)`` formula, worked out from the sheet's own cells."""
    assert formula.startswith("=SUM(") and formula.endswith(")"), formula
    return float(sum(c.value or 0 for row in sheet[formula[5:-1]] for c in row))


def live_twin(park: Park) -> Twin:
    """A twin fed the month's readings live, one quarter hour at a time, unthinned."""
    twin = Twin(park)
    readings = sorted(november(), key=lambda r: r.ts_ms)
    batch: list[Any] = []
    for reading in readings:
        if batch and reading.ts_ms != batch[-1].ts_ms:
            twin.ingest(batch)
            batch = []
        batch.append(reading)
    twin.ingest(batch)
    return twin


@pytest.mark.integration
async def test_month_xlsx_holds_the_hand_computed_figures_and_the_twins(
    stored_month: StoredMonth, tmp_path: Path
) -> None:
    [path] = await make(stored_month, tmp_path)
    assert path.name == f"{stored_month.park_id}_2026-11_en.xlsx"
    book = load_workbook(path)
    assert book.sheetnames == [
        "Summary",
        "Energy",
        "Costs",
        "Carbon",
        "Zero-carbon park (1+5)",
        "Green park (GB T 36132)",
        "Per-mu evaluation",
        "Alerts",
        "Data quality",
    ]
    energy = book["Energy"]
    header, balance = table(energy, "Electricity balance")
    assert header == ["Item", "This period (kWh)", "Same period last year (kWh)", "Change (%)"]
    # By hand: 30 days of 2,960 kWh imported and 160 kWh of PV, all used in the park.
    assert balance["Grid import"][1] == pytest.approx(NOVEMBER_IMPORT_KWH)
    assert balance["PV generation"][1] == pytest.approx(30 * 160.0)
    assert balance["Electricity consumption"][1] == pytest.approx(NOVEMBER_KWH)
    # The flats' meter was replaced on 20 November: nothing lost.
    assert balance["Sub-metered"][1] == pytest.approx(57_600 + 14_400)
    assert balance["Grid import"][2] == pytest.approx(28_800)  # November 2025, 10 kWh a quarter
    assert balance["Grid import"][3] == pytest.approx(100 * (88_800 - 28_800) / 28_800)
    _, carriers = table(energy, "Energy by carrier")
    assert carriers["Electricity"][3] == pytest.approx(NOVEMBER_KWH * 0.1229 / 1000)
    assert carriers["Natural gas"][1] == pytest.approx(NOVEMBER_GAS_M3)
    assert carriers["Natural gas"][3] == pytest.approx(NOVEMBER_GAS_M3 * 1.2143 / 1000)
    total = carriers["Total"][3]
    assert isinstance(total, str) and total.startswith("=SUM(")
    assert evaluate_sum(energy, total) == pytest.approx((93_600 * 0.1229 + 5_760 * 1.2143) / 1000)
    _, buildings = table(energy, "By building")
    assert buildings["plant-1"][1] == pytest.approx(57_600)
    assert buildings["flats"][1] == pytest.approx(14_400)
    assert isinstance(buildings["flats"][1], int | float)  # numbers, not text
    _, budget = table(energy, "Against budget")
    assert budget["month-budget"][2] == 100_000
    used = cell_of(energy, "Against budget", "month-budget", 4)
    assert used.value == f'=IF(C{used.row}=0,"",D{used.row}/C{used.row}*100)'
    _, peak = table(energy, "Peak demand")
    assert peak["Peak hourly demand"][2] == pytest.approx(PEAK_KW)
    assert peak["Highest day"][2] == pytest.approx(DAY_IMPORT_KWH + 160)
    _, months = table(energy, "By month")
    assert months["2026-11"][1] == pytest.approx(NOVEMBER_KWH)
    # The two-band tariff, by hand: 57,600 kWh at peak (1.0), 31,200 in the valley (0.4).
    header, bands = table(energy, "Electricity by tariff band")
    assert header == ["Tariff band", "Electricity (kWh)", "Cost (CNY)", "Mean price (CNY/kWh)"]
    assert bands["Peak"][1:3] == [pytest.approx(NOVEMBER_PEAK_KWH), pytest.approx(57_600)]
    assert bands["Valley"][1:3] == [pytest.approx(NOVEMBER_VALLEY_KWH), pytest.approx(12_480)]
    assert evaluate_sum(energy, bands["Total"][2]) == pytest.approx(70_080)
    price = cell_of(energy, "Electricity by tariff band", "Valley", 3)
    assert price.value == f'=IF(B{price.row}=0,"",C{price.row}/B{price.row})'
    _, demand = table(energy, "Peak 15-minute demand")
    assert demand["2026-11"][2] == pytest.approx(PEAK_15MIN_KW)
    assert demand["2026-11"][3] == "2026-11-01 08:00"
    assert demand["2026-11"][4] == 150 and demand["2026-11"][6] == pytest.approx(2.5)
    costs = book["Costs"]
    header, charges = table(costs, "Costs by month")
    assert header[:4] == ["Month", "Grid import (kWh)", "Energy (CNY)", "Basic charge (CNY)"]
    november_costs = charges["2026-11"]
    assert november_costs[2] == pytest.approx(70_080)
    assert november_costs[3] == pytest.approx(NOVEMBER_BASIC_YUAN)
    assert november_costs[4] == pytest.approx(NOVEMBER_GAS_YUAN)
    assert november_costs[10] == pytest.approx(4_800)  # PV savings: 4,800 kWh at peak
    total_cell = cell_of(costs, "Costs by month", "2026-11", 9)
    r = total_cell.row
    assert total_cell.value == f"=C{r}+D{r}+E{r}+F{r}+G{r}+H{r}-I{r}"
    assert charges["Total"][9] == f"=SUM(J{r}:J{r})"
    # The load profile: 10:00-14:00 uses 200 kWh an hour, 00:00-08:00 80.
    _, profile = table(energy, "Load profile by day and hour (kWh)")
    assert profile["2026-11-15"][1] == pytest.approx(80) and profile["2026-11-15"][11] == 200
    assert len(profile) == 30

    carbon = book["Carbon"]
    _, account = table(carbon, "Carbon account")
    gas_t = NOVEMBER_GAS_M3 * 2.1622 / 1000
    grid_t = NOVEMBER_IMPORT_KWH * 0.5306 / 1000
    assert account["Scope 1"][1] == pytest.approx(gas_t)
    assert account["Scope 2, location-based"][1] == pytest.approx(grid_t)
    assert account["Net emissions"][1] == pytest.approx(gas_t + grid_t)
    _, factors = table(carbon, "Factors used")
    assert factors["Grid (location-based)"][1] == 0.5306
    assert "MEE/NBS" in factors["Grid (location-based)"][3]
    notes = [str(r[0]) for r in carbon.iter_rows(values_only=True) if r[0]]
    assert any(n.startswith("Assumed or unconfirmed") and "unconfirmed" in n for n in notes)

    # The same figures as a twin fed the same readings live, unthinned.
    twin = live_twin(report_park(stored_month.park_id))
    view = StateAtWatermark(twin.park, twin.settings, twin.topology, twin.calendar, twin.state)
    start = twin.calendar.parse_label(Granularity.MONTH, "2026-11")
    live = view.balance(Granularity.MONTH, start)
    assert balance["Electricity consumption"][1] == pytest.approx(live.electricity_consumption_kwh)
    assert carriers["Natural gas"][3] == pytest.approx(live.tce.gas_tce)
    assert account["Net emissions"][1] == pytest.approx(view.account(start).net_co2_t)
    # The costs are the twin's own: as Twin.period_costs (what /api/costs serves) has them.
    live_cost = twin.period_costs(Granularity.MONTH, "2026-11")
    assert live_cost is not None
    park_cost = live_cost.park
    assert [b.kwh for b in park_cost.bands] == [bands["Peak"][1], bands["Valley"][1]]
    assert [b.yuan for b in park_cost.bands] == [bands["Peak"][2], bands["Valley"][2]]
    assert november_costs[1:9] == [
        park_cost.grid_import_kwh, park_cost.energy_yuan, park_cost.basic_yuan,
        park_cost.gas_yuan, park_cost.heat_yuan, park_cost.carbon_yuan, park_cost.green_yuan,
        park_cost.feed_in_revenue_yuan,
    ]  # fmt: skip
    formula_total = sum(november_costs[2:8]) - november_costs[8]
    assert formula_total == pytest.approx(park_cost.total_yuan)

    _, alerts = table(book["Alerts"], "Alerts of the period")
    assert alerts["demand-limit"][5] == pytest.approx(2.5)  # 10:00 to 12:30
    # What an alert cost: a demand alert's is not known, and the report says so; the contract
    # demand alert's window (2 November 08:00) drew 160 kW: 10 kW over the contract × 40 CNY;
    # the cost budget's day (3 November) cost 2,336 (energy) + 576 (gas) + 168.86 (carbon:
    # 2,400 sub-metered kWh × 0.5306 kg + 192 m³ × 2.1622 kg, at 100 CNY/t) against 2,000.
    assert alerts["demand-limit"][6] is None and alerts["demand-limit"][7] == "not known"
    assert alerts["contract"][6] == pytest.approx(10 * 40)
    day_cost = 1920 + 1040 * 0.4 + 192 * 3.0 + (2400 * 0.5306 + 192 * 2.1622) / 1000 * 100
    assert alerts["day-cost"][6] == pytest.approx(day_cost - 2000)
    assert alerts["day-cost"][7] == "cost over budget"
    alert_notes = " ".join(str(r[0]) for r in book["Alerts"].iter_rows(values_only=True) if r[0])
    assert "What the other alerts cost is not known." in alert_notes
    quality = book["Data quality"]
    _, devices = table(quality, "Readings received per device")
    assert devices["main"][3] == 2880 and devices["main"][4] == 2880  # a reading a quarter hour
    assert devices["occ-1"][4] == 2880 - 96  # silent on 10 November
    assert devices["occ-1"][6] == 24 and devices["occ-1"][7] == 24
    assert devices["m-flats"][8] == 1  # the meter replaced on 20 November
    share = cell_of(quality, "Readings received per device", "occ-1", 5)
    assert share.value == f'=IF(D{share.row}=0,"",E{share.row}/D{share.row}*100)'
    _, written = table(quality, "The twin's own KPI points")
    # The twin's last November point (23:45) lacks the last quarter hour: 25 kWh from the grid.
    assert written["2026-11"][1] == "2026-11-30 23:45"
    assert written["2026-11"][2] == pytest.approx(NOVEMBER_KWH - 25)
    assert written["2026-11"][3] == pytest.approx(NOVEMBER_KWH)
    texts = " ".join(str(r[0]) for r in quality.iter_rows(values_only=True) if r[0])
    assert "Not yet measured: dead letters" in texts

    summary = book["Summary"]
    values = {r[0]: r[1] for r in summary.iter_rows(values_only=True) if r[0]}
    assert values["Electricity consumption"] == pytest.approx(NOVEMBER_KWH)
    assert values["Alerts"] == 3
    assert values["Total cost"] == pytest.approx(park_cost.total_yuan)
    source = " ".join(str(v) for v in values)
    assert "replayed through the twin's own code" in source and "2025-12-31 00:00" in source


@pytest.mark.integration
async def test_an_enterprise_report_shows_its_figures_and_benchmarks_never_another_tenants(
    stored_month: StoredMonth, tmp_path: Path
) -> None:
    [path] = await make(stored_month, tmp_path, enterprise="acme", langs=("zh",))
    assert path.name == f"{stored_month.park_id}_2026-11_acme_zh.xlsx"
    book = load_workbook(path)
    cells = [str(v) for s in book.worksheets for r in s.iter_rows(values_only=True) for v in r if v]
    assert not any("beta" in c or "m-flats" in c or c == "flats" for c in cells)
    _, energy = table(book["能源"], "企业能耗")
    assert energy["电力"][2] == pytest.approx(57_600)
    # Its own bill, by hand: 43,200 kWh at peak, 14,400 in the valley, 80 % of the basic
    # charge (57,600 of 72,000 sub-metered kWh), its gas; as the twin's own bill has it.
    _, bands = table(book["能源"], "分时段电量与电费")
    assert bands["高峰"][1:3] == [pytest.approx(ACME_PEAK_KWH), pytest.approx(ACME_PEAK_KWH)]
    assert bands["低谷"][1:3] == [pytest.approx(ACME_VALLEY_KWH), pytest.approx(5_760)]
    header, bill = table(book["费用"], "逐月电费账单")
    assert header[:3] == ["月份", "电力 (kWh)", "电度电费 (CNY)"]
    assert bill["2026-11"][4] == pytest.approx(ACME_BASIC_YUAN)
    assert bill["2026-11"][6] == pytest.approx(NOVEMBER_GAS_YUAN)
    total = cell_of(book["费用"], "逐月电费账单", "2026-11", 9)
    assert total.value == f"=C{total.row}+E{total.row}+G{total.row}+I{total.row}"
    bills = live_twin(report_park(stored_month.park_id)).bills("2026-11")
    assert bills is not None
    acme = next(b for b in bills.bills if b.enterprise == "acme")
    assert bill["2026-11"][1:3] == [acme.electricity_kwh, acme.energy_yuan]
    assert bill["2026-11"][4] == acme.basic_yuan
    assert sum(bill["2026-11"][j] for j in (2, 4, 6, 8)) == pytest.approx(acme.total_yuan)
    assert acme.total_yuan == pytest.approx(48_960 + ACME_BASIC_YUAN + NOVEMBER_GAS_YUAN)
    _, results = table(book["亩均效益评价"], "企业评价结果")
    assert list(results) == ["acme"]
    _, benchmarks = table(book["亩均效益评价"], "基准值与权重")
    assert benchmarks["亩均税收"][1] == pytest.approx((300 + 50) / (30 + 10))  # the park's value


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


HEADINGS = {
    "en": ["Park report", "Summary", "Energy", "Carbon", "Zero-carbon park (1+5)",
           "Green park (GB/T 36132)", "Per-mu evaluation", "Alerts", "Data quality",
           "Electricity balance", "Factors used", "Costs", "Electricity by tariff band",
           "Peak 15-minute demand", "Costs by month"],
    "zh": ["园区运行报告", "摘要", "能源", "碳排放", "零碳园区", "绿色园区", "亩均效益评价",
           "告警", "数据质量", "电力平衡", "所用因子", "费用", "分时段电量与电费",
           "最大 15 分钟需量", "逐月费用"],
}  # fmt: skip


@pytest.mark.integration
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_pdf_pages_are_not_blank_and_hold_the_headings(
    stored_month: StoredMonth, tmp_path: Path, lang: str
) -> None:
    require_poppler()
    [path] = asyncio.run(make(stored_month, tmp_path, langs=(lang,), formats=("pdf",)))
    text = pdf_text(path)
    for heading in HEADINGS[lang]:
        assert heading in text, heading
    first_page = text.split("\f")[0]
    assert "93,600 kWh" in first_page  # the one-page summary
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "WenQuanYiZenHei" in fonts
    embedded = [line.split()[-5] for line in fonts.splitlines() if "WenQuanYi" in line]
    assert embedded and all(e == "yes" for e in embedded)
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 7  # the summary and a page (or more) a section
    for page in pages:
        pixels = imread(page)[..., :3]
        ink = np.count_nonzero(pixels.min(axis=2) < 0.8) / pixels[..., 0].size
        assert ink > 0.01, f"{page.name} is blank"


@pytest.mark.integration
async def test_bad_requests_get_clear_errors(stored_month: StoredMonth, tmp_path: Path) -> None:
    with pytest.raises(NoDataError, match=r"no stored readings .* in 2025-06"):
        await make(stored_month, tmp_path, period="2025-06")
    with pytest.raises(PeriodError, match="2027-01 has not begun"):
        await make(stored_month, tmp_path, period="2027-01")
    with pytest.raises(PeriodError, match="expected a month"):
        await make(stored_month, tmp_path, period="November")
    with pytest.raises(UnknownEnterpriseError, match=r"'nobody' is not in park .* acme, beta"):
        await make(stored_month, tmp_path, enterprise="nobody")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if not _can_write(locked):  # root writes anywhere: use a path under a file instead
        with pytest.raises(ReportFolderError, match="not writable"):
            await make(stored_month, locked)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ReportFolderError, match=f"report folder {blocker}/reports is not"):
        await make(stored_month, blocker / "reports")


def _can_write(folder: Path) -> bool:
    try:
        (folder / "probe").write_text("")
    except OSError:
        return False
    return True


def service_for(stored: StoredMonth, folder: Path, schedules: list[ReportSchedule]) -> Any:
    settings = Settings(
        influx=influx(stored), reports=ReportSettings(folder=folder, schedules=schedules)
    )
    return ReportService(report_park(stored.park_id), settings, lambda: ({}, "none"))


@pytest.mark.integration
async def test_the_api_answers_bad_requests_clearly_and_keeps_serving(
    stored_month: StoredMonth, tmp_path: Path
) -> None:
    service = service_for(stored_month, tmp_path / "reports", [])
    app = web.Application()
    service.add_routes(app)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}/api/reports"
    try:
        async with aiohttp.ClientSession() as session:
            for url, status, message in [
                (f"{base}/2025-06.pdf", 404, "no stored readings"),
                (f"{base}/2099-01.pdf", 400, "has not begun"),
                (f"{base}/2026-11.xlsx?enterprise=nobody", 400, "'nobody' is not in park"),
                (f"{base}/2026-11.pdf?lang=fr", 400, "expected one of en, zh"),
            ]:
                async with session.get(url) as response:
                    assert response.status == status, url
                    assert message in (await response.json())["error"]
            async with session.get(f"{base}/2026-11.pdf?lang=zh") as response:
                assert response.status == 200
                assert (await response.read()).startswith(b"%PDF")
            async with session.get(base) as response:
                files = (await response.json())["files"]
            assert [f["name"] for f in files] == [f"{stored_month.park_id}_2026-11_zh.pdf"]
            async with session.get(f"http://127.0.0.1:{port}{files[0]['url']}") as response:
                assert response.status == 200 and response.content_type == "application/pdf"
    finally:
        await runner.cleanup()


def at(text: str) -> int:
    return round(datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp() * 1000)


def test_due_times_follow_the_wall_clock_in_the_parks_time_zone() -> None:
    monthly = ReportSchedule(name="monthly", period="month", day=2, at="08:00")
    found = due_times(monthly, TZ, at("2026-10-15T00:00"), at("2026-12-05T00:00"))
    assert [(d.period, d.due_ms) for d in found] == [
        ("2026-10", at("2026-11-02T08:00")),
        ("2026-11", at("2026-12-02T08:00")),
    ]
    assert due_times(monthly, TZ, at("2026-12-02T08:00"), at("2026-12-05T00:00")) == []
    quarterly = ReportSchedule(name="q", period="quarter", day=5, at="09:30")
    found = due_times(quarterly, TZ, at("2026-06-01T00:00"), at("2027-01-06T00:00"))
    assert [d.period for d in found] == ["2026-Q2", "2026-Q3", "2026-Q4"]
    assert found[-1].due_ms == at("2027-01-05T09:30")
    yearly = ReportSchedule(name="y", period="year", day=2)
    found = due_times(yearly, TZ, at("2025-06-01T00:00"), at("2027-03-01T00:00"))
    assert [d.period for d in found] == ["2025", "2026"]


def test_a_report_missed_while_down_is_pending_and_a_made_one_is_not() -> None:
    monthly = ReportSchedule(name="monthly", day=2, at="08:00")
    state = ScheduleState(first_seen_ms=at("2026-09-20T00:00"))
    # Down from 1 October to 5 December: October's and November's reports are owed.
    assert [d.period for d in pending(monthly, TZ, state, at("2026-12-05T09:00"))] == [
        "2026-09",
        "2026-10",
        "2026-11",
    ]
    state.done = {"2026-09": "made", "2026-10": "made"}
    assert [d.period for d in pending(monthly, TZ, state, at("2026-12-05T09:00"))] == ["2026-11"]


@pytest.mark.integration
async def test_a_schedule_makes_the_missed_report_once_and_announces_it(
    stored_month: StoredMonth, tmp_path: Path
) -> None:
    schedule = ReportSchedule(name="monthly", day=2, at="08:00", langs=["zh"], formats=["pdf"])
    folder = tmp_path / "reports"
    service = service_for(stored_month, folder, [schedule])
    announced: list[dict[str, Any]] = []

    async def announce(payload: dict[str, Any]) -> int:
        announced.append(payload)
        return 1

    # First seen on 20 November; the service comes back on 5 December, after the due time.
    from reports.schedule import save_state

    save_state(folder, schedule, ScheduleState(first_seen_ms=at("2026-11-20T00:00")))
    made = await service.run_schedule(schedule, announce, now_ms=at("2026-12-05T09:00"))
    assert [p.name for p in made] == [f"{stored_month.park_id}_2026-11_zh.pdf"]
    [notice] = announced
    assert notice["kind"] == "report" and notice["period"] == "2026-11"
    assert notice["files"][0]["link"] == str(made[0].resolve())
    assert await service.run_schedule(schedule, announce, now_ms=at("2026-12-05T10:00")) == []
    assert len(announced) == 1


@pytest.mark.integration
async def test_a_report_notice_reaches_a_webhook_receiver_through_the_alert_outbox(
    tmp_path: Path,
) -> None:
    """The alerts' delivery carries the notice to a real HTTP receiver, rendered for it."""
    from alerts.service import AlertService

    received: list[bytes] = []
    got = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.read())
        got.set()
        return web.json_response({"errcode": 0})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    park = report_park("hooks")
    settings = Settings.model_validate(
        {
            "alerts": {
                "folder": str(tmp_path / "alerts"),
                "write_influx": False,
                "receivers": {"ops": {"format": "wecom", "url": f"http://127.0.0.1:{port}/hook"}},
            }
        }
    )
    alerts = AlertService(park, settings, lambda *args, **kwargs: None)
    notice = {
        "version": 1, "kind": "report", "state": "report", "idempotency_key": "report-x",
        "fingerprint": "report-monthly", "rule": "monthly", "severity": "info",
        "park": {"id": "hooks", "name": "Test park", "timezone": "Asia/Shanghai"},
        "period": "2026-11", "summary": "Test park: report 2026-11 (monthly) is ready",
        "files": [{"name": "hooks_2026-11_zh.pdf", "link": "http://x/api/reports/files/a.pdf"}],
        "at_ms": int(time.time() * 1000), "dashboard_url": None,
    }  # fmt: skip
    try:
        assert await alerts.announce(notice) == 1
        delivering = asyncio.create_task(alerts.deliver())
        await asyncio.wait_for(got.wait(), 10)
        delivering.cancel()
    finally:
        await alerts.close()
        await runner.cleanup()
    body = received[0].decode()
    assert "[REPORT] Test park: 2026-11" in body and "http://x/api/reports/files/a.pdf" in body


@pytest.mark.integration
async def test_every_text_a_report_shows_has_both_languages(stored_month: StoredMonth) -> None:
    """A key missing from reports/i18n.py would show as itself, in English, in Chinese."""
    park = report_park(stored_month.park_id)
    period = parse_period("2026-11", Calendar(park.timezone))
    gathered = await gather(influx(stored_month), park, period, {}, "none")
    keys: set[str] = set()
    for report in (build_report(gathered), build_report(gathered, "acme")):
        keys |= {h.key for h in report.headlines} | {n.key for n in report.source}
        for section in report.sections:
            keys |= {section.key} | {n.key for n in section.notes}
            for one in section.tables:
                keys |= {one.key} | {c.key for c in one.columns}
                for j, column in enumerate(one.columns):
                    if column.kind in ("label", "flag"):
                        keys |= {str(row[j]) for row in one.rows if column.kind == "label"}
    assert sorted(k for k in keys if k not in TABLE) == []
    assert all(len(pair) == 2 and all(pair) for pair in TABLE.values())


def test_periods_parse_in_the_parks_calendar() -> None:
    calendar = Calendar(TZ)
    quarter = parse_period("2026-Q4", calendar)
    assert quarter.months == ("2026-10", "2026-11", "2026-12")
    assert quarter.start_ms == at("2026-10-01T00:00") and quarter.end_ms == at("2027-01-01T00:00")
    assert parse_period("2026", calendar).months[-1] == "2026-12"
    with pytest.raises(PeriodError, match="month 13"):
        parse_period("2026-13", calendar)


@pytest.mark.integration
async def test_the_replay_reads_year_to_date_from_before_the_year(
    stored_month: StoredMonth,
) -> None:
    park = report_park(stored_month.park_id)
    period = parse_period("2026-11", Calendar(park.timezone))
    gathered = await gather(influx(stored_month), park, period, {}, "none")
    assert gathered.replay_since_ms == at("2025-12-31T00:00")
    assert gathered.replayed.snapshot is not None
    assert gathered.replayed.snapshot.periods["month"].label == "2026-11"
    assert gathered.last_year_period.label == "2025-11"


@pytest.mark.integration
async def test_the_running_twin_serves_reports_and_keeps_running_after_bad_requests(
    stored_month: StoredMonth, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """What ``parktwin run`` does: the program layer attaches reports to the twin's API."""
    from programs.wiring import attach_reports

    park = report_park(stored_month.park_id)
    settings = load_settings(
        None,
        mqtt__port=mosquitto.port,
        influx__url=stored_month.database.url,
        influx__database=stored_month.database.name,
        twin__client_id=f"twin-{stored_month.park_id}",
        twin__checkpoint_folder=tmp_path / "twin",
        twin__tick_s=0.3,
        api__port=0,
        alerts__folder=tmp_path / "alerts",
        reports__folder=tmp_path / "reports",
    )
    service = TwinService(park, settings)
    attach_reports(service, None)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        deadline = time.monotonic() + 30
        while service.api_url is None and not task.done() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert service.api_url is not None
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{service.api_url}/api/reports/2026-11.pdf?lang=xx") as answer:
                assert answer.status == 400
            async with http.get(f"{service.api_url}/api/reports/1999-01.xlsx") as answer:
                assert answer.status == 404
            async with http.get(f"{service.api_url}/api/reports/2026-11.xlsx") as answer:
                assert answer.status == 200
                body = await answer.read()
            async with http.get(f"{service.api_url}/healthz") as answer:
                assert answer.status == 200
        assert body.startswith(b"PK")  # a zip: XLSX
        assert not task.done()
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


@pytest.mark.integration
async def test_a_quarter_adds_up_its_months_with_a_formula(
    stored_month: StoredMonth, tmp_path: Path
) -> None:
    [path] = await make(stored_month, tmp_path, period="2026-Q4")
    energy = load_workbook(path)["Energy"]
    _, months = table(energy, "By month")
    # 31 October is the first stored day (3,120 kWh); December has only its first instant.
    assert months["2026-10"][1] == pytest.approx(DAY_IMPORT_KWH + 160)
    assert months["2026-11"][1] == pytest.approx(NOVEMBER_KWH)
    assert months["2026-12"][1] == pytest.approx(0.0)
    assert evaluate_sum(energy, months["Total"][1]) == pytest.approx(NOVEMBER_KWH + 3_120)
    _, balance = table(energy, "Electricity balance")
    assert balance["Electricity consumption"][1] == pytest.approx(NOVEMBER_KWH + 3_120)
    _, budget = table(energy, "Against budget")
    assert budget["month-budget"][2] == 300_000  # a month's budget, three times
    # The quarter's costs add up its months (the twin's): 31 October, November, December's
    # first instant; the total a formula.
    costs = load_workbook(path)["Costs"]
    _, charges = table(costs, "Costs by month")
    assert list(charges) == ["2026-10", "2026-11", "2026-12", "Total"]
    assert charges["2026-11"][2] == pytest.approx(70_080)
    assert charges["2026-10"][2] == pytest.approx(1920 + 1040 * 0.4)  # 31 October
    assert charges["2026-12"][2] == 0
    assert evaluate_sum(costs, charges["Total"][2]) == pytest.approx(70_080 + 2_336)
    # December so far, as the twin has it: the contract's basic charge, the month not over.
    assert charges["2026-12"][3] == pytest.approx(150 * 40)
    summary = load_workbook(path)["Summary"]
    notes = " ".join(str(r[0]) for r in summary.iter_rows(values_only=True) if r[0])
    assert "The period is not complete: readings end at 2026-12-01 00:00." in notes


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ('[[reports.schedules]]\nname = "m"\nat = "25:00"\n', "reports.schedules.0.at"),
        ('[[reports.schedules]]\nname = "m"\nlangs = ["fr"]\n', "reports.schedules.0.langs.0"),
        ('[[reports.schedules]]\nname = "m"\nperiod = "week"\n', "reports.schedules.0.period"),
        (
            '[[reports.schedules]]\nname = "m"\n[[reports.schedules]]\nname = "m"\n',
            "schedule names must differ: m",
        ),
    ],
)
def test_bad_schedules_are_refused_naming_the_field(
    tmp_path: Path, toml: str, problem: str
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=re.escape(problem)) as caught:
        load_settings(path)
    assert str(path) in str(caught.value)


@pytest.mark.integration
def test_parktwin_report_writes_the_files_or_says_what_is_wrong(
    stored_month: StoredMonth, tmp_path: Path
) -> None:
    from report_month import REPORT_PARK

    park_file = tmp_path / "park.yaml"
    park_file.write_text(REPORT_PARK.format(park_id=stored_month.park_id))
    base = [
        str(Path(sys.executable).parent / "parktwin"), "report", "--park", str(park_file),
        "--influx-url", stored_month.database.url, "--database", stored_month.database.name,
        "--checkpoint-dir", str(tmp_path / "twin"), "--out", str(tmp_path / "out"),
    ]  # fmt: skip
    done = subprocess.run(
        [*base, "--period", "2026-11", "--lang", "zh", "--format", "xlsx"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    made = tmp_path / "out" / f"{stored_month.park_id}_2026-11_zh.xlsx"
    assert done.stdout.split() == [str(made)]
    refused = subprocess.run(
        [*base, "--period", "2026-11", "--enterprise", "nobody"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2
    assert "report: enterprise 'nobody' is not in park" in refused.stderr


@pytest.mark.integration
async def test_without_tariffs_the_report_says_so_and_has_no_costs(
    stored_month: StoredMonth,
) -> None:
    park = report_park(stored_month.park_id).model_copy(update={"tariffs": None})
    period = parse_period("2026-11", Calendar(park.timezone))
    gathered = await gather(influx(stored_month), park, period, {}, "none")
    report = build_report(gathered)
    assert [s.key for s in report.sections][:2] == ["energy", "carbon"]
    energy = report.sections[0]
    assert "note.no_tariffs" in {n.key for n in energy.notes}
    assert "by_tariff_band" not in {t.key for t in energy.tables}
    alerts = next(s for s in report.sections if s.key == "alerts")
    assert all(row[6] is None for row in alerts.tables[0].rows)
    assert "note.alert_cost_unknown" in {n.key for n in alerts.notes}
