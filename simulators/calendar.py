"""Which days people work: weekdays, weekends and China's public holidays with make-up workdays.

Source of the dates: the State Council General Office's annual notice on public-holiday
arrangements (国务院办公厅关于…年部分节假日安排的通知): 国办发明电〔2024〕12号 for 2025 and
国办发明电〔2025〕7号 for 2026. The 2027 notice is not out yet: 2027 holds only the statutory days
of the 2024 revision of the national holiday rules (no bridging days, no make-up workdays);
replace it when the notice is published. A park can pass its own table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum


class DayType(StrEnum):
    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"


def _span(first: str, days: int) -> list[date]:
    start = date.fromisoformat(first)
    return [start + timedelta(days=i) for i in range(days)]


# (first day, number of days) of each holiday period, and the weekend days worked instead.
CN_HOLIDAY_PERIODS: tuple[tuple[str, int], ...] = (
    # 2025
    ("2025-01-01", 1), ("2025-01-28", 8), ("2025-04-04", 3), ("2025-05-01", 5),
    ("2025-05-31", 3), ("2025-10-01", 8),
    # 2026
    ("2026-01-01", 3), ("2026-02-15", 9), ("2026-04-04", 3), ("2026-05-01", 5),
    ("2026-06-19", 3), ("2026-09-25", 3), ("2026-10-01", 7),
    # 2027, provisional: statutory days only
    ("2027-01-01", 1), ("2027-02-05", 4), ("2027-04-05", 1), ("2027-05-01", 2),
    ("2027-06-09", 1), ("2027-09-15", 1), ("2027-10-01", 3),
)  # fmt: skip
CN_MAKEUP_WORKDAYS: tuple[str, ...] = (
    "2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11",
    "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10",
)  # fmt: skip


@dataclass(frozen=True)
class HolidayCalendar:
    """Public holidays and make-up workdays; every other day is a weekday or a weekend day."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    def day_type(self, day: date) -> DayType:
        """The kind of day for load and occupancy profiles."""
        if day in self.holidays:
            return DayType.HOLIDAY
        if day in self.workdays:
            return DayType.WORKDAY
        return DayType.WEEKEND if day.weekday() >= 5 else DayType.WORKDAY


def china_calendar() -> HolidayCalendar:
    """Mainland China's holidays for 2025-2027 (see the module docstring for sources)."""
    holidays = frozenset(d for first, days in CN_HOLIDAY_PERIODS for d in _span(first, days))
    workdays = frozenset(date.fromisoformat(d) for d in CN_MAKEUP_WORKDAYS)
    return HolidayCalendar(holidays, workdays)
