"""A building's base load: a low quantile of its hourly mean power over recent days, the power
it draws when nothing but what must run is running."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class BaseLoad:
    """Hourly mean powers (kW) of the last ``keep_hours`` ended hours."""

    keep_hours: int
    hours_kw: deque[float] = field(default_factory=deque)

    def learn(self, mean_kw: float) -> None:
        self.hours_kw.append(mean_kw)
        while len(self.hours_kw) > self.keep_hours:
            self.hours_kw.popleft()

    def base_kw(self, quantile: float, min_hours: int) -> float | None:
        """The quantile of the kept hours (nearest rank); None with fewer than ``min_hours``."""
        if len(self.hours_kw) < min_hours:
            return None
        ordered = sorted(self.hours_kw)
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]
