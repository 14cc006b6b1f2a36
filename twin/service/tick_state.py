"""One tick's state as the HTTP API shows it: made on the first request, kept for the tick.

The twin's full JSON form (every device, channel, meter and place: some 100,000 figures at
10,000 devices) cost more than the rest of a tick's outputs together, and most ticks nobody
asks for it. So a tick keeps its snapshot and the figures only it knows (the KPI summary it
published, the devices' missing sequence numbers at that tick), and ``state`` makes the JSON
form from them when first asked, the same dict the tick used to make every time; each answer's
bytes are kept as well, so that many readers of one tick serialise it once.
"""

from __future__ import annotations

from typing import Any

import orjson

from twin.state.snapshot import TwinSnapshot

JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


class TickState:
    """A tick's snapshot, its KPI summary and its JSON form on demand."""

    __slots__ = ("_bodies", "_state", "sequence_missing", "snapshot", "summary")

    def __init__(
        self, snapshot: TwinSnapshot, summary: dict[str, Any], sequence_missing: dict[str, int]
    ) -> None:
        """``sequence_missing``: each device's sequence numbers missing at the tick (devices
        with none missing left out)."""
        self.snapshot = snapshot
        self.summary = summary
        self.sequence_missing = sequence_missing
        self._state: dict[str, Any] | None = None
        self._bodies: dict[str | None, bytes] = {}

    def state(self) -> dict[str, Any]:
        """The snapshot's ``to_dict()`` with the summary as ``kpis`` and each device's missing
        sequence numbers beside its status (made once; readers must not change it)."""
        if self._state is None:
            state = self.snapshot.to_dict()
            state["kpis"] = self.summary
            devices = state["devices"]
            missing = self.sequence_missing
            ids = devices["ids"]
            devices["sequence_missing"] = (
                [missing.get(i, 0) for i in ids] if missing else [0] * len(ids)
            )
            self._state = state
        return self._state

    def body(self, section: str | None = None) -> bytes:
        """The JSON text of the state (``section`` None) or of one of its sections."""
        found = self._bodies.get(section)
        if found is None:
            if section == "kpis":  # the summary alone: no need of the whole JSON form
                value: Any = self.summary
            else:
                state = self.state()
                value = state if section is None else state.get(section)
            found = self._bodies[section] = orjson.dumps(value, option=JSON_OPTIONS)
        return found
