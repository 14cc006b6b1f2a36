"""Which readings move a channel forward, and the consumption between two counter readings.

Per channel the twin keeps the reading with the latest event time. A new value is *accepted*
only when its time is later than every earlier one of that channel: an older reading (late,
out of order) and a repeat of the same time (duplicate) are ignored, so nothing is counted
twice and the result does not depend on how readings are batched.

A counter's consumption is counted from its *high-water mark*, the highest value read since the
meter was last known to restart. What a decrease means (docs/twin.md, "Counters"):

- a small one (within the meter's jitter tolerance) is noise: nothing is counted, the mark stays;
- a large one is held as a *drop* until the next reading says what it was: back near the mark,
  a spurious zero or dropout (counts nothing); still low but rising, the meter restarted: a
  rollover when the register's maximum explains it (counts the wrap), else a reset (counted
  from zero, and raised as a ``counter_reset`` event for an operator to confirm);
- a replacement recorded as a ``meter_replaced`` input is counted exactly: the old meter up to
  its final reading, the new one from its initial reading.

Consumption is therefore never negative. The usual batch (every counter at or above its mark,
no drop held, no replacement waiting) is counted with whole-array operations; the channels that
are not usual go through ``CounterBook.take``, one value at a time, which is the definition.
"""

from __future__ import annotations

import math
from bisect import insort
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from parktwin.contract.quantities import DeviceKind
from parktwin.park.counters import CounterSettings

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
    is_first: Bools  # the channel's oldest accepted value of this batch
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
    return Advance(a_ch, a_ts, a_v, prev_ts, prev_v, is_last, first, duplicates, out_of_order)


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
        return Advance(channel, ts_ms, value, state_ts, last_value[channel], ones, ones, 0, 0)
    duplicates = int(np.count_nonzero(~accepted & (ts_ms == state_ts)))
    out_of_order = int(np.count_nonzero(~accepted)) - duplicates
    idx = np.flatnonzero(accepted)
    a_ch = channel[idx]
    ones = np.ones(len(idx), dtype=np.bool_)
    return Advance(
        a_ch,
        ts_ms[idx],
        value[idx],
        state_ts[idx],
        last_value[a_ch],
        ones,
        ones,
        duplicates,
        out_of_order,
    )


def held_integral(prev_value: Floats, dt_ms: Ints, max_hold_ms: Floats) -> Floats:
    """Value × hours, holding the previous value until the next reading (people → person-hours).

    An interval longer than ``max_hold_ms`` (the device was silent beyond its stale limit)
    integrates to zero: nobody knows how many people were there, and the twin's known hours of
    that counter (the same integral of 1) say so.
    """
    hours = dt_ms.astype(np.float64) / 3_600_000
    return np.where(dt_ms <= max_hold_ms, prev_value * hours, 0.0)


@dataclass(frozen=True, slots=True)
class ChannelRules:
    """Per channel, the counter tolerances of its meter (``parktwin.park.counters``)."""

    jitter_fraction: Floats
    jitter_abs: Floats
    modulus: Floats  # what the register counts before it shows zero again; NaN: no rollover
    window: Floats  # fraction of the register at either end where a drop may be a rollover

    def tolerance(self, channel: int, mark: float) -> float:
        """How far below its high-water mark a reading may fall and still be noise."""
        return max(float(self.jitter_abs[channel]), float(self.jitter_fraction[channel]) * mark)

    def is_rollover(self, channel: int, high: float, low: float) -> bool:
        """Whether a fall from ``high`` to ``low`` is the register starting again at zero."""
        modulus, window = float(self.modulus[channel]), float(self.window[channel])
        return (
            not math.isnan(modulus) and high >= modulus * (1 - window) and low <= modulus * window
        )


@dataclass(frozen=True, slots=True)
class Drop:
    """A large decrease the next reading must explain: the mark before it, and when."""

    high: float  # the high-water mark before the drop
    from_ts_ms: int  # the reading before the drop
    at_ts_ms: int  # the first low reading
    low: float  # the lowest value read since


@dataclass(frozen=True, slots=True)
class Replacement:
    """A meter swap on one channel: the old meter's last reading, the new one's first."""

    key: str  # device|quantity|time, so a report delivered twice is taken once
    at_ms: int
    final: float
    initial: float


@dataclass(frozen=True, slots=True)
class CounterEvent:
    """A counter that started again from a low value, and how it was counted."""

    device: str
    quantity: str
    kind: str  # reset (unexplained), rollover (the register's maximum), replaced (an input)
    from_ts_ms: int  # the last reading of the old count
    at_ms: int  # the first reading of the new count (for a replacement: its recorded time)
    before: float  # the high-water mark of the old count
    after: float  # the first value of the new count
    counted: float  # what the twin counted between the two readings
    confirmed: bool  # a reset stays unconfirmed until a meter_replaced input explains it


@dataclass
class Tally:
    """What the counters did in one batch."""

    jitter: int = 0  # decreases taken as noise
    dropouts: int = 0  # drops that came back: spurious zeros, dropouts
    rollovers: int = 0
    resets: int = 0  # unexplained drops, counted from zero
    replacements: int = 0  # meter_replaced inputs counted
    reset_devices: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Interval:
    """An amount to count on a channel over (t0, t1], beside the batch's own steps."""

    channel: int
    t0_ms: int
    t1_ms: int
    amount: float


@dataclass
class CounterBook:
    """Per counter channel: the high-water mark, a drop waiting to be explained, replacements
    waiting for their time, and the events a snapshot lists."""

    mark: Floats  # per channel
    drops: dict[int, Drop] = field(default_factory=dict)
    queued: dict[int, list[Replacement]] = field(default_factory=dict)
    applied: set[str] = field(default_factory=set)
    events: list[CounterEvent] = field(default_factory=list)

    def amounts(
        self,
        step: Advance,
        counter: Bools,
        rules: ChannelRules,
        keys: list[str],
        channel_device: Ints,
    ) -> tuple[Floats, list[Interval], Tally]:
        """Consumption of each accepted value of ``step`` (0 where ``counter`` is false), the
        amounts that belong to other intervals (a drop's first reading), and the tally."""
        amount = np.zeros(len(step.channel))
        extra: list[Interval] = []
        tally = Tally()
        idx = np.flatnonzero(counter)
        if not len(idx):
            return amount, extra, tally
        ch, value = step.channel[idx], step.value[idx]
        prev_ts = step.prev_ts_ms[idx]
        ref = np.where(step.is_first[idx], self.mark[ch], step.prev_value[idx])
        ref = np.where(prev_ts == NEVER, value, ref)  # a channel's first reading counts nothing
        odd = value < ref
        if self.drops or self.queued:
            odd |= np.isin(ch, np.fromiter(self.drops.keys() | self.queued.keys(), np.int64))
        plain = np.isin(ch, ch[odd]) if odd.any() else odd
        usual = ~plain
        amount[idx[usual]] = value[usual] - ref[usual]
        last = step.is_last[idx] & usual
        self.mark[ch[last]] = value[last]
        events = len(self.events)
        for j in np.flatnonzero(plain).tolist():  # each channel's values in arrival order
            i = int(idx[j])
            amount[i] = self.take(
                int(ch[j]),
                int(prev_ts[j]),
                int(step.ts_ms[i]),
                float(value[j]),
                float(step.prev_value[i]),
                rules,
                extra,
                tally,
                keys,
                channel_device,
            )
        if len(self.events) > events:  # in event-time order, however the batch was grouped
            self.events.sort(key=lambda e: (e.at_ms, e.device, e.quantity))
        return amount, extra, tally

    def take(
        self,
        channel: int,
        prev_ts_ms: int,
        ts_ms: int,
        value: float,
        prev_value: float,
        rules: ChannelRules,
        extra: list[Interval],
        tally: Tally,
        keys: list[str],
        channel_device: Ints,
    ) -> float:
        """One counter value after the previous one of its channel: what it counts over
        (prev_ts_ms, ts_ms]. Amounts of earlier intervals go to ``extra``."""
        mark = float(self.mark[channel])
        waiting = self.queued.get(channel, [])
        due = [r for r in waiting if r.at_ms <= ts_ms]
        if due:
            rest = [r for r in waiting if r.at_ms > ts_ms]
            if rest:
                self.queued[channel] = rest
            else:
                del self.queued[channel]
        if prev_ts_ms == NEVER:  # the first reading: a replacement before it corrects nothing
            self.mark[channel] = value
            self.applied.update(r.key for r in due)
            return 0.0
        if due:
            self.drops.pop(channel, None)
            counted = 0.0
            for r in due:
                old = max(r.final - mark, 0.0)
                counted += old
                self.applied.add(r.key)
                tally.replacements += 1
                self._event(keys, channel, "replaced", prev_ts_ms, r.at_ms, mark, r.initial, old)
                mark = r.initial
            counted += max(value - mark, 0.0)
            self.mark[channel] = max(value, mark)
            return counted
        drop = self.drops.get(channel)
        if value >= mark:
            if drop is not None:
                del self.drops[channel]
                tally.dropouts += 1
            self.mark[channel] = value
            return value - mark
        if value >= mark - rules.tolerance(channel, mark):
            if drop is not None:
                del self.drops[channel]
                tally.dropouts += 1
            else:
                tally.jitter += 1
            return 0.0
        if drop is None:  # a large drop: the next reading says what it was
            self.drops[channel] = Drop(mark, prev_ts_ms, ts_ms, value)
            return 0.0
        if value <= prev_value:  # still low (a run of zeros): wait
            if value < drop.low:
                self.drops[channel] = replace(drop, low=value)
            return 0.0
        # Low and rising: the meter counts again from a low value.
        del self.drops[channel]
        if rules.is_rollover(channel, drop.high, drop.low):
            before = float(rules.modulus[channel]) - drop.high + drop.low
            kind, confirmed = "rollover", True
            tally.rollovers += 1
        else:
            before = drop.low  # counted from zero, as an unexplained reset
            kind, confirmed = "reset", False
            tally.resets += 1
            tally.reset_devices.append(int(channel_device[channel]))
        extra.append(Interval(channel, drop.from_ts_ms, drop.at_ts_ms, before))
        self._event(
            keys,
            channel,
            kind,
            drop.from_ts_ms,
            drop.at_ts_ms,
            drop.high,
            drop.low,
            before,
            confirmed,
        )
        self.mark[channel] = value
        return value - drop.low

    def _event(
        self,
        keys: list[str],
        channel: int,
        kind: str,
        from_ts_ms: int,
        at_ms: int,
        before: float,
        after: float,
        counted: float,
        confirmed: bool = True,
    ) -> None:
        device, quantity = keys[channel].split("|", 1)
        event = CounterEvent(
            device, quantity, kind, from_ts_ms, at_ms, before, after, counted, confirmed
        )
        # In event-time order, however a batch was grouped by channel.
        insort(self.events, event, key=lambda e: (e.at_ms, e.device, e.quantity))

    def prune(self, oldest_ms: int) -> None:
        """Forget events older than ``oldest_ms`` (event time)."""
        if any(e.at_ms < oldest_ms for e in self.events):
            self.events = [e for e in self.events if e.at_ms >= oldest_ms]

    def record(
        self,
        channel: int,
        swap: Replacement,
        last_ts_ms: int,
        last_value: float,
        keys: list[str],
    ) -> tuple[list[Interval], str | None]:
        """Take a ``meter_replaced`` input: the amounts it corrects now, or why it cannot be used.

        A swap later than the channel's last reading waits for the reading that crosses it. A
        swap the twin has already passed corrects what it counted there: the drop it holds, or
        the reset it counted from zero. Taking the same swap twice changes nothing.
        """
        if swap.key in self.applied or any(q.key == swap.key for q in self.queued.get(channel, [])):
            return [], None
        if last_ts_ms == NEVER or last_ts_ms < swap.at_ms:
            waiting = self.queued.setdefault(channel, [])
            waiting.append(swap)
            waiting.sort(key=lambda r: r.at_ms)
            return [], None
        drop = self.drops.get(channel)
        if drop is not None and drop.from_ts_ms < swap.at_ms:
            del self.drops[channel]
            old = max(swap.final - drop.high, 0.0) + max(drop.low - swap.initial, 0.0)
            self.applied.add(swap.key)
            self.mark[channel] = max(last_value, swap.initial)
            self._event(
                keys, channel, "replaced", drop.from_ts_ms, swap.at_ms, drop.high, swap.initial, old
            )
            return [
                Interval(channel, drop.from_ts_ms, drop.at_ts_ms, old),
                Interval(channel, drop.at_ts_ms, last_ts_ms, max(last_value - drop.low, 0.0)),
            ], None
        device, quantity = keys[channel].split("|", 1)
        for i, event in enumerate(self.events):
            if (
                event.kind == "reset"
                and (event.device, event.quantity) == (device, quantity)
                and event.from_ts_ms < swap.at_ms <= event.at_ms
            ):
                exact = max(swap.final - event.before, 0.0) + max(event.after - swap.initial, 0.0)
                self.applied.add(swap.key)
                self.events[i] = replace(event, kind="replaced", counted=exact, confirmed=True)
                correction = exact - event.counted
                return [Interval(channel, event.from_ts_ms, event.at_ms, correction)], None
        return [], (
            f"{device} {quantity}: the twin has read this meter past {swap.at_ms} ms and saw no "
            "drop there to correct"
        )


def channel_rules(
    settings: CounterSettings, devices: list[tuple[str, DeviceKind]], channel_device: Ints
) -> ChannelRules:
    """Each channel's tolerances, from the park file's ``counters:`` section."""
    # Worked out once per kind; only devices with an entry of their own are merged apart.
    per_kind = {kind: settings.for_device("", kind) for kind in {kind for _, kind in devices}}
    per_device = [
        settings.for_device(device_id, kind) if device_id in settings.devices else per_kind[kind]
        for device_id, kind in devices
    ]
    modulus = [t.modulus() for t in per_device]
    take = channel_device
    return ChannelRules(
        jitter_fraction=np.asarray([t.jitter_pct / 100 for t in per_device])[take],
        jitter_abs=np.asarray([t.jitter_abs for t in per_device])[take],
        modulus=np.asarray([math.nan if m is None else m for m in modulus])[take],
        window=np.asarray([t.rollover_window_pct / 100 for t in per_device])[take],
    )


def series_steps(values: Floats, rules: ChannelRules, channel: int) -> Floats:
    """The consumption of each step of one counter's readings, in time order (one amount per
    consecutive pair), by the twin's rules: ``CounterBook.take`` from a fresh book. A drop's
    first low reading counts in its own step, as the twin counts it."""
    steps = np.diff(values)
    if not len(steps) or (steps >= 0).all():  # the usual series: every step is its amount
        return steps
    channels = len(rules.jitter_fraction)
    book = CounterBook(np.zeros(channels))
    keys, devices = ["|"] * channels, np.zeros(channels, dtype=np.int64)
    amounts = np.zeros(len(steps))
    extra: list[Interval] = []
    tally = Tally()
    book.take(channel, NEVER, 0, float(values[0]), 0.0, rules, extra, tally, keys, devices)
    for i in range(1, len(values)):
        amounts[i - 1] = book.take(
            channel,
            i - 1,
            i,
            float(values[i]),
            float(values[i - 1]),
            rules,
            extra,
            tally,
            keys,
            devices,
        )
    for interval in extra:  # the step of each drop: from its last high reading to its first low
        amounts[interval.t1_ms - 1] += interval.amount
    return amounts
