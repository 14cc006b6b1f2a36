"""What the twin service makes of each snapshot, less its I/O: one tick's outputs.

The KPI summary (retained on ``parks/{park}/twin/state``), the KPI points to write (those that
changed since the last tick; all of them at the first tick of each event-time minute and after
a failed write, ``kpi_changes.py``) and the state for the HTTP API (its JSON form made when
asked, ``tick_state.py``). Everything comes from the snapshot's arrays and its
``outputs_dict``; the series keys, field templates and the last tick's points are kept from
tick to tick. ``bench/twin_tick.py`` times this, as the service runs it.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from parktwin.park.model import Park
from twin.service.kpi_changes import ChangedPoints
from twin.service.kpi_lines import KpiLines
from twin.service.tick_state import TickState
from twin.state.snapshot import TwinSnapshot
from twin.state.summary import SummaryOfSnapshots


@dataclass(frozen=True, slots=True)
class TickOutput:
    """One tick's outputs."""

    state: TickState  # for the HTTP API
    summary_json: bytes  # the retained state topic's payload
    lines: list[str]  # the KPI points to write


class TickOutputs:
    """The outputs of successive snapshots of one park."""

    def __init__(self, park: Park) -> None:
        self.park = park
        self.kpi_lines = KpiLines(park)  # keeps the series keys from tick to tick
        self.changed_points = ChangedPoints()  # the last tick's points, to write the changes
        self.summaries = SummaryOfSnapshots(park)

    def __call__(self, snapshot: TwinSnapshot, sequence_missing: dict[str, int]) -> TickOutput:
        """The outputs of ``snapshot``; ``sequence_missing`` as ``TickState`` takes it."""
        outputs = snapshot.outputs_dict()  # the JSON form less the columns, read as arrays
        summary = self.summaries(snapshot, outputs)
        watermark = snapshot.watermark_ms
        lines = (
            []
            if watermark is None
            else self.changed_points(self.kpi_lines.bodies(snapshot, outputs), watermark)
        )
        body = orjson.dumps(summary, option=orjson.OPT_NON_STR_KEYS)
        return TickOutput(TickState(snapshot, summary, sequence_missing), body, lines)

    def write_failed(self) -> None:
        """The last points were not stored: the next tick writes the full set again."""
        self.changed_points.forget()
