"""Per-flow totals of each hour, day, month and year, kept for a bounded number of periods."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from parktwin.park.twin import Retention
from parktwin.periods import GRANULARITIES, Calendar, Granularity, Pieces

Floats = npt.NDArray[np.float64]


def keep_count(retention: Retention, granularity: Granularity) -> int:
    """How many periods of one granularity the ledger keeps, the current one included."""
    return {
        Granularity.HOUR: retention.hours,
        Granularity.DAY: retention.days,
        Granularity.MONTH: retention.months,
        Granularity.YEAR: retention.years,
    }[granularity]


@dataclass
class Ledger:
    """Totals per flow: ``periods[granularity][start_ms]`` is an array over flows."""

    n_flows: int
    periods: dict[Granularity, dict[int, Floats]] = field(
        default_factory=lambda: {g: {} for g in GRANULARITIES}
    )

    def totals(self, granularity: Granularity, start_ms: int) -> Floats:
        """The totals of one period (zeros when nothing was counted in it)."""
        found = self.periods[granularity].get(start_ms)
        return found if found is not None else np.zeros(self.n_flows)

    def add(self, granularity: Granularity, pieces: Pieces, flow: npt.NDArray[np.int64]) -> None:
        """Add amounts cut at this granularity's boundaries; ``flow[pieces.item]`` names columns."""
        columns = flow[pieces.item]
        table = self.periods[granularity]
        # The periods the pieces fall in, oldest first, and each piece's rank among them.
        present = np.flatnonzero(np.bincount(pieces.period))
        rank = np.zeros(present[-1] + 1 if len(present) else 0, dtype=np.int64)
        rank[present] = np.arange(len(present))
        # One bincount for all periods: each (period, flow) adds its pieces in their order.
        added = np.asarray(
            np.bincount(
                rank[pieces.period] * self.n_flows + columns,
                weights=pieces.amount,
                minlength=len(present) * self.n_flows,
            ),
            dtype=np.float64,
        ).reshape(len(present), self.n_flows)
        for start, row in zip(pieces.bounds[present].tolist(), added, strict=True):
            if start in table:
                table[start] += row
            else:
                table[start] = row if len(present) == 1 else row.copy()

    def add_totals(self, granularity: Granularity, start_ms: int, totals: Floats) -> None:
        """Add per-flow totals to one period (``totals`` is copied, never kept)."""
        table = self.periods[granularity]
        if start_ms in table:
            table[start_ms] += totals
        else:
            table[start_ms] = totals.copy()

    def prune(self, calendar: Calendar, retention: Retention, watermark_ms: int) -> None:
        """Drop periods older than the retention window before the watermark's period."""
        self.prune_before(
            {
                granularity: oldest_kept(
                    calendar, retention, granularity, calendar.start_of(granularity, watermark_ms)
                )
                for granularity in self.periods
            }
        )

    def prune_before(self, oldest: dict[Granularity, int]) -> None:
        """Drop the periods that start before the oldest one kept of their granularity."""
        for granularity, table in self.periods.items():
            first = oldest[granularity]
            if table and min(table) < first:
                for start in [s for s in table if s < first]:
                    del table[start]


def oldest_kept(
    calendar: Calendar, retention: Retention, granularity: Granularity, current_ms: int
) -> int:
    """The oldest period start the ledger keeps while the current period starts at current_ms."""
    return calendar.shift(granularity, current_ms, 1 - keep_count(retention, granularity))
