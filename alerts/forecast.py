"""Forecast of a period's energy at its end: what has been used, plus what the place usually uses
in the hours left, scaled by how the period so far compares with usual.

The profile holds, per local hour of the week (168 slots) and per hour of the day (24 slots,
every day pooled, the fallback while a week slot has too few samples), an exponentially weighted
mean and variance of the hour's energy. The forecast's spread combines the profile's variance
of the hours left with the uncertainty of the scale, estimated from the hours already seen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from parktwin.periods import Calendar, Granularity

HOURS_A_WEEK = 168


@dataclass
class SlotStats:
    """Exponentially weighted mean and variance of one slot's hourly energy."""

    n: int = 0
    mean: float = 0.0
    var: float = 0.0

    def learn(self, value: float, alpha: float) -> None:
        self.n += 1
        # The first samples weigh equally (1/n) until the weight reaches alpha.
        weight = max(alpha, 1.0 / self.n)
        diff = value - self.mean
        increment = weight * diff
        self.mean += increment
        self.var = (1 - weight) * (self.var + diff * increment)


def _slots(count: int) -> list[SlotStats]:
    return [SlotStats() for _ in range(count)]


@dataclass
class HourProfile:
    """A place's usual energy per local hour of the week, learnt from ended hours."""

    week: list[SlotStats] = field(default_factory=lambda: _slots(HOURS_A_WEEK))
    day: list[SlotStats] = field(default_factory=lambda: _slots(24))

    def learn(self, calendar: Calendar, hour_start_ms: int, energy: float, alpha: float) -> None:
        """Take one ended hour's energy."""
        t = calendar.local(hour_start_ms)
        self.week[t.weekday() * 24 + t.hour].learn(energy, alpha)
        self.day[t.hour].learn(energy, alpha)

    def expect(self, calendar: Calendar, hour_start_ms: int, min_samples: int) -> SlotStats | None:
        """The hour's statistics: its week slot, else its day slot, else None (not known yet)."""
        t = calendar.local(hour_start_ms)
        slot = self.week[t.weekday() * 24 + t.hour]
        if slot.n >= min_samples:
            return slot
        pooled = self.day[t.hour]
        return pooled if pooled.n >= min_samples else None


@dataclass(frozen=True, slots=True)
class Forecast:
    """The period's expected total at its end, and its standard deviation (same unit)."""

    used: float
    expected_so_far: float
    expected_rest: float
    scale: float
    total: float
    sigma: float
    elapsed_fraction: float

    def lower(self, z: float) -> float:
        return self.total - z * self.sigma

    def upper(self, z: float) -> float:
        return self.total + z * self.sigma


def forecast_period(
    profile: HourProfile,
    calendar: Calendar,
    now_ms: int,
    start_ms: int,
    end_ms: int,
    used: float,
    min_samples: int,
) -> Forecast | None:
    """Forecast of [start, end) at ``now``; None while an hour of the period has no profile."""
    so_far = var_so_far = rest = var_rest = 0.0
    hour = calendar.start_of(Granularity.HOUR, start_ms)
    while hour < end_ms:
        following = calendar.shift(Granularity.HOUR, hour, 1)
        stats = profile.expect(calendar, hour, min_samples)
        if stats is None:
            return None
        length = following - hour
        # The part of the hour before now, and the part after, within the period.
        past = max(0, min(following, now_ms) - max(hour, start_ms)) / length
        future = max(0, min(following, end_ms) - max(hour, now_ms, start_ms)) / length
        so_far += past * stats.mean
        var_so_far += past * past * stats.var
        rest += future * stats.mean
        var_rest += future * future * stats.var
        hour = following
    # Busier than usual so far: probably busier than usual for the rest of the period too.
    scale = used / so_far if so_far > 0 else 1.0
    relative = math.sqrt(var_so_far) / so_far if so_far > 0 else 0.0
    sigma = math.sqrt(scale * scale * var_rest + (scale * rest * relative) ** 2)
    elapsed = (now_ms - start_ms) / (end_ms - start_ms)
    return Forecast(used, so_far, rest, scale, used + scale * rest, sigma, elapsed)
