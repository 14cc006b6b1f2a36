"""Where reports go and when they are made: the ``[reports]`` section of the service settings.

Schedules are wall-clock times in the park's time zone (``day`` of the month after the period,
``at`` HH:MM): reports are asked for in real time, while what a report holds is chosen by event
time (the period's readings, whatever hour they were replayed at). See docs/reports.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Lang = Literal["en", "zh"]
Format = Literal["xlsx", "pdf"]
LANGS: tuple[Lang, ...] = ("zh", "en")
FORMATS: tuple[Format, ...] = ("xlsx", "pdf")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReportSchedule(Section):
    """One recurring report: the period before each due time, in the given languages/formats."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    period: Literal["month", "quarter", "year"] = "month"
    # Due on this day of the month after the period (of January for a year), at this local time.
    day: int = Field(default=2, ge=1, le=28)
    at: str = Field(default="08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    langs: list[Lang] = Field(default_factory=lambda: list(LANGS), min_length=1)
    formats: list[Format] = Field(default_factory=lambda: list(FORMATS), min_length=1)
    enterprises: bool = False  # also each enterprise's own report
    # A due report waits for stored readings past the period's end, at most this long (hours);
    # then it is made from what is stored, and says that the period is incomplete.
    grace_h: float = Field(default=24.0, ge=0)


class ReportSettings(Section):
    """Report files, links to them, and schedules."""

    folder: Path = Path("var/reports")
    # Links in announcements: base_url + "/" + file name (e.g. the twin API's
    # "http://twin.example:8080/api/reports/files"); without it, announcements name the path.
    base_url: str | None = None
    schedules: list[ReportSchedule] = Field(default_factory=list)
    check_interval_s: float = Field(default=60.0, gt=0)

    @field_validator("schedules")
    @classmethod
    def _names_unique(cls, schedules: list[ReportSchedule]) -> list[ReportSchedule]:
        names = [s.name for s in schedules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:  # each schedule keeps its state in a file of its name
            raise ValueError(f"schedule names must differ: {', '.join(twice)}")
        return schedules
