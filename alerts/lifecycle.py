"""The life of one alert: pending → firing → resolving → resolved, on event time.

A condition must hold for ``for_ms`` before the alert fires, and its clear condition (the value
below the limit by the hysteresis band) for ``clear_ms`` before it resolves; a value inside the
band changes nothing. An alert tied to a period (a day's budget) resolves when the period ends.
Only firing and resolved are announced: pending and resolving are quiet, which is what keeps a
value wavering around its limit from flapping.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class Phase(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    RESOLVING = "resolving"


@dataclass(frozen=True, slots=True)
class Condition:
    """One evaluation of one alert: is its condition met, is it clearly over, and the figures.

    ``breach`` None means unknown (no data yet): the alert keeps its phase.
    """

    breach: bool | None
    clear: bool
    value: float
    limit: float
    unit: str
    summary: str
    forecast: float | None = None
    scope: str = ""  # the period an alert belongs to ("2026-03-02"); "" for none


@dataclass(frozen=True, slots=True)
class Tracked:
    """An alert's phase and the figures it was last seen with."""

    phase: Phase
    since_ms: int  # when the condition began to hold
    fired_ms: int = 0
    clear_since_ms: int = 0
    scope: str = ""
    value: float = 0.0
    limit: float = 0.0
    peak: float = 0.0  # highest value while active
    forecast: float | None = None
    unit: str = ""
    summary: str = ""


@dataclass(frozen=True, slots=True)
class Change:
    """An announced change: the alert fired, or was resolved, at ``at_ms``."""

    state: str  # "firing" or "resolved"
    at_ms: int
    tracked: Tracked
    reason: str = ""


def _seen(tracked: Tracked, condition: Condition) -> Tracked:
    return replace(
        tracked,
        value=condition.value,
        limit=condition.limit,
        peak=max(tracked.peak, condition.value),
        forecast=condition.forecast,
        unit=condition.unit,
        summary=condition.summary,
    )


def step(
    tracked: Tracked | None, condition: Condition, now_ms: int, for_ms: int, clear_ms: int
) -> tuple[Tracked | None, list[Change]]:
    """The alert's next phase after one evaluation, and what to announce."""
    changes: list[Change] = []
    active = tracked is not None and tracked.phase is not Phase.PENDING
    if tracked is not None and tracked.scope != condition.scope:
        if active:
            changes.append(Change("resolved", now_ms, tracked, "period ended"))
        tracked = None
    if condition.breach is None:
        return tracked, changes
    if tracked is None or tracked.phase is Phase.PENDING:
        if not condition.breach:
            return None, changes
        if tracked is None:
            tracked = Tracked(Phase.PENDING, now_ms, scope=condition.scope, peak=condition.value)
        tracked = _seen(tracked, condition)
        if now_ms - tracked.since_ms >= for_ms:
            tracked = replace(tracked, phase=Phase.FIRING, fired_ms=now_ms)
            changes.append(Change("firing", now_ms, tracked))
        return tracked, changes
    tracked = _seen(tracked, condition)
    if not condition.clear:
        return replace(tracked, phase=Phase.FIRING, clear_since_ms=0), changes
    if tracked.phase is Phase.FIRING:
        tracked = replace(tracked, phase=Phase.RESOLVING, clear_since_ms=now_ms)
    if now_ms - tracked.clear_since_ms >= clear_ms:
        changes.append(Change("resolved", now_ms, tracked, "cleared"))
        return None, changes
    return tracked, changes
