"""Tenant bills as CSV or XLSX files: one row per bill line, then the reconciliation.

Columns: enterprise, name, month, item, quantity, unit, amount (in the tariff's currency).
Items: ``energy:<band>`` (kWh), ``basic`` (the share of the basic charge, %), ``gas`` (m3),
``heat`` (GJ), ``total``. Below the bills, the invoice of the main meters and each part of it
(tenants, the park's own loads, PV used on site, the difference) as rows of enterprise ``park``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from openpyxl import Workbook

from tariffs.bills import BillSet

HEADER = ("enterprise", "name", "month", "item", "quantity", "unit", "amount")
Row = tuple[str, str, str, str, float, str, float]


def bill_rows(bills: BillSet) -> Iterator[Row]:
    """Every bill's lines and total, then the reconciliation rows."""
    for bill in bills.bills:
        for line in bill.lines:
            yield (bill.enterprise, bill.name, bills.month, line.item, line.quantity, line.unit,
                   line.amount_yuan)  # fmt: skip
        yield (bill.enterprise, bill.name, bills.month, "total", bill.electricity_kwh, "kWh",
               bill.total_yuan)  # fmt: skip
    r = bills.reconciliation
    for item, kwh, amount in (
        ("invoice:energy", r.invoice_import_kwh, r.invoice_energy_yuan),
        ("invoice:basic", 0.0, r.invoice_basic_yuan),
        ("invoice:total", r.invoice_import_kwh, r.invoice_total_yuan),
        ("tenants", r.tenants_kwh, r.tenants_electricity_yuan),
        ("own_loads", r.own_loads_kwh, r.own_loads_yuan),
        ("pv_used_on_site", r.pv_self_use_kwh, -r.pv_self_use_yuan),
        ("difference", r.difference_kwh, r.difference_yuan),
    ):
        yield ("park", "", bills.month, item, kwh, "kWh", amount)


def write_csv(bills: BillSet, path: Path) -> None:
    """The bills as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read 中文)."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow((*HEADER[:-1], f"amount_{bills.currency}"))
        writer.writerows(bill_rows(bills))


def write_xlsx(bills: BillSet, path: Path) -> None:
    """The bills as an XLSX workbook, one sheet."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"bills {bills.month}"
    sheet.append((*HEADER[:-1], f"amount_{bills.currency}"))
    for row in bill_rows(bills):
        sheet.append(row)
    book.save(path)
