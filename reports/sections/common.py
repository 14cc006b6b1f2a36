"""What every section uses: the replayed twin's view, period totals, changes."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from parktwin.periods import Granularity
from reports.replay import Replayed
from twin.indicators.energy import EnergyBalance, energy_balance
from twin.model.topology import Level
from twin.state.compose import StateAtWatermark

Floats = npt.NDArray[np.float64]


def view_of(replayed: Replayed) -> StateAtWatermark:
    twin = replayed.twin
    return StateAtWatermark(twin.park, twin.settings, twin.topology, twin.calendar, twin.state)


def period_flows(replayed: Replayed, month_starts: Iterable[int]) -> Floats:
    """Per-flow totals of the given months, from the twin's ledger."""
    ledger = replayed.twin.state.ledger
    total = np.zeros(ledger.n_flows)
    for start in month_starts:
        total = total + ledger.totals(Granularity.MONTH, start)
    return total


def balance_of(replayed: Replayed, flows: Floats) -> EnergyBalance:
    twin = replayed.twin
    park_flows = twin.topology.places[Level.PARK].totals(flows)[0]
    conversion = twin.settings.conversion
    return energy_balance(park_flows, conversion, conversion.electricity_basis)


def change_pct(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before == 0:
        return None
    return 100.0 * (now - before) / before


def finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
