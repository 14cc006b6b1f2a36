"""A place's cumulative energy (or CO2, or tce) over event time, from the twin's year totals.

The twin reports running totals of the current year; this track turns them into one ever-growing
series, keeps a thinned history of it, and answers two questions: the mean rate over a recent
window, and the amount of each local hour that has ended (for learning profiles).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from parktwin.periods import MS_PER_HOUR, Calendar, Granularity

# Hours are learnt only when the samples either side of them are this close: across a longer
# gap (the service was down) how the energy spread over the hours is unknown.
MAX_LEARNING_GAP_MS = 2 * MS_PER_HOUR


@dataclass
class Sample:
    t_ms: int
    total: float


@dataclass
class CumulativeTrack:
    """An ever-growing total, sampled at the watermarks it was observed at."""

    keep_ms: int  # history kept, at least the longest window asked of it
    year: str = ""
    offset: float = 0.0  # totals of the years before ``year``
    year_total: float = 0.0
    samples: deque[Sample] = field(default_factory=deque)
    latest: Sample | None = None
    hour_anchor: Sample | None = None  # the total at the last local hour boundary passed

    def observe(
        self, t_ms: int, year: str, year_total: float, calendar: Calendar
    ) -> list[tuple[int, float]]:
        """Take the year's total at ``t_ms``; return (hour start, amount) of hours that ended."""
        restarted = False
        if year != self.year:
            # A new year: the old year's last total becomes part of the offset.
            if self.year:
                self.offset += self.year_total
            self.year = year
        elif year_total < self.year_total:
            # Totals never fall within a year unless the twin started again from less (no
            # checkpoint): carry on from where the series was, and learn nothing across.
            self.offset += self.year_total - year_total
            restarted = True
        self.year_total = year_total
        now = Sample(t_ms, self.offset + year_total)
        previous, self.latest = self.latest, now
        if previous is None:
            self.samples.append(now)
            return []
        if not self.samples or t_ms - self.samples[-1].t_ms >= self.keep_ms // 100:
            self.samples.append(now)  # thinned: about a hundred samples a history
        while len(self.samples) > 2 and self.samples[1].t_ms <= t_ms - self.keep_ms:
            self.samples.popleft()
        if restarted:
            self.hour_anchor = None
            return []
        return self._ended_hours(previous, now, calendar)

    def _ended_hours(
        self, previous: Sample, now: Sample, calendar: Calendar
    ) -> list[tuple[int, float]]:
        if now.t_ms - previous.t_ms > MAX_LEARNING_GAP_MS:
            self.hour_anchor = None
            return []
        ended = []
        boundary = calendar.shift(
            Granularity.HOUR, calendar.start_of(Granularity.HOUR, previous.t_ms), 1
        )
        while boundary <= now.t_ms:
            at = Sample(boundary, _interpolate(previous, now, boundary))
            anchor = self.hour_anchor
            if anchor is not None and boundary - anchor.t_ms <= MS_PER_HOUR:
                ended.append((anchor.t_ms, at.total - anchor.total))
            self.hour_anchor = at
            boundary = calendar.shift(Granularity.HOUR, boundary, 1)
        return ended

    def rate_per_ms(self, window_ms: int) -> float | None:
        """Mean rate over the last ``window_ms``; None until the history covers the window."""
        latest = self.latest
        if latest is None or not self.samples:
            return None
        start = latest.t_ms - window_ms
        if self.samples[0].t_ms > start:
            return None
        before = self.samples[0]
        for sample in self.samples:
            if sample.t_ms > start:
                return (latest.total - _interpolate(before, sample, start)) / window_ms
            before = sample
        return (latest.total - _interpolate(before, latest, start)) / window_ms


def _interpolate(a: Sample, b: Sample, t_ms: int) -> float:
    if b.t_ms <= a.t_ms:
        return b.total
    return a.total + (b.total - a.total) * (t_ms - a.t_ms) / (b.t_ms - a.t_ms)
