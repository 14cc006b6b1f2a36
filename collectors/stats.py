"""What a collector did, counted: the summary a user checks and the service metrics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from parktwin.intake import PublishHealth
from parktwin.sequence import SequenceGaps


@dataclass
class CollectorStats:
    """Counters of one collector run. Readings are points (one device at one event time)."""

    messages_received: int = 0
    messages_rejected: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    readings_accepted: int = 0
    readings_written: int = 0  # stored in the database directly
    readings_spooled: int = 0  # put in the on-disk spool because the database failed
    readings_replayed: int = 0  # moved from the spool to the database
    readings_refused_by_database: int = 0  # lines the database itself refused (4xx)
    write_failures: int = 0
    reconnects: int = 0
    last_event_ts_ms: int | None = None
    mqtt: PublishHealth = field(default_factory=PublishHealth)  # dead letters the broker refused
    # Gaps in the devices' seq: messages the broker dropped (not counted under a shared
    # subscription, where each collector sees only its share of a device's messages).
    sequences: SequenceGaps = field(default_factory=SequenceGaps)
    sparkplug_rebirths_requested: int = 0  # NCMD Node Control/Rebirth sent
    sparkplug_seq_gaps: int = 0  # a Sparkplug seq that did not follow the last

    @property
    def readings_stored(self) -> int:
        """Readings that reached the database, directly or through the spool."""
        return self.readings_written + self.readings_replayed

    def summary(self, spool_pending_lines: int) -> str:
        """A few lines for the end of a run, with every count a user can check."""
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.rejected_by_reason.items()))
        return (
            f"messages received {self.messages_received}, rejected {self.messages_rejected}"
            + (f" ({reasons})" if reasons else "")
            + f"\nreadings accepted {self.readings_accepted}, stored {self.readings_stored}"
            f" (written {self.readings_written}, replayed from spool {self.readings_replayed}),"
            f" spooled {self.readings_spooled}, still in spool {spool_pending_lines},"
            f" refused by database {self.readings_refused_by_database}"
        )
