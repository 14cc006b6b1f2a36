"""The twin's live state: what changes as readings arrive, and what a checkpoint saves."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from twin.counters import NEVER
from twin.inputs import MonthlyInputs
from twin.ledger import Ledger
from twin.snapshot import IngestStats
from twin.topology import Topology

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass
class LiveState:
    """Everything that changes as readings arrive; what a checkpoint saves."""

    last_ts: Ints  # per channel, NEVER until read
    last_value: Floats  # per channel
    last_seen_ms: Ints  # per device, NEVER until read
    resets: Ints  # per device
    ledger: Ledger
    watermark_ms: int = int(NEVER)
    stats: IngestStats = field(default_factory=IngestStats)
    monthly: dict[str, MonthlyInputs] = field(default_factory=dict)

    @classmethod
    def empty(cls, topology: Topology) -> LiveState:
        channels, devices = len(topology.channel_keys), len(topology.device_ids)
        return cls(
            last_ts=np.full(channels, NEVER, dtype=np.int64),
            last_value=np.zeros(channels),
            last_seen_ms=np.full(devices, NEVER, dtype=np.int64),
            resets=np.zeros(devices, dtype=np.int64),
            ledger=Ledger(len(topology.flow_keys)),
        )
