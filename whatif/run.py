"""Run scenarios over the park's measured window and compare each with the baseline.

The baseline is the measured window itself, through the same maths; every scenario is that
window with its changes applied step by step. Nothing is written anywhere: the results are
estimates, returned to the caller with what each assumed.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp

from parktwin.config import InfluxSettings
from parktwin.contract.quantities import KINDS
from parktwin.influx.influxql import query
from parktwin.park.loader import Problem
from parktwin.park.model import Park
from parktwin.periods import Calendar, Granularity
from twin.model.topology import build_topology
from twin.service.history import latest_event_ms
from whatif.changes import apply
from whatif.costs import Pricing
from whatif.history import load_steps
from whatif.kpis import NUMBERS, Kpis, MonthFigures, kpis
from whatif.loader import ScenarioError, ScenarioFile
from whatif.window import Window

ESTIMATE = (
    "estimate: the measured window with the scenario's changes applied step by step; not a "
    "measurement, not part of the live twin's KPIs"
)


@dataclass(frozen=True)
class Span:
    """The window a run covers, in epoch ms, and why it is that one."""

    start_ms: int
    end_ms: int
    basis: str


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    file: str
    description: str
    assumptions: list[str]
    kpis: Kpis
    months: list[MonthFigures]


@dataclass(frozen=True)
class Comparison:
    """The baseline and every scenario over one window."""

    park_id: str
    span: Span
    months: list[str]
    step_min: int
    steps: int
    steps_read: int
    readings: int
    baseline: Kpis
    baseline_months: list[MonthFigures]
    scenarios: list[ScenarioResult]
    seconds: float
    costs_basis: str  # how costs were priced, or why there are none

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: each KPI as baseline, scenario and difference."""

        def rows(months: list[MonthFigures]) -> list[dict[str, Any]]:
            return [asdict(m) for m in months]

        return {
            "label": ESTIMATE,
            "park": self.park_id,
            "window": {
                "from": self.months[0],
                "to": self.months[-1],
                "start_ms": self.span.start_ms,
                "end_ms": self.span.end_ms,
                "basis": self.span.basis,
                "step_min": self.step_min,
                "steps": self.steps,
                "steps_with_readings": self.steps_read,
                "coverage_pct": 100 * self.steps_read / self.steps if self.steps else 0.0,
                "thinned_readings": self.readings,
            },
            "not_included": (
                "guiding indicators from monthly inputs (solid waste, waste heat, water reuse, "
                "product energy): no change kind moves them"
            ),
            "costs": self.costs_basis,
            "baseline": {"kpis": self.baseline.as_dict(), "months": rows(self.baseline_months)},
            "scenarios": [
                {
                    "name": s.name,
                    "file": s.file,
                    "description": s.description,
                    "label": ESTIMATE,
                    "assumptions": s.assumptions,
                    "kpis": s.kpis.as_dict(),
                    "difference": difference(self.baseline, s.kpis),
                    "indicators": {
                        name: {
                            "baseline": getattr(self.baseline, f"{name}_passes"),
                            "scenario": getattr(s.kpis, f"{name}_passes"),
                        }
                        for name in ("carbon_per_energy", "clean_energy_share")
                    },
                    "months": rows(s.months),
                }
                for s in self.scenarios
            ],
            "seconds": self.seconds,
        }


def difference(baseline: Kpis, scenario: Kpis) -> dict[str, float | None]:
    """Scenario minus baseline of every number both have."""
    result: dict[str, float | None] = {}
    for name in NUMBERS:
        a, b = getattr(baseline, name), getattr(scenario, name)
        result[name] = None if a is None or b is None else b - a
    return result


async def earliest_event_ms(settings: InfluxSettings, park: Park) -> int | None:
    """Event time of the park's oldest stored reading, or None when nothing is stored."""
    earliest: int | None = None
    park_id = park.park.id.replace("'", "\\'")
    async with aiohttp.ClientSession() as session:
        for medium in sorted({KINDS[d.kind].medium.value for d in park.devices}):
            statement = (
                f'SELECT * FROM "{medium}" WHERE "park" = \'{park_id}\' ORDER BY time LIMIT 1'
            )
            for one in await query(session, settings, statement):
                for row in one.values:
                    earliest = min(earliest or int(row[0]), int(row[0]))
    return earliest


async def default_span(settings: InfluxSettings, park: Park, calendar: Calendar) -> Span | None:
    """The twelve complete local months before the month of the latest stored reading; with
    less history, what there is of them; with no complete month, the latest month so far."""
    latest = await latest_event_ms(settings, park)
    earliest = await earliest_event_ms(settings, park)
    if latest is None or earliest is None:
        return None
    month = calendar.start_of(Granularity.MONTH, latest)
    if earliest >= month:
        # Whole hours only: a partial last hour would be a step with part of its readings.
        end = max(calendar.start_of(Granularity.HOUR, latest), month + 1)
        return Span(month, end, "the latest month so far (no complete month stored)")
    start = max(
        calendar.shift(Granularity.MONTH, month, -12),
        calendar.start_of(Granularity.MONTH, earliest),
    )
    return Span(start, month, "the complete months before the latest reading's, at most twelve")


def period_span(loaded: ScenarioFile, calendar: Calendar) -> Span | None:
    """The months a scenario names, or None when it names none."""
    period = loaded.scenario.period
    if period is None:
        return None
    start = calendar.parse_label(Granularity.MONTH, period.first)
    end = calendar.shift(Granularity.MONTH, calendar.parse_label(Granularity.MONTH, period.last), 1)
    return Span(start, end, f"the scenario's period {period.first} to {period.last}")


async def compare(
    settings: InfluxSettings,
    park: Park,
    scenarios: list[ScenarioFile],
    step_min: int = 60,
) -> Comparison:
    """Run every scenario over one window of history (the first scenario's period, else the
    default window) and compare each with the baseline; raise ScenarioError when the scenarios
    disagree on the period or the window holds no history."""
    started = time.perf_counter()
    calendar = Calendar(park.timezone)
    topology = build_topology(park)
    spans = [period_span(s, calendar) for s in scenarios]
    named = [(s, span) for s, span in zip(scenarios, spans, strict=True) if span is not None]
    if named and any(span != named[0][1] for _, span in named):
        raise ScenarioError(
            [
                s.problem(("period",), "scenarios compared side by side need the same period")
                for s, _ in named[1:]
            ]
        )
    span = named[0][1] if named else await default_span(settings, park, calendar)
    if span is None:
        raise ScenarioError(
            [
                Problem(s.file, "period", 1, f"no stored readings of park {park.park.id!r}")
                for s in scenarios
            ]
        )
    steps = await load_steps(
        settings, park, topology, calendar, span.start_ms, span.end_ms, step_min
    )
    if not steps.read.any():
        where = [s.problem(("period",), f"no history in {span.basis}") for s, _ in named]
        raise ScenarioError(
            where
            or [Problem(s.file, "period", 1, f"no history in {span.basis}") for s in scenarios]
        )
    window = Window.of(steps, topology, calendar)
    pricing = Pricing.of(window, park, park.tariffs) if park.tariffs is not None else None
    baseline, baseline_months = kpis(window, window.park, park.twin, pricing=pricing)
    results = []
    for loaded in scenarios:
        applied = apply(loaded.scenario, window, park, park.twin)
        priced = pricing
        if applied.tariffs is not None and applied.tariffs is not park.tariffs:
            priced = Pricing.of(window, park, applied.tariffs)
        figures, months = kpis(
            window, applied.park, applied.settings, applied.green_by_month, priced
        )
        results.append(
            ScenarioResult(
                loaded.scenario.name,
                loaded.file,
                loaded.scenario.description,
                applied.assumptions,
                figures,
                months,
            )
        )
    costs_basis = "no tariffs in the park file: no costs"
    if pricing is not None:
        costs_basis = (
            f"{pricing.tariffs.currency}, the park's tariffs per step: import at the mean price "
            f"of the step's tariff segments, the basic charge from each main meter's highest "
            f"{step_min}-minute mean demand of the month under the version valid at its start, "
            "a scenario's import shared among main meters as measured (assumed)"
            + ("; some tariff figures are examples, not official" if pricing.example else "")
        )
    return Comparison(
        park.park.id,
        span,
        window.months,
        step_min,
        len(steps.read),
        int(steps.read.sum()),
        steps.readings,
        baseline,
        baseline_months,
        results,
        time.perf_counter() - started,
        costs_basis,
    )
