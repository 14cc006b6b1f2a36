"""Which readings move a channel forward, and the consumption between two counter readings.

Per channel the twin keeps the reading with the latest event time. A new value is *accepted*
only when its time is later than every earlier one of that channel: an older reading (late,
out of order) and a repeat of the same time (duplicate) are ignored, so nothing is counted
twice and the result does not depend on how readings are batched. Consumption is the step
from the previous accepted counter value; a drop means the meter was replaced or rolled over,
and the new reading is counted from zero. Consumption is therefore never negative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

NEVER = np.iinfo(np.int64).min
"""Last time of a channel that has never been read."""


@dataclass(frozen=True, slots=True)
class Advance:
    """Accepted values in arrival order per channel, each with the channel's previous value."""

    channel: Ints
    ts_ms: Ints
    value: Floats
    prev_ts_ms: Ints  # NEVER when the channel had no earlier value
    prev_value: Floats
    is_last: Bools  # the channel's newest accepted value of this batch
    duplicates: int
    out_of_order: int


def advance(
    channel: Ints, ts_ms: Ints, value: Floats, last_ts: Ints, last_value: Floats
) -> Advance:
    """Accept the readings of a batch against the channels' last times (vectorised).

    A value is accepted when its time exceeds the running maximum of its channel, which is the
    state's last time and every earlier value of the batch in arrival order.
    """
    if once_each(channel, len(last_ts)):
        return advance_once_each(channel, ts_ms, value, last_ts, last_value)
    return advance_grouped(channel, ts_ms, value, last_ts, last_value)


def advance_grouped(
    channel: Ints, ts_ms: Ints, value: Floats, last_ts: Ints, last_value: Floats
) -> Advance:
    """``advance`` of any batch: values grouped by channel, in arrival order within each."""
    order = np.argsort(channel, kind="stable")
    ch, ts, v = channel[order], ts_ms[order], value[order]
    n = len(ch)
    starts = np.ones(n, dtype=np.bool_)
    starts[1:] = ch[1:] != ch[:-1]
    group = np.cumsum(starts) - 1
    # Ranks keep the grouped running maximum in int64 whatever the time values are.
    times, rank = np.unique(ts, return_inverse=True)
    rank = rank.astype(np.int64) + 1
    span = len(times) + 1
    running = np.maximum.accumulate(group * span + rank)
    before = np.empty(n, dtype=np.int64)
    before[0] = 0
    before[1:] = running[:-1] - group[1:] * span
    before[starts] = 0  # rank 0: nothing earlier in the batch
    state_ts = last_ts[ch]
    batch_max_ts = np.where(before > 0, times[np.maximum(before, 1) - 1], NEVER)
    prev_max_ts = np.maximum(batch_max_ts, state_ts)
    accepted = ts > prev_max_ts
    duplicates = int(np.count_nonzero(~accepted & (ts == prev_max_ts)))
    out_of_order = int(np.count_nonzero(~accepted)) - duplicates

    idx = np.flatnonzero(accepted)
    a_ch, a_ts, a_v = ch[idx], ts[idx], v[idx]
    first = np.ones(len(idx), dtype=np.bool_)
    first[1:] = a_ch[1:] != a_ch[:-1]
    is_last = np.ones(len(idx), dtype=np.bool_)
    is_last[:-1] = first[1:]
    prev_ts = np.empty(len(idx), dtype=np.int64)
    prev_v = np.empty(len(idx), dtype=np.float64)
    prev_ts[1:], prev_v[1:] = a_ts[:-1], a_v[:-1]
    prev_ts[first] = last_ts[a_ch[first]]
    prev_v[first] = last_value[a_ch[first]]
    return Advance(a_ch, a_ts, a_v, prev_ts, prev_v, is_last, duplicates, out_of_order)


def once_each(channel: Ints, channels: int) -> bool:
    """Whether no channel appears twice in the batch (the usual case: one reading a device)."""
    return len(channel) <= channels and not np.any(np.bincount(channel, minlength=channels) > 1)


def advance_once_each(
    channel: Ints, ts_ms: Ints, value: Floats, last_ts: Ints, last_value: Floats
) -> Advance:
    """``advance`` of a batch that reads each channel at most once: each value is compared with
    its channel's last time only, and is its channel's newest (kept in arrival order, which
    nothing downstream depends on when no channel repeats)."""
    state_ts = last_ts[channel]
    accepted = ts_ms > state_ts
    if accepted.all():  # the usual case: every value is newer than its channel's last
        ones = np.ones(len(channel), dtype=np.bool_)
        return Advance(channel, ts_ms, value, state_ts, last_value[channel], ones, 0, 0)
    duplicates = int(np.count_nonzero(~accepted & (ts_ms == state_ts)))
    out_of_order = int(np.count_nonzero(~accepted)) - duplicates
    idx = np.flatnonzero(accepted)
    a_ch = channel[idx]
    return Advance(
        a_ch,
        ts_ms[idx],
        value[idx],
        state_ts[idx],
        last_value[a_ch],
        np.ones(len(idx), dtype=np.bool_),
        duplicates,
        out_of_order,
    )


def counter_delta(value: Floats, prev_value: Floats) -> tuple[Floats, Bools]:
    """Consumption between two counter values and whether the meter was reset in between."""
    reset = value < prev_value
    return np.where(reset, value, value - prev_value), reset


def held_integral(prev_value: Floats, dt_ms: Ints, max_hold_ms: Floats) -> Floats:
    """Value × hours, holding the previous value until the next reading (people → person-hours).

    An interval longer than ``max_hold_ms`` (the device was offline) integrates to zero:
    nobody knows how many people were there.
    """
    hours = dt_ms.astype(np.float64) / 3_600_000
    return np.where(dt_ms <= max_hold_ms, prev_value * hours, 0.0)
