"""Gaps in the devices' sequence numbers: what the broker dropped, seen from the receiving end.

A broker says nothing to a subscriber about messages it dropped (a session queue over its limit,
a crash before its autosave; docs/reliability.md), but a device that numbers its messages
(``seq`` in the contract) lets the receiver count what never arrived. Per device: the highest
number seen; a jump from *n* to *n + k* is one gap of *k - 1* missing numbers, remembered one by
one (up to ``TRACKED_PER_DEVICE``) so that a late message fills its place again; a number seen
before is a repeat; a number far below the highest (more than ``RESTART_BELOW`` back) is a
device that started counting again. Readings without ``seq`` are not counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from parktwin.contract.reading import Reading

# A number this far below the highest is a restart of the device's count, not a late message
# (assumed: no message is held back by more than 1,000 of its successors).
RESTART_BELOW = 1000
# Missing numbers remembered per device, for late messages to fill; beyond, counted only.
TRACKED_PER_DEVICE = 1000


@dataclass(slots=True)
class DeviceSequence:
    """One device's sequence: what it has sent, as far as the receiver can tell."""

    highest: int
    missing: int = 0  # numbers below ``highest`` never received (so far)
    gaps: int = 0  # jumps seen
    repeats: int = 0
    late: int = 0  # missing numbers that arrived after all
    restarts: int = 0
    unfilled: set[int] = field(default_factory=set)  # the missing numbers remembered

    def observe(self, seq: int) -> None:
        highest = self.highest
        if seq == highest + 1:
            self.highest = seq
        elif seq > highest:
            skipped = seq - highest - 1
            self.gaps += 1
            self.missing += skipped
            room = TRACKED_PER_DEVICE - len(self.unfilled)
            if room > 0:
                self.unfilled.update(range(max(highest + 1, seq - room), seq))
            self.highest = seq
        elif seq in self.unfilled:
            self.unfilled.discard(seq)
            self.missing -= 1
            self.late += 1
        elif highest - seq > RESTART_BELOW:
            self.restarts += 1
            self.unfilled.clear()  # those still missing stay counted
            self.highest = seq
        else:
            self.repeats += 1


@dataclass
class SequenceGaps:
    """Every device's sequence, for the metrics and the twin's per-device figures."""

    devices: dict[str, DeviceSequence] = field(default_factory=dict)

    def observe(self, readings: Iterable[Reading]) -> None:
        """Take the ``seq`` of each reading that has one."""
        for reading in readings:
            if reading.seq is not None:
                self.observe_seq(reading.device_id, reading.seq)

    def observe_seq(self, device_id: str, seq: int) -> None:
        """Take one device's ``seq`` (the collector's shortcut has no reading to hand over)."""
        known = self.devices.get(device_id)
        if known is None:
            self.devices[device_id] = DeviceSequence(seq)
        else:
            known.observe(seq)

    def missing_by_device(self) -> dict[str, int]:
        """Devices with numbers missing now, and how many."""
        return {device: s.missing for device, s in self.devices.items() if s.missing}

    @property
    def missing(self) -> int:
        return sum(s.missing for s in self.devices.values())

    @property
    def gaps(self) -> int:
        return sum(s.gaps for s in self.devices.values())

    @property
    def repeats(self) -> int:
        return sum(s.repeats for s in self.devices.values())
