"""Import a real park's history from CSV: one meter reading a row, held to the live contract.

The file has a header naming (at least) the columns ``device,time,quantity,value,unit``:

    device,time,quantity,value,unit
    gm-1,2026-01-01T00:15:00+08:00,energy_import_kwh,183204.5,kWh
    gm-1,1767198600000,power,412000,W

``time`` is RFC 3339 with an offset or epoch milliseconds. ``quantity`` is a parktwin quantity
(``energy_import_kwh``) or its base (``power``) with the unit picking the suffix, as SenML
records do; ``unit`` may be the quantity's own unit, a SenML unit that converts into it
(``Wh`` into ``kWh``), or empty for the quantity's own. Each row then passes the checks a live
reading passes (range, known device, quantity of its kind, time window) and is stored as one
field of the same point a live reading would be: InfluxDB merges the fields of one device and
time, and storing the file again replaces every point by itself (exactly once).

A row that fails is not stored; it goes to the rejects file with its line number, the field at
fault and the reason, and every other row is still imported.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from collectors.history import HistoryWriter
from parktwin.contract.quantities import QUANTITIES
from parktwin.contract.reading import PayloadError, Reading
from parktwin.contract.senml import UNITS
from parktwin.contract.timestamps import parse_ts_ms

log = logging.getLogger(__name__)

COLUMNS = ("device", "time", "quantity", "value", "unit")
BATCH_LINES = 5000
REJECT_COLUMNS = ("line", "field", "reason", *COLUMNS)
# Which column a contract check's reason points at.
FIELD_OF_REASON = {
    "unknown_device": "device",
    "quantity_not_for_kind": "quantity",
    "timestamp_out_of_window": "time",
    "bad_timestamp": "time",
}


class CsvFileError(Exception):
    """The file as a whole cannot be read (missing columns, not a CSV); names file and line."""


@dataclass(frozen=True)
class Rejected:
    """A row that was not imported: where, which column, why."""

    line: int
    field: str
    reason: str
    row: dict[str, str]


@dataclass
class ImportReport:
    """What an import did."""

    rows: int = 0
    stored: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def quantity_and_factor(quantity: str, unit: str) -> tuple[str, float]:
    """The parktwin quantity a (quantity, unit) pair names, and the factor into its unit.

    Raises ``PayloadError`` whose reason is ``unknown_quantity`` or ``unknown_unit``.
    """
    known = QUANTITIES.get(quantity)
    if known is not None:
        if unit in ("", known.unit):
            return quantity, 1.0
        suffix, factor = UNITS.get(unit, ("", 0.0))
        if suffix and quantity.endswith(f"_{suffix}"):
            return quantity, factor
        raise PayloadError("unknown_unit", f"{unit[:20]!r} is not a unit of {quantity}")
    if unit not in UNITS:
        raise PayloadError(
            "unknown_quantity" if not unit else "unknown_unit",
            f"{quantity[:40]!r} with unit {unit[:20]!r} names no parktwin quantity",
        )
    suffix, factor = UNITS[unit]
    name = f"{quantity}_{suffix}"
    if name not in QUANTITIES:
        raise PayloadError("unknown_quantity", f"{quantity[:40]!r} in {unit!r} is not a quantity")
    return name, factor


def _time_ms(text: str) -> int:
    stripped = text.strip()
    if stripped.lstrip("-").isdigit():
        return int(stripped)
    return parse_ts_ms(stripped, "time")


def row_reading(row: dict[str, str], history: HistoryWriter) -> Reading:
    """The reading of one row, checked as a live one; ``PayloadError`` with the column at fault
    in ``FIELD_OF_REASON`` terms (see ``Rejected``)."""
    device = (row.get("device") or "").strip()
    ts_ms = _time_ms(row.get("time") or "")
    name, factor = quantity_and_factor(
        (row.get("quantity") or "").strip(), (row.get("unit") or "").strip()
    )
    text = (row.get("value") or "").strip()
    try:
        number = float(text)
    except ValueError:
        raise PayloadError("bad_value", f"{text[:40]!r} is not a number") from None
    reading = Reading(device, ts_ms, {name: number * factor})
    history.check(reading)  # the value's range, then device, kind and time window
    return reading


def _field_of(error: PayloadError) -> str:
    if error.reason in FIELD_OF_REASON:
        return FIELD_OF_REASON[error.reason]
    if error.reason in ("unknown_quantity",):
        return "quantity"
    if error.reason == "unknown_unit":
        return "unit"
    return "value"


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) of every data row; ``CsvFileError`` when the header lacks a column."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            raise CsvFileError(
                f"{path}:1: the header lacks column(s) {', '.join(missing)} "
                f"(expected {','.join(COLUMNS)})"
            )
        reader.fieldnames = header
        start = reader.line_num + 1
        for row in reader:
            yield start, {k: v for k, v in row.items() if isinstance(k, str) and v is not None}
            start = reader.line_num + 1


def write_rejects(path: Path, rejected: list[Rejected]) -> None:
    """The rejected rows, with line, column and reason first (a header even when none is)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(REJECT_COLUMNS)
        for one in rejected:
            row = [one.row.get(name, "") for name in COLUMNS]
            writer.writerow([one.line, one.field, one.reason, *row])


async def import_csv(
    path: Path,
    history: HistoryWriter,
    rejects: Path,
    on_rows: Callable[[int], None] | None = None,
) -> ImportReport:
    """Store every good row of ``path``; write the others to ``rejects`` with reasons."""
    report = ImportReport()
    seen: dict[tuple[str, int, str], tuple[int, float]] = {}
    batch: list[Reading] = []
    try:
        for line, row in read_rows(path):
            report.rows += 1
            try:
                reading = row_reading(row, history)
            except PayloadError as exc:
                report.rejected.append(Rejected(line, _field_of(exc), str(exc), row))
                continue
            ((name, value),) = reading.values.items()
            key = (reading.device_id, reading.ts_ms, name)
            earlier = seen.get(key)
            if earlier is not None:  # the same value again is the same point: skip it
                if earlier[1] != value:
                    detail = f"duplicate: line {earlier[0]} gives another {name} at this time"
                    report.rejected.append(Rejected(line, "value", detail, row))
                continue
            seen[key] = (line, value)
            batch.append(reading)
            if len(batch) >= BATCH_LINES:
                await history.write(history.lines(batch))
                batch = []
                if on_rows is not None:
                    on_rows(report.rows)
        if batch:
            await history.write(history.lines(batch))
        await history.wait()
        if on_rows is not None:
            on_rows(report.rows)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CsvFileError(f"{path}: not a UTF-8 CSV file: {exc}") from None
    report.stored = history.counts.readings_stored
    write_rejects(rejects, report.rejected)
    if report.rejected:
        log.warning("%d of %d rows rejected, see %s", len(report.rejected), report.rows, rejects)
    return report
