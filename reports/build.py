"""A report's content from a replayed period: the twin's own figures, arranged in sections.

Every figure is the twin's (its StateAtWatermark over the replayed ledger, the snapshot at the
period's last reading) or is added up from the twin's period totals; nothing is recomputed with
other rules. An enterprise's own report holds its figures and the park's benchmarks only.
"""

from __future__ import annotations

from parktwin.park.model import Park
from parktwin.periods import Granularity
from reports.model import Note, Report, as_float
from reports.replay import Gathered
from reports.sections.alerts import alerts_section
from reports.sections.carbon import carbon_section
from reports.sections.costs import costs_section
from reports.sections.energy import energy_section
from reports.sections.indicators import zero_green_section
from reports.sections.per_mu import per_mu_section
from reports.sections.quality import quality_section


class UnknownEnterpriseError(ValueError):
    """An enterprise id the park file does not name."""


def check_enterprise_id(park: Park, enterprise: str | None) -> None:
    """UnknownEnterpriseError when the park file does not name ``enterprise``."""
    if enterprise is not None and enterprise not in {e.id for e in park.enterprises}:
        known = ", ".join(sorted(e.id for e in park.enterprises)) or "(none)"
        raise UnknownEnterpriseError(
            f"enterprise {enterprise!r} is not in park {park.park.id} (known: {known})"
        )


def build_report(g: Gathered, enterprise: str | None = None) -> Report:
    """The report of a gathered period, for the park or for one of its enterprises."""
    check_enterprise_id(g.park, enterprise)
    calendar = g.replayed.twin.calendar
    energy, energy_heads = energy_section(g, enterprise)
    carbon, carbon_heads = carbon_section(g, enterprise)
    costs, cost_heads = costs_section(g, enterprise)
    sections = [energy, *([costs] if costs is not None else []), carbon]
    headlines = energy_heads + cost_heads + carbon_heads
    if enterprise is None:
        zero_green, zg_heads = zero_green_section(g)
        sections += zero_green
        headlines += zg_heads
    per_mu, mu_heads = per_mu_section(g, enterprise)
    if per_mu is not None:
        sections.append(per_mu)
        headlines += mu_heads
    alerts, alert_heads = alerts_section(g, enterprise)
    quality, quality_heads = quality_section(g, enterprise)
    sections += [alerts, quality]
    headlines += alert_heads + quality_heads
    fmt = "%Y-%m-%d %H:%M"
    replayed = g.replayed
    source = [
        Note(
            "note.source",
            {
                "since": calendar.local(g.replay_since_ms).strftime(fmt),
                "until": calendar.local(g.period.end_ms).strftime(fmt),
                "readings": replayed.readings_in_period,
            },
        ),
        Note(
            "note.range",
            {
                "first": calendar.local(replayed.first_ms).strftime(fmt)
                if replayed.first_ms
                else "",
                "last": calendar.local(replayed.last_ms).strftime(fmt) if replayed.last_ms else "",
            },
        ),
        Note("note.inputs", {"source": g.inputs_source}),
    ]
    if (
        replayed.last_ms is not None
        and calendar.shift(
            Granularity.HOUR, calendar.start_of(Granularity.HOUR, replayed.last_ms), 1
        )
        < g.period.end_ms
    ):
        source.append(
            Note("note.partial", {"last": calendar.local(replayed.last_ms).strftime(fmt)})
        )
    monthly = []
    energy_months = next(t for t in energy.tables if t.key == "by_month")
    for row in energy_months.rows:
        monthly.append(
            (str(row[0]), as_float(row[1]), None if row[2] is None else as_float(row[2]))
        )
    name = None
    if enterprise is not None:
        name = next(e.name for e in g.park.enterprises if e.id == enterprise)
    return Report(
        park_id=g.park.park.id,
        park_name=g.park.park.name,
        period=g.period.label,
        enterprise=enterprise,
        enterprise_name=name,
        timezone=str(g.park.park.timezone),
        start_local=calendar.local(g.period.start_ms).strftime(fmt),
        end_local=calendar.local(g.period.end_ms).strftime(fmt),
        source=source,
        headlines=headlines,
        sections=sections,
        monthly_kwh=monthly,
    )
