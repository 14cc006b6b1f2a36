"""The demo's live terminal summary: the figures an operator looks at first, redrawn in place.

Plain ANSI, no dependency: on a terminal the block is redrawn where it stands; when output goes
to a file or a pipe, each refresh is appended as plain lines, so logs stay readable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TextIO

CLEAR_BELOW = "\x1b[J"
BOLD, DIM, RED, YELLOW, RESET = "\x1b[1m", "\x1b[2m", "\x1b[31m", "\x1b[33m", "\x1b[0m"
MAX_ALERTS_SHOWN = 3


@dataclass(frozen=True)
class Counts:
    """What the demo has moved so far."""

    readings_received: int
    readings_stored: int
    storage: str | None  # where they are stored, in words; None: nowhere (a null writer)
    spooled: int = 0  # on disk, waiting for the database to answer


def _number(value: float | None, unit: str, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f} {unit}"


def _share(item: dict[str, Any] | None) -> str:
    value = (item or {}).get("value")
    return "—" if value is None else f"{value:.1f} %"


def summary_lines(
    kpis: dict[str, Any] | None,
    alerts: list[dict[str, Any]],
    budget_kwh: float | None,
    counts: Counts,
    view_url: str | None,
) -> list[str]:
    """The summary as plain lines (no colour), newest figures from the twin's KPI summary."""
    lines = [f"twin view: {view_url or 'starting…'}"]
    if kpis is None:
        return [*lines, "waiting for the twin's first tick…"]
    today = kpis.get("today") or {}
    used = today.get("electricity_consumption_kwh")
    against = ""
    if budget_kwh is not None and used is not None:
        against = f" of {budget_kwh:,.0f} kWh budget ({100 * used / budget_kwh:.0f} %)"
    elif budget_kwh is None:
        against = " (no day budget in the park file)"
    progress = kpis.get("carbon_neutral_progress_pct")
    stored = (
        f"stored {counts.readings_stored:,} in {counts.storage}"
        if counts.storage is not None
        else "NOT stored (no InfluxDB)"
    )
    if counts.spooled:
        stored += f", {counts.spooled:,} spooled until it answers"
    carbon = (kpis.get("carbon_per_energy") or {}).get("value")
    lines += [
        f"simulated time {kpis.get('local_time') or '—'}",
        f"power: grid {_number(kpis.get('grid_power_kw'), 'kW')}, "
        f"PV {_number(kpis.get('pv_power_kw'), 'kW')}",
        f"energy today: {_number(used, 'kWh')}{against}",
        f"clean-energy share {_share(kpis.get('clean_energy_share'))}, "
        f"carbon per energy {_number(carbon, 't CO2/tce', 2)}",
        f"carbon-neutral progress {_number(progress, '%', 1)}, "
        f"people present {_number(kpis.get('persons_present'), '')}".rstrip(),
        cost_line(kpis.get("costs")),
        f"readings received {counts.readings_received:,}, {stored}",
        f"active alerts: {len(alerts)}",
    ]
    lines += [f"  [{a['severity']}] {a['summary']}" for a in alerts[:MAX_ALERTS_SHOWN]]
    if len(alerts) > MAX_ALERTS_SHOWN:
        lines.append(f"  … and {len(alerts) - MAX_ALERTS_SHOWN} more")
    return lines


def cost_line(costs: dict[str, Any] | None) -> str:
    """Today's cost, the band now and the month's highest 15-minute demand."""
    if not costs:
        return "cost today: — (no tariffs in the park file)"
    currency = costs["currency"]
    today = costs["today"]["total_yuan"]
    example = " (example tariff)" if costs.get("tariff_example") else ""
    band = costs.get("band_now") or "—"
    demand = _number(costs.get("demand_max_kw"), "kW")
    contract = costs.get("contracted_kw")
    against = f" of {contract:,.0f} kW contracted" if contract else ""
    return (
        f"cost today: {today:,.0f} {currency}{example}, band now {band}, "
        f"month's peak demand {demand}{against}"
    )


class LiveBlock:
    """Draws a block of lines, replacing the previous one on a terminal."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._tty = out.isatty()
        self._height = 0

    def draw(self, lines: list[str]) -> None:
        """Replace the block on a terminal; append it otherwise."""
        if not self._tty:
            self._out.write("\n".join(["--", *lines]) + "\n")
            self._out.flush()
            return
        up = f"\x1b[{self._height}F" if self._height else ""
        styled = [f"{BOLD}{lines[0]}{RESET}", *(_colour(line) for line in lines[1:])]
        self._out.write(up + CLEAR_BELOW + "\n".join(styled) + "\n")
        self._out.flush()
        self._height = len(lines)


def _colour(line: str) -> str:
    if line.startswith("  [critical]"):
        return f"{RED}{line}{RESET}"
    if line.startswith("  [warning]"):
        return f"{YELLOW}{line}{RESET}"
    if "NOT stored" in line:
        return f"{DIM}{line}{RESET}"
    return line
