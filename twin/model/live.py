"""The twin's live state: what changes as readings arrive, and what a checkpoint saves."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from twin.model.costs import CostLedger
from twin.model.counters import NEVER, CounterBook
from twin.model.inputs import MonthlyInputs
from twin.model.ledger import Ledger
from twin.model.topology import Topology

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class IngestStats:
    """What ingest did with what it was given, since the twin started (checkpoints keep it)."""

    readings: int = 0
    unknown_device_readings: int = 0
    unknown_quantity_values: int = 0
    rejected_values: int = 0  # not a finite number, or outside the quantity's valid range
    duplicate_values: int = 0  # same channel, same event time as the latest: ignored
    out_of_order_values: int = 0  # older than the channel's latest: ignored
    counter_resets: int = 0  # a counter restarted low, unexplained: counted from zero
    counter_rollovers: int = 0  # a counter passed its register's maximum
    counter_dropouts: int = 0  # a counter fell and came back (spurious zero): nothing counted
    counter_jitter: int = 0  # a counter fell within its tolerance: noise, nothing counted
    meter_replacements: int = 0  # meter_replaced inputs counted


@dataclass
class LiveState:
    """Everything that changes as readings arrive; what a checkpoint saves."""

    last_ts: Ints  # per channel, NEVER until read
    last_value: Floats  # per channel
    last_seen_ms: Ints  # per device, NEVER until read
    resets: Ints  # per device
    offline_ms: Ints  # per device: when it was declared offline (Sparkplug death), else NEVER
    ledger: Ledger
    counters: CounterBook
    watermark_ms: int = int(NEVER)
    stats: IngestStats = field(default_factory=IngestStats)
    monthly: dict[str, MonthlyInputs] = field(default_factory=dict)
    costs: CostLedger | None = None  # None: the park has no tariffs

    @classmethod
    def empty(cls, topology: Topology) -> LiveState:
        channels, devices = len(topology.channel_keys), len(topology.device_ids)
        return cls(
            last_ts=np.full(channels, NEVER, dtype=np.int64),
            last_value=np.zeros(channels),
            last_seen_ms=np.full(devices, NEVER, dtype=np.int64),
            resets=np.zeros(devices, dtype=np.int64),
            offline_ms=np.full(devices, NEVER, dtype=np.int64),
            ledger=Ledger(len(topology.flow_keys)),
            counters=CounterBook(np.zeros(channels)),
        )
