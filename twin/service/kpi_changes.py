"""Which of a tick's KPI points to write: those that changed, and every point once a minute.

A point is stamped with the twin's event-time watermark, and most of a tick's points are the
same as the last tick's (a year's totals of a building that sent nothing in the last seconds).
InfluxDB needs only the changes: a point written again with the same fields adds nothing to a
query for the latest value. The dashboards, though, read the twin's measurements as the last
value in each time bucket, one minute at the finest (``dashboards/datasource.py``), and the
monthly reports read the last ``twin_balance`` point of each month. So the first tick of every
event-time minute writes the full set, and the ticks between write only the points whose series
or fields differ from the tick before. After a failed write the next tick writes the full set
again, as the twin did before (its outputs are derived: it writes the current values again).
"""

from __future__ import annotations

from dataclasses import dataclass, field

FULL_SET_EVERY_MS = 60_000  # the dashboards' finest bucket (dashboards/datasource.py)


@dataclass
class ChangedPoints:
    """The points of successive ticks to write, from their bodies (series key and fields)."""

    full_set_every_ms: int = FULL_SET_EVERY_MS
    _last: list[str] | None = None  # the bodies of the last tick; None: write all
    _period: int | None = field(default=None)

    def __call__(self, bodies: list[str], watermark_ms: int) -> list[str]:
        """The lines to write of a tick's point bodies, stamped with ``watermark_ms``."""
        period = watermark_ms // self.full_set_every_ms
        last, self._last = self._last, bodies
        if last is None or period != self._period:
            self._period = period
            chosen = bodies
        else:  # the set only on the ticks that need it: most ticks of a minute, not its first
            written = frozenset(last)
            chosen = [body for body in bodies if body not in written]
        suffix = f" {watermark_ms}"
        return [body + suffix for body in chosen]

    def forget(self) -> None:
        """Write the full set at the next tick (the last write failed)."""
        self._last = None
