"""A real park's history from CSV: good rows stored as live readings would be, converted into
parktwin's units; bad rows refused with their line, column and reason, the rest still stored;
importing the same file twice stores each point once."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from conftest import InfluxDatabase
from helpers import small_park

from collectors.csv_history import CsvFileError, import_csv
from collectors.history import HistoryWriter
from parktwin.config import load_settings

pytestmark = pytest.mark.integration

GOOD = """device,time,quantity,value,unit
main,2026-02-01T00:00:00+08:00,energy_import_kwh,1000.5,kWh
main,2026-02-01T00:00:00+08:00,power,250000,W
main,2026-02-01T00:15:00+08:00,energy_import_kwh,1062.5,kWh
m-plant,1769875200000,energy,40000,Wh
gas-1,2026-02-01T00:00:00Z,gas_m3,812.25,m3
occ-1,2026-02-01T09:00:00+08:00,occupancy_persons,17,
"""
# Each bad row, and the column the rejects file must name for it.
BAD = {
    "nobody,2026-02-01T00:00:00+08:00,energy_import_kwh,1,kWh": "device",
    "main,yesterday,energy_import_kwh,1,kWh": "time",
    "main,2026-02-01T00:00:00,energy_import_kwh,1,kWh": "time",  # no offset
    "main,2099-01-01T00:00:00+08:00,energy_import_kwh,1,kWh": "time",  # the future
    "main,2026-02-01T00:30:00+08:00,energy_import_kwh,lots,kWh": "value",
    "main,2026-02-01T00:30:00+08:00,energy_import_kwh,-5,kWh": "value",  # counters are >= 0
    "main,2026-02-01T00:30:00+08:00,energy_import_kwh,1,furlongs": "unit",
    "main,2026-02-01T00:30:00+08:00,energy_import_kwh,1,kW": "unit",
    "main,2026-02-01T00:30:00+08:00,warp_drive,1,": "quantity",
    "gas-1,2026-02-01T00:30:00+08:00,occupancy_persons,3,": "quantity",  # not a gas meter's
    "main,2026-02-01T00:00:00+08:00,energy_import_kwh,999,kWh": "value",  # contradicts line 2
}


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


async def run_import(park_id: str, db: InfluxDatabase, source: Path, rejects: Path):  # type: ignore[no-untyped-def]
    park = small_park(park_id)
    settings = load_settings(None, influx__url=db.url, influx__database=db.name)
    history = HistoryWriter(park, settings, arrival_ms=round(time.time() * 1000))
    try:
        return await import_csv(source, history, rejects)
    finally:
        await history.aclose()


def stored_rows(db: InfluxDatabase, park_id: str) -> dict[tuple[str, str], list[object]]:
    """(device, field) -> stored values, for every field of the park's points."""
    found: dict[tuple[str, str], list[object]] = {}
    for medium in ("electricity", "gas", "occupancy"):
        for series in db.query(f"SELECT * FROM {medium} WHERE park = '{park_id}'"):
            columns = series["columns"]  # type: ignore[index]
            for row in series["values"]:  # type: ignore[index]
                record = dict(zip(columns, row, strict=True))
                for name in (
                    "energy_import_kwh",
                    "power_kw",
                    "energy_kwh",
                    "gas_m3",
                    "occupancy_persons",
                ):
                    if record.get(name) is not None:
                        found.setdefault((record["device"], name), []).append(record[name])
    return found


async def test_good_rows_are_stored_in_parktwin_units_and_bad_ones_refused_with_reasons(
    park_id: str, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "history.csv", GOOD + "\n".join(BAD) + "\n")
    rejects = tmp_path / "rejected.csv"
    report = await run_import(park_id, influxdb, source, rejects)

    assert report.rows == 6 + len(BAD)
    assert report.stored == 6
    assert stored_rows(influxdb, park_id) == {
        ("main", "energy_import_kwh"): [1000.5, 1062.5],
        ("main", "power_kw"): [250.0],  # 250,000 W
        ("m-plant", "energy_kwh"): [40.0],  # 40,000 Wh
        ("gas-1", "gas_m3"): [812.25],
        ("occ-1", "occupancy_persons"): [17.0],
    }
    with rejects.open(newline="", encoding="utf-8") as handle:
        refused = list(csv.DictReader(handle))
    # Line numbers of the file (the header is line 1, the good rows lines 2-7).
    assert [int(r["line"]) for r in refused] == list(range(8, 8 + len(BAD)))
    assert [r["field"] for r in refused] == list(BAD.values())
    assert all(r["reason"] for r in refused)
    assert [
        ",".join(r[c] for c in ("device", "time", "quantity", "value", "unit")) for r in refused
    ] == list(BAD)


async def test_importing_a_file_twice_stores_each_point_once(
    park_id: str, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "history.csv", GOOD)
    first = await run_import(park_id, influxdb, source, tmp_path / "r1.csv")
    once = stored_rows(influxdb, park_id)
    second = await run_import(park_id, influxdb, source, tmp_path / "r2.csv")
    assert first.stored == second.stored == 6
    assert stored_rows(influxdb, park_id) == once
    # Energy and power of one device and time are one point, as a live reading with both is.
    main = influxdb.query(f"SELECT * FROM electricity WHERE park = '{park_id}' AND device = 'main'")
    assert len(main[0]["values"]) == 2  # type: ignore[index, arg-type]


async def test_a_file_without_the_columns_is_refused_naming_them(
    park_id: str, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "meters.csv", "meter,when,kwh\nmain,2026-02-01,1\n")
    with pytest.raises(CsvFileError, match=r"meters\.csv:1: .*device, time, quantity, value, unit"):
        await run_import(park_id, influxdb, source, tmp_path / "r.csv")
