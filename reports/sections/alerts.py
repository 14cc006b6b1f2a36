"""Alerts of the period: what fired, when, and for how long inside the period."""

from __future__ import annotations

from reports.history import AlertChange
from reports.model import (
    Cell,
    Column,
    Headline,
    Note,
    Section,
    Table,
)
from reports.replay import HOUR_MS, Gathered
from reports.sections.costs import alert_cost


def alert_rows(g: Gathered, enterprise: str | None) -> list[list[Cell]]:
    """Each alert that was firing during the period: when it fired, when it was resolved and for
    how long it fired inside the period."""
    period, calendar = g.period, g.replayed.twin.calendar
    places: set[str] | None = None
    if enterprise is not None:
        found = next(e for e in g.park.enterprises if e.id == enterprise)
        places = {enterprise, *found.buildings}
    open_: dict[str, AlertChange] = {}
    spans: list[tuple[AlertChange, AlertChange | None]] = []
    for change in g.alerts:
        if change.state == "firing":
            open_.setdefault(change.fingerprint, change)
        elif change.state == "resolved" and change.fingerprint in open_:
            spans.append((open_.pop(change.fingerprint), change))
    spans += [(fired, None) for fired in open_.values()]
    rows: list[list[Cell]] = []
    for fired, resolved in sorted(spans, key=lambda s: s[0].at_ms):
        end = resolved.at_ms if resolved is not None else period.end_ms
        if end < period.start_ms or fired.at_ms >= period.end_ms:
            continue
        if places is not None and fired.place not in places:
            continue
        inside = min(end, period.end_ms) - max(fired.at_ms, period.start_ms)
        rows.append(
            [
                fired.rule,
                fired.severity,
                fired.place,
                calendar.local(fired.at_ms).strftime("%Y-%m-%d %H:%M"),
                calendar.local(resolved.at_ms).strftime("%Y-%m-%d %H:%M") if resolved else "",
                inside / HOUR_MS,
                *alert_cost(g, fired),
                fired.summary,
            ]
        )
    return rows


def alerts_section(g: Gathered, enterprise: str | None) -> tuple[Section, list[Headline]]:
    rows = alert_rows(g, enterprise)
    currency = g.park.tariffs.currency if g.park.tariffs is not None else ""
    table = Table(
        "alerts_fired",
        [
            Column("rule", kind="text"),
            Column("severity", kind="text"),
            Column("place", kind="text"),
            Column("fired", kind="text"),
            Column("resolved", kind="text"),
            Column("firing_in_period", "h", summable=True, digits=2),
            Column("alert_cost", currency, summable=True, digits=2),
            Column("alert_cost_basis", kind="label"),
            Column("summary", kind="text"),
        ],
        rows,
        total=len(rows) > 1,
    )
    notes = [Note("note.alerts_source"), Note("note.alert_cost")]
    if any(row[6] is None for row in rows):
        notes.append(Note("note.alert_cost_unknown"))
    if not rows:
        notes.insert(0, Note("note.no_alerts"))
    return Section("alerts", [table], notes), [Headline("alerts_count", len(rows), "", 0)]
