"""When a scheduled report is due, and which period it covers; what has been made (a small state
file per schedule).

Schedules run on the wall clock in the park's time zone: "the 2nd of each month at 08:00"
means real time, because people expect the report then. The report's contents are chosen by
event time: the period before the due time, replayed from stored readings. A report missed
while the service was down is made when it comes back: every due time since the schedule was
first seen that has no report yet is made, oldest first (a schedule added today does not make
the reports of past years).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

from parktwin.atomic import atomic_write
from parktwin.report_settings import ReportSchedule

MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}


def period_label(kind: str, year: int, month: int) -> str:
    """The label of the period of ``kind`` starting in ``year``/``month``."""
    if kind == "month":
        return f"{year:04d}-{month:02d}"
    if kind == "quarter":
        return f"{year:04d}-Q{(month - 1) // 3 + 1}"
    return f"{year:04d}"


@dataclass(frozen=True, slots=True)
class Due:
    due_ms: int
    period: str  # the label of the period the report covers


def due_times(schedule: ReportSchedule, tz: ZoneInfo, since_ms: int, until_ms: int) -> list[Due]:
    """Due times in (since_ms, until_ms], oldest first, with the period each one reports."""
    step = MONTHS_PER[schedule.period]
    hour, minute = (int(x) for x in schedule.at.split(":"))
    start = datetime.fromtimestamp(since_ms / 1000, tz)
    # Period starts are aligned to their kind: every month, Jan/Apr/Jul/Oct, or January.
    index = start.year * 12 + (start.month - 1)
    index -= index % step
    index -= step  # the period before, whose report may fall due after since_ms
    found: list[Due] = []
    while True:
        year, month = divmod(index, 12)
        after = index + step  # the due time is in the month after the period
        due = datetime(after // 12, after % 12 + 1, schedule.day, hour, minute, tzinfo=tz)
        due_ms = round(due.timestamp() * 1000)
        if due_ms > until_ms:
            return found
        if due_ms > since_ms:
            found.append(Due(due_ms, period_label(schedule.period, year, month + 1)))
        index = after


@dataclass
class ScheduleState:
    """What one schedule has made; ``first_seen_ms`` bounds the catch-up."""

    first_seen_ms: int
    done: dict[str, str] = field(default_factory=dict)  # period -> outcome ("made", "no data")


def state_path(folder: Path, schedule: ReportSchedule) -> Path:
    return folder / ".schedules" / f"{schedule.name}.json"


def load_state(folder: Path, schedule: ReportSchedule, now_ms: int) -> ScheduleState:
    """The schedule's state; a new one (first seen now) when there is none or it is unreadable."""
    try:
        data = orjson.loads(state_path(folder, schedule).read_bytes())
        return ScheduleState(int(data["first_seen_ms"]), dict(data["done"]))
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        state = ScheduleState(now_ms)
        save_state(folder, schedule, state)
        return state


def save_state(folder: Path, schedule: ReportSchedule, state: ScheduleState) -> None:
    atomic_write(
        state_path(folder, schedule),
        orjson.dumps({"first_seen_ms": state.first_seen_ms, "done": state.done}),
    )


def pending(schedule: ReportSchedule, tz: ZoneInfo, state: ScheduleState, now_ms: int) -> list[Due]:
    """Due times up to now whose report has not been made, oldest first."""
    return [
        d
        for d in due_times(schedule, tz, state.first_seen_ms, now_ms)
        if d.period not in state.done
    ]
