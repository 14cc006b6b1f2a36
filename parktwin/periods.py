"""The park's local calendar: hours, days, months and years cut at LOCAL boundaries.

A day starts at the park's local midnight (zoneinfo), not at UTC midnight, so a reading at
23:59:59 and one at 00:00:00 Asia/Shanghai fall on different days. Consumption between two
readings is the interval (t0, t1]; when it spans a boundary it is split between the periods in
proportion to the time it spends in each (a meter's energy is assumed to flow evenly between
two readings: the best guess without more data, and it never moves energy across more than the
gap itself). An interval ending exactly at midnight lies wholly in the old day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

MS_PER_HOUR = 3_600_000
# Results of the calendar's methods kept (they are pure: same zone and arguments, same result).
# A snapshot asks for the same starts and labels tick after tick; a Calendar holds only its
# zone, and there is one per park, so keeping them in the method's cache costs nothing.
CACHED = 4096


class Granularity(StrEnum):
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


GRANULARITIES = (Granularity.HOUR, Granularity.DAY, Granularity.MONTH, Granularity.YEAR)


@dataclass(frozen=True, slots=True)
class Calendar:
    """Period boundaries in epoch milliseconds for one time zone."""

    tz: ZoneInfo

    def local(self, ts_ms: int) -> datetime:
        """The local wall-clock time of an epoch-ms instant."""
        return datetime.fromtimestamp(ts_ms / 1000, self.tz)

    @lru_cache(maxsize=CACHED)  # noqa: B019
    def start_of(self, granularity: Granularity, ts_ms: int) -> int:
        """Start (epoch ms) of the period containing ``ts_ms``."""
        t = self.local(ts_ms)
        if granularity is Granularity.HOUR:
            return _ms(t.replace(minute=0, second=0, microsecond=0))
        if granularity is Granularity.DAY:
            return _ms(datetime(t.year, t.month, t.day, tzinfo=self.tz))
        if granularity is Granularity.MONTH:
            return _ms(datetime(t.year, t.month, 1, tzinfo=self.tz))
        return _ms(datetime(t.year, 1, 1, tzinfo=self.tz))

    @lru_cache(maxsize=CACHED)  # noqa: B019
    def shift(self, granularity: Granularity, start_ms: int, count: int) -> int:
        """Start of the period ``count`` periods after (negative: before) the one at start_ms."""
        t = self.local(start_ms)
        if granularity is Granularity.HOUR:
            # Step in absolute time, then floor: correct across daylight-saving changes.
            return self.start_of(granularity, start_ms + count * MS_PER_HOUR)
        if granularity is Granularity.DAY:
            day = t.date() + timedelta(days=count)
            return _ms(datetime(day.year, day.month, day.day, tzinfo=self.tz))
        if granularity is Granularity.MONTH:
            index = t.year * 12 + (t.month - 1) + count
            return _ms(datetime(index // 12, index % 12 + 1, 1, tzinfo=self.tz))
        return _ms(datetime(t.year + count, 1, 1, tzinfo=self.tz))

    def boundaries(self, granularity: Granularity, lo_ms: int, hi_ms: int) -> Ints:
        """Period starts from the one holding ``lo_ms`` up to the first at or after ``hi_ms``."""
        starts = [self.start_of(granularity, lo_ms)]
        while starts[-1] < hi_ms:
            starts.append(self.shift(granularity, starts[-1], 1))
        return np.asarray(starts, dtype=np.int64)

    @lru_cache(maxsize=CACHED)  # noqa: B019
    def label(self, granularity: Granularity, start_ms: int) -> str:
        """A readable name of a period: 2024-03-05T14, 2024-03-05, 2024-03, 2024."""
        t = self.local(start_ms)
        if granularity is Granularity.HOUR:
            return t.strftime("%Y-%m-%dT%H")
        if granularity is Granularity.DAY:
            return t.strftime("%Y-%m-%d")
        if granularity is Granularity.MONTH:
            return t.strftime("%Y-%m")
        return t.strftime("%Y")

    @lru_cache(maxsize=CACHED)  # noqa: B019
    def parse_label(self, granularity: Granularity, label: str) -> int:
        """Start (epoch ms) of the period a label names (the inverse of ``label``)."""
        formats = {
            Granularity.HOUR: "%Y-%m-%dT%H",
            Granularity.DAY: "%Y-%m-%d",
            Granularity.MONTH: "%Y-%m",
            Granularity.YEAR: "%Y",
        }
        naive = datetime.strptime(label, formats[granularity])
        return _ms(naive.replace(tzinfo=self.tz))


def _ms(t: datetime) -> int:
    return round(t.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class Pieces:
    """Amounts cut at period boundaries: ``amount[i]`` of ``item[i]`` in the period that starts
    at ``bounds[period[i]]`` (``start_ms[i]``)."""

    bounds: Ints
    period: Ints
    item: Ints
    amount: Floats

    @property
    def start_ms(self) -> Ints:
        """Each piece's period start."""
        return self.bounds[self.period]


def split(bounds: Ints, t0_ms: Ints, t1_ms: Ints, amount: Floats) -> Pieces:
    """Split each amount over (t0, t1] in proportion to its time in each period.

    ``bounds`` are period starts covering every t0 and t1 (see ``Calendar.boundaries``);
    every t1 must be greater than its t0.
    """
    first = np.searchsorted(bounds, t0_ms, side="right") - 1
    last = np.searchsorted(bounds, t1_ms, side="left") - 1
    counts = last - first + 1
    items = np.arange(len(t0_ms), dtype=np.int64)
    if not np.any(counts > 1):
        return Pieces(bounds, first, items, amount.astype(np.float64, copy=False))
    item = np.repeat(items, counts)
    offsets = np.cumsum(counts) - counts
    period = first[item] + (np.arange(len(item)) - offsets[item])
    lo = np.maximum(t0_ms[item], bounds[period])
    hi = np.minimum(t1_ms[item], bounds[period + 1])
    span = (t1_ms - t0_ms)[item].astype(np.float64)
    share = amount[item] * ((hi - lo) / span)
    return Pieces(bounds, period, item, share)
