"""The period a report covers: a month (``2026-11``), a quarter (``2026-Q4``) or a year (``2026``),
in the park's local calendar."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from parktwin.periods import Calendar, Granularity

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
YEAR = re.compile(r"^(\d{4})$")


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class PeriodError(ValueError):
    """A period that cannot be reported; the message says why."""


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """A reporting period: its label, kind, local start and end (epoch ms) and its months."""

    label: str
    kind: PeriodKind
    start_ms: int
    end_ms: int  # exclusive
    months: tuple[str, ...]  # the month labels it covers, in order
    month_starts: tuple[int, ...]

    @property
    def year(self) -> int:
        return int(self.label[:4])


def parse_period(text: str, calendar: Calendar) -> ReportPeriod:
    """``2026-11``, ``2026-Q4`` or ``2026`` as a ReportPeriod; PeriodError for anything else."""
    text = text.strip()
    if found := MONTH.match(text):
        year, first, count, kind = int(found[1]), int(found[2]), 1, PeriodKind.MONTH
        if not 1 <= first <= 12:
            raise PeriodError(f"period {text!r}: month {first} is not 01..12")
        label = f"{year:04d}-{first:02d}"
    elif found := QUARTER.match(text):
        year, quarter = int(found[1]), int(found[2])
        first, count, kind = 3 * quarter - 2, 3, PeriodKind.QUARTER
        label = f"{year:04d}-Q{quarter}"
    elif found := YEAR.match(text):
        year, first, count, kind = int(found[1]), 1, 12, PeriodKind.YEAR
        label = f"{year:04d}"
    else:
        raise PeriodError(
            f"period {text!r}: expected a month (2026-11), a quarter (2026-Q4) or a year (2026)"
        )
    if year < 1970:
        raise PeriodError(f"period {text!r}: year {year} is before 1970")
    start = calendar.parse_label(Granularity.MONTH, f"{year:04d}-{first:02d}")
    starts = tuple(calendar.shift(Granularity.MONTH, start, i) for i in range(count))
    end = calendar.shift(Granularity.MONTH, start, count)
    months = tuple(calendar.label(Granularity.MONTH, s) for s in starts)
    return ReportPeriod(label, kind, start, end, months, starts)


def same_period_last_year(period: ReportPeriod, calendar: Calendar) -> ReportPeriod:
    """The same months one year earlier."""
    year = period.year - 1
    return parse_period(f"{year:04d}{period.label[4:]}", calendar)


def check_not_future(period: ReportPeriod, now_ms: int) -> None:
    """A period that has not begun by ``now_ms`` cannot be reported."""
    if period.start_ms > now_ms:
        raise PeriodError(f"period {period.label} has not begun yet")
