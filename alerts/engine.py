"""The alert engine: each snapshot in, the alerts that fired or resolved out.

It runs on the twin's event time only. A snapshot whose watermark does not advance is ignored
(ticks without news, or a restarted twin replaying what the engine has already seen), so two
runs fed the same readings announce the same alerts at the same event times, whatever the wall
clock did. What it learns (hourly profiles, base loads) and each alert's phase are its state,
saved and restored as JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from pydantic import TypeAdapter

from alerts import conditions
from alerts.baseline import BaseLoad
from alerts.fingerprint import fingerprint
from alerts.forecast import HourProfile
from alerts.lifecycle import Change, Condition, Phase, Tracked, step
from alerts.lookup import SnapshotLookup, place_name
from alerts.series import CumulativeTrack
from parktwin.park.alerts import (
    FORECAST_SUFFIX,
    BudgetRule,
    CarbonRule,
    ContractDemandRule,
    CostBudgetRule,
    CounterResetRule,
    DemandRule,
    Rule,
    SilenceRule,
    WasteRule,
)
from parktwin.park.model import Park
from parktwin.periods import MS_PER_HOUR, Calendar, Granularity
from twin.state.snapshot import TwinSnapshot

CO2_TRACK, TCE_TRACK = "carbon|co2_t", "carbon|energy_tce"


@dataclass(frozen=True, slots=True)
class AlertMeta:
    """What one alert is: its name (the ``rule`` tag), kind, severity, place and timing."""

    name: str
    kind: str  # demand, budget, budget_forecast, waste, carbon, device_silence, counter_reset
    severity: str
    place: str  # park, building:ID, zone:ID, enterprise:ID
    for_ms: int
    clear_ms: int


@dataclass
class EngineState:
    """Everything the engine has learnt and every alert's phase, at ``watermark_ms``."""

    watermark_ms: int = -1
    tracks: dict[str, CumulativeTrack] = field(default_factory=dict)
    profiles: dict[str, HourProfile] = field(default_factory=dict)  # by alert name
    bases: dict[str, BaseLoad] = field(default_factory=dict)  # by "rule|building"
    alerts: dict[str, Tracked] = field(default_factory=dict)  # by fingerprint
    # What each tracked alert is, so that one whose rule has left the park file can still be
    # announced resolved after a restart (by fingerprint; absent in states saved before it).
    metas: dict[str, AlertMeta] = field(default_factory=dict)


STATE = TypeAdapter(EngineState)


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """An alert that fired or resolved, with everything a message about it needs."""

    fingerprint: str
    meta: AlertMeta
    state: str  # firing or resolved
    at_ms: int  # event time of the change
    tracked: Tracked
    reason: str = ""

    @property
    def since_ms(self) -> int:
        return self.tracked.since_ms


Evaluate = Callable[[SnapshotLookup, EngineState], Condition]
Reader = Callable[[SnapshotLookup], tuple[str, float] | None]
Learner = Callable[[EngineState, int, int, float], None]


@dataclass(frozen=True, slots=True)
class Watch:
    meta: AlertMeta
    fingerprint: str
    evaluate: Evaluate


@dataclass
class TrackSpec:
    """A cumulative series the engine keeps, how to read it, and who learns from its hours."""

    read: Reader
    keep_ms: int
    learners: list[Learner] = field(default_factory=list)


def _year_energy(place: str, measure: str, lookup: SnapshotLookup) -> tuple[str, float] | None:
    value = lookup.energy_kwh("year", place, measure)
    return None if value is None else (lookup.period("year").label, value)


def _year_cost(place: str, lookup: SnapshotLookup) -> tuple[str, float] | None:
    value = lookup.cost_yuan("year", place)
    return None if value is None else (lookup.period("year").label, value)


def _zero_carbon(attribute: str, lookup: SnapshotLookup) -> tuple[str, float] | None:
    zero = lookup.snapshot.zero_carbon
    return None if zero is None else (zero.year, float(getattr(zero, attribute)))


class AlertEngine:
    """One park's rules, evaluated at each new watermark."""

    def __init__(self, park: Park, state: EngineState | None = None) -> None:
        self.park = park
        self.calendar = Calendar(park.timezone)
        self.state = state if state is not None else EngineState()
        self.watches: list[Watch] = []
        self.tracks: dict[str, TrackSpec] = {}
        for rule in park.alerts.rules:
            self._add_rule(rule)

    # -- set-up: one watch per alert the rules can raise ----------------------------------
    def _watch(self, rule: Rule, name: str, kind: str, severity: str, place: str) -> AlertMeta:
        return AlertMeta(
            name, kind, severity, place, int(rule.for_s * 1000), int(rule.clear_for_s * 1000)
        )

    def _add(self, meta: AlertMeta, evaluate: Evaluate) -> None:
        self.watches.append(
            Watch(meta, fingerprint(self.park.park.id, meta.name, meta.place), evaluate)
        )

    def _track(self, key: str, read: Reader, keep_ms: int) -> TrackSpec:
        spec = self.tracks.get(key)
        if spec is None:
            spec = self.tracks[key] = TrackSpec(read, keep_ms)
        spec.keep_ms = max(spec.keep_ms, keep_ms)
        return spec

    def _energy_track(self, place: str, measure: str, keep_ms: int) -> tuple[str, TrackSpec]:
        key = f"{place}|{measure}"
        return key, self._track(key, partial(_year_energy, place, measure), keep_ms)

    def _add_rule(self, rule: Rule) -> None:
        if isinstance(rule, DemandRule):
            self._add_demand(rule)
        elif isinstance(rule, BudgetRule):
            self._add_budget(rule)
        elif isinstance(rule, CostBudgetRule):
            self._add_cost_budget(rule)
        elif isinstance(rule, ContractDemandRule):
            self._add(
                self._watch(rule, rule.id, "contract_demand", rule.severity, "park"),
                lambda lookup, state: conditions.contract_demand(rule, lookup),
            )
        elif isinstance(rule, WasteRule):
            self._add_waste(rule)
        elif isinstance(rule, CarbonRule):
            self._add_carbon(rule)
        elif isinstance(rule, CounterResetRule):
            self._add_counter_reset(rule)
        else:
            self._add_silence(rule)

    def _add_demand(self, rule: DemandRule) -> None:
        key, _ = self._energy_track(rule.place, rule.measure, int(rule.window_s * 1000))
        name = place_name(self.park, rule.place)

        def evaluate(lookup: SnapshotLookup, state: EngineState) -> Condition:
            return conditions.demand(rule, name, state.tracks.get(key))

        self._add(self._watch(rule, rule.id, "demand", rule.severity, rule.place), evaluate)

    def _add_budget(self, rule: BudgetRule) -> None:
        name = place_name(self.park, rule.place)
        self._add_budgets(
            rule,
            "budget",
            lambda lookup, state: conditions.budget(rule, name, lookup),
            lambda: self._energy_track(rule.place, rule.measure, MS_PER_HOUR)[1],
            lambda lookup, profile: conditions.budget_forecast(
                rule, name, lookup, profile, self.calendar
            ),
        )

    def _add_cost_budget(self, rule: CostBudgetRule) -> None:
        name = place_name(self.park, rule.place)
        self._add_budgets(
            rule,
            "cost_budget",
            lambda lookup, state: conditions.cost_budget(rule, name, lookup),
            lambda: self._track(f"{rule.place}|cost", partial(_year_cost, rule.place), MS_PER_HOUR),
            lambda lookup, profile: conditions.cost_budget_forecast(
                rule, name, lookup, profile, self.calendar
            ),
        )

    def _add_budgets(
        self,
        rule: BudgetRule | CostBudgetRule,
        kind: str,
        now: Evaluate,
        track: Callable[[], TrackSpec],
        forecast: Callable[[SnapshotLookup, HourProfile], Condition],
    ) -> None:
        """A budget's alert and, with ``predict``, its forecast's, learning from ``track``."""
        self._add(self._watch(rule, rule.id, kind, rule.severity, rule.place), now)
        if not rule.predict:
            return
        forecast_name = rule.id + FORECAST_SUFFIX
        spec = track()
        calendar = self.calendar

        def learn(state: EngineState, hour_ms: int, length_ms: int, amount: float) -> None:
            profile = state.profiles.setdefault(forecast_name, HourProfile())
            profile.learn(calendar, hour_ms, amount, rule.profile_alpha)

        def evaluate(lookup: SnapshotLookup, state: EngineState) -> Condition:
            return forecast(lookup, state.profiles.setdefault(forecast_name, HourProfile()))

        spec.learners.append(learn)
        meta = self._watch(rule, forecast_name, f"{kind}_forecast", rule.forecast_severity, "")
        self._add(
            AlertMeta(meta.name, meta.kind, meta.severity, rule.place, meta.for_ms, meta.clear_ms),
            evaluate,
        )

    def _add_waste(self, rule: WasteRule) -> None:
        buildings = rule.buildings or [b.id for b in self.park.buildings]
        empty_below = (
            rule.empty_below_persons
            if rule.empty_below_persons is not None
            else self.park.twin.occupancy.empty_below_persons
        )
        for building in buildings:
            place = f"building:{building}"
            key, spec = self._energy_track(place, "consumption", int(rule.window_s * 1000))
            base_key = f"{rule.id}|{building}"
            spec.learners.append(partial(_learn_base_load, base_key, rule.history_days * 24))
            evaluate = partial(
                _waste,
                rule,
                building,
                place_name(self.park, place),
                empty_below,
                key,
                base_key,
            )
            meta = self._watch(rule, rule.id, "waste", rule.severity, place)
            # Empty for a whole window before firing, so that the window's mean power is all
            # drawn while nobody was in (not the last working hour's).
            for_ms = max(meta.for_ms, int(rule.window_s * 1000))
            self._add(
                AlertMeta(meta.name, meta.kind, meta.severity, place, for_ms, meta.clear_ms),
                evaluate,
            )

    def _add_carbon(self, rule: CarbonRule) -> None:
        keep_ms = int(rule.window_days * 86_400_000)
        self._track(CO2_TRACK, partial(_zero_carbon, "co2_t"), keep_ms)
        self._track(TCE_TRACK, partial(_zero_carbon, "energy_tce"), keep_ms)
        calendar = self.calendar

        def evaluate(lookup: SnapshotLookup, state: EngineState) -> Condition:
            zero = lookup.snapshot.zero_carbon
            threshold = zero.carbon_per_energy.threshold if zero is not None else None
            return conditions.carbon(
                rule,
                threshold,
                state.tracks.get(CO2_TRACK),
                state.tracks.get(TCE_TRACK),
                lookup,
                calendar,
            )

        self._add(self._watch(rule, rule.id, "carbon", rule.severity, "park"), evaluate)

    def _device_groups(self, rule: SilenceRule | CounterResetRule) -> dict[str, list[str]]:
        """The rule's devices by building (or zone, for devices outside buildings)."""
        chosen = set(rule.devices)
        kinds = set(rule.kinds)
        groups: dict[str, list[str]] = {}
        for device in self.park.devices:
            if (device.id in chosen) if chosen else (device.kind in kinds):
                place = (
                    f"building:{device.building}"
                    if device.building
                    else f"zone:{self.park.device_zone(device)}"
                )
                groups.setdefault(place, []).append(device.id)
        return groups

    def _add_counter_reset(self, rule: CounterResetRule) -> None:
        hold_ms = int(rule.hold_s * 1000)
        for place, devices in self._device_groups(rule).items():
            evaluate = partial(_counter_reset, place_name(self.park, place), devices, hold_ms)
            self._add(self._watch(rule, rule.id, "counter_reset", rule.severity, place), evaluate)

    def _add_silence(self, rule: SilenceRule) -> None:
        groups = self._device_groups(rule)
        bad = frozenset({"offline"} if rule.status == "offline" else {"stale", "offline"})
        for place, devices in groups.items():
            evaluate = partial(_silence, place_name(self.park, place), devices, bad)
            self._add(self._watch(rule, rule.id, "device_silence", rule.severity, place), evaluate)

    # -- running ------------------------------------------------------------------------------
    def evaluate(self, snapshot: TwinSnapshot) -> list[AlertEvent]:
        """Alerts that fired or resolved at this snapshot's watermark (none if it did not move)."""
        t_ms = snapshot.watermark_ms
        state = self.state
        if t_ms is None or t_ms <= state.watermark_ms or not (self.watches or state.alerts):
            return []
        state.watermark_ms = t_ms
        lookup = SnapshotLookup(snapshot, t_ms)
        self._observe(lookup)
        events: list[AlertEvent] = []
        seen: set[str] = set()
        for watch in self.watches:
            seen.add(watch.fingerprint)
            condition = watch.evaluate(lookup, state)
            tracked, changes = step(
                state.alerts.get(watch.fingerprint),
                condition,
                t_ms,
                watch.meta.for_ms,
                watch.meta.clear_ms,
            )
            if tracked is None:
                state.alerts.pop(watch.fingerprint, None)
                state.metas.pop(watch.fingerprint, None)
            else:
                state.alerts[watch.fingerprint] = tracked
                state.metas[watch.fingerprint] = watch.meta
            events.extend(self._event(watch, change) for change in changes)
        for gone in [fp for fp in state.alerts if fp not in seen]:
            # A rule removed from the park file: its alerts end, and say so. (A state saved
            # before metas were kept cannot name the alert: it ends unannounced.)
            tracked = state.alerts.pop(gone)
            meta = state.metas.pop(gone, None)
            if tracked.phase is not Phase.PENDING and meta is not None:
                events.append(AlertEvent(gone, meta, "resolved", t_ms, tracked, "rule removed"))
        return events

    def _observe(self, lookup: SnapshotLookup) -> None:
        state = self.state
        for key, spec in self.tracks.items():
            reading = spec.read(lookup)
            if reading is None:
                continue
            track = state.tracks.get(key)
            if track is None or track.keep_ms != spec.keep_ms:
                track = state.tracks[key] = _resized(track, spec.keep_ms)
            for hour_ms, amount in track.observe(lookup.t_ms, *reading, self.calendar):
                length = self.calendar.shift(Granularity.HOUR, hour_ms, 1) - hour_ms
                for learn in spec.learners:
                    learn(state, hour_ms, length, amount)

    def _event(self, watch: Watch, change: Change) -> AlertEvent:
        return AlertEvent(
            watch.fingerprint, watch.meta, change.state, change.at_ms, change.tracked, change.reason
        )

    def active(self) -> list[AlertEvent]:
        """Alerts firing now (resolving ones too: they have not been announced resolved)."""
        return [
            AlertEvent(w.fingerprint, w.meta, "firing", tracked.fired_ms, tracked)
            for w in self.watches
            if (tracked := self.state.alerts.get(w.fingerprint)) is not None
            and tracked.phase is not Phase.PENDING
        ]

    def dump(self) -> bytes:
        """The engine's state as JSON."""
        return STATE.dump_json(self.state)


def load_state(data: bytes) -> EngineState:
    """Engine state from ``AlertEngine.dump``."""
    return STATE.validate_json(data)


def _learn_base_load(
    base_key: str, keep_hours: int, state: EngineState, hour_ms: int, length_ms: int, kwh: float
) -> None:
    base = state.bases.setdefault(base_key, BaseLoad(keep_hours))
    base.keep_hours = keep_hours
    base.learn(kwh * MS_PER_HOUR / length_ms)


def _waste(
    rule: WasteRule,
    building: str,
    name: str,
    empty_below: float,
    track_key: str,
    base_key: str,
    lookup: SnapshotLookup,
    state: EngineState,
) -> Condition:
    return conditions.waste(
        rule,
        name,
        lookup.persons(building),
        empty_below,
        state.tracks.get(track_key),
        state.bases.get(base_key),
    )


def _silence(
    name: str, devices: list[str], bad: frozenset[str], lookup: SnapshotLookup, state: EngineState
) -> Condition:
    return conditions.silence(name, devices, lookup, bad)


def _counter_reset(
    name: str, devices: list[str], hold_ms: int, lookup: SnapshotLookup, state: EngineState
) -> Condition:
    return conditions.counter_reset(name, devices, lookup, hold_ms)


def _resized(track: CumulativeTrack | None, keep_ms: int) -> CumulativeTrack:
    if track is None:
        return CumulativeTrack(keep_ms)
    track.keep_ms = keep_ms  # rules changed between runs: keep what was learnt
    return track
