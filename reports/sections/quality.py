"""Data quality: per device, readings received against expected, gaps and counter resets."""

from __future__ import annotations

from dataclasses import fields

from parktwin.periods import Granularity
from reports.model import (
    Cell,
    Column,
    Headline,
    Note,
    Section,
    Table,
)
from reports.replay import Gathered
from reports.sections.common import balance_of, change_pct, period_flows


def longest_run(missing: list[bool]) -> int:
    best = run = 0
    for gap in missing:
        run = run + 1 if gap else 0
        best = max(best, run)
    return best


def written_table(g: Gathered) -> tuple[Table, Note]:
    """The twin's own last month points (``twin_balance``) beside the replay's figures."""
    calendar = g.replayed.twin.calendar
    replayed = {
        label: balance_of(g.replayed, period_flows(g.replayed, [start])).electricity_consumption_kwh
        for label, start in zip(g.period.months, g.period.month_starts, strict=True)
    }
    rows: list[list[Cell]] = [
        [
            w.month,
            calendar.local(w.at_ms).strftime("%Y-%m-%d %H:%M"),
            w.consumption_kwh,
            replayed[w.month],
            change_pct(replayed[w.month], w.consumption_kwh),
        ]
        for w in g.written
    ]
    table = Table(
        "twin_points",
        [
            Column("month", kind="text"),
            Column("written_at", kind="text"),
            Column("twin_written", "kWh", digits=0),
            Column("electricity_consumption", "kWh", digits=0),
            Column("change", "%", digits=3),
        ],
        rows,
    )
    return table, Note("note.twin_points" if rows else "note.no_twin_points")


def quality_section(g: Gathered, enterprise: str | None) -> tuple[Section, list[Headline]]:
    period, replayed = g.period, g.replayed
    topology = replayed.twin.topology
    calendar = replayed.twin.calendar
    hours: list[int] = []
    hour = period.start_ms
    # The hours covered: from the period's start to the end of its last reading's hour.
    last = replayed.last_ms if replayed.last_ms is not None else period.start_ms
    end = min(
        period.end_ms,
        calendar.shift(Granularity.HOUR, calendar.start_of(Granularity.HOUR, last), 1),
    )
    while hour < end:
        hours.append(hour)
        hour = calendar.shift(Granularity.HOUR, hour, 1)
    covered_ms = max(end - period.start_ms, 0)
    resets = replayed.resets_at_end - replayed.resets_at_start
    owner = {d.id: d.enterprise for d in g.park.devices}
    enterprise_buildings = set()
    if enterprise is not None:
        enterprise_buildings = set(
            next(e for e in g.park.enterprises if e.id == enterprise).buildings
        )
    rows: list[list[Cell]] = []
    received_total = expected_total = 0.0
    for i, device in enumerate(topology.device_ids):
        if enterprise is not None:
            found = g.park.devices_by_id[device]
            if owner.get(device) != enterprise and found.building not in enterprise_buildings:
                continue
        counts = g.counts.by_device.get(device, {})
        interval_s = float(topology.interval_ms[i]) / 1000
        expected = covered_ms / 1000 / interval_s if interval_s > 0 else 0.0
        received = float(sum(counts.values()))
        gaps = [counts.get(h, 0) == 0 for h in hours]
        received_total += min(received, expected)
        expected_total += expected
        rows.append(
            [
                device,
                topology.device_kind_value[i],
                interval_s,
                expected,
                received,
                100.0 * received / expected if expected else None,
                sum(gaps),
                longest_run(gaps),
                int(resets[i]),
            ]
        )
    table = Table(
        "device_completeness",
        [
            Column("device", kind="text"),
            Column("kind", kind="text"),
            Column("interval", "s", digits=0),
            Column("expected_readings", digits=0, summable=True),
            Column("received_readings", digits=0, summable=True),
            Column("received_share", "%"),
            Column("hours_without_readings", "h", digits=0),
            Column("longest_gap", "h", digits=0),
            Column("counter_resets", digits=0, summable=True),
        ],
        rows,
        total=len(rows) > 1,
        ratios={5: (4, 3, 100.0)},
    )
    stats, before = replayed.stats_at_end, replayed.stats_at_start
    ingest_rows: list[list[Cell]] = [
        [f.name, getattr(stats, f.name) - getattr(before, f.name)] for f in fields(stats)
    ]
    ingest = Table(
        "replay_ingest",
        [Column("item", kind="label"), Column("count", digits=0)],
        ingest_rows,
    )
    notes = [
        Note("note.quality_expected"),
        Note("note.quality_replay", {"resolution": 900}),
        Note("note.dead_letters", {"topic": f"parks/{g.park.park.id}/deadletter"}),
    ]
    tables = [table, ingest]
    if enterprise is None:
        written, note = written_table(g)
        tables.append(written)
        notes.append(note)
    share = 100.0 * received_total / expected_total if expected_total else None
    return Section("data_quality", tables, notes), [Headline("data_completeness", share, "%")]
