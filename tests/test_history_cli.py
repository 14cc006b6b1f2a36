"""``parktwin backfill`` and ``parktwin import-csv`` as a user runs them: dates in the park's
time, a summary of what was stored, refused rows in a file, bad arguments refused plainly."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import InfluxDatabase
from typer.testing import CliRunner

from programs.cli import app

pytestmark = pytest.mark.integration


def parktwin(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_backfill_stores_the_dates_asked_for_in_the_park_time(influxdb: InfluxDatabase) -> None:
    code, out = parktwin(
        "backfill", "--from", "2026-03-01", "--to", "2026-03-02",
        "--influx-url", influxdb.url, "--database", influxdb.name,
    )  # fmt: skip
    assert code == 0, out
    assert "from 2026-03-01T00:00+08:00 to 2026-03-02T00:00+08:00" in out, out
    stored = int(out.split("backfill: ")[1].split(" readings")[0].replace(",", ""))
    series = influxdb.query("SELECT count(power_kw) FROM electricity")
    assert 0 < series[0]["values"][0][1] <= stored  # type: ignore[index,operator]
    first = influxdb.query("SELECT first(power_kw) FROM electricity")[0]["values"][0][0]  # type: ignore[index]
    assert first >= 1772294400000  # 2026-03-01T00:00+08:00
    code, again = parktwin(
        "backfill", "--from", "2026-03-01", "--to", "2026-03-02",
        "--influx-url", influxdb.url, "--database", influxdb.name,
    )  # fmt: skip
    assert code == 0, again
    assert influxdb.query("SELECT count(power_kw) FROM electricity") == series  # once


def test_backfill_refuses_an_empty_range_and_a_bad_date() -> None:
    code, out = parktwin("backfill", "--from", "2026-03-02", "--to", "2026-03-01")
    assert code == 2 and "is not after" in out, out
    code, out = parktwin("backfill", "--from", "last tuesday")
    assert code == 2 and "--from" in out and "YYYY-MM-DD" in out, out


def test_import_csv_reports_what_it_stored_and_where_the_refused_rows_are(
    influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    source = tmp_path / "meters.csv"
    source.write_text(
        "device,time,quantity,value,unit\n"
        "grid-main-1,2026-02-01T00:00:00+08:00,energy_import_kwh,1000,kWh\n"
        "grid-main-1,2026-02-01T00:15:00+08:00,energy_import_kwh,1100,MWh\n",
        encoding="utf-8",
    )
    code, out = parktwin(
        "import-csv", str(source), "--influx-url", influxdb.url, "--database", influxdb.name
    )
    assert code == 0, out
    assert "2 rows, 1 stored" in out and "1 rejected" in out, out
    with (tmp_path / "meters.csv.rejected.csv").open(newline="") as handle:
        (refused,) = list(csv.DictReader(handle))
    assert (refused["line"], refused["field"]) == ("3", "unit")


def test_import_csv_refuses_a_missing_file_plainly(tmp_path: Path) -> None:
    code, out = parktwin("import-csv", str(tmp_path / "nothing.csv"))
    assert code == 2 and "no such file" in out, out
