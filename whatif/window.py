"""The measured window a scenario is run over: steps, their months and local hours, and the
flows of the park and of its places in each step (parent meters not counted twice, as the twin
adds them up)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from parktwin.periods import Calendar, Granularity
from twin.model.topology import N_FLOWS, Level, Topology
from whatif.history import StepFlows

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def level_steps(steps: StepFlows, topology: Topology, level: Level) -> Floats:
    """Every place's flow totals in every step: shape (steps, places, N_FLOWS)."""
    places = topology.places[level]
    width = (len(places.ids) + 1) * N_FLOWS  # the last place is the dump of uncounted flows
    one_hot = np.zeros((len(topology.flow_keys), width))
    one_hot[np.arange(len(topology.flow_keys)), places.slot] = 1.0
    totals = steps.amounts @ one_hot
    return totals[:, : len(places.ids) * N_FLOWS].reshape(-1, len(places.ids), N_FLOWS)


@dataclass
class Window:
    """A run's measured steps, read once and shared by the baseline and every scenario."""

    steps: StepFlows
    topology: Topology
    calendar: Calendar
    months: list[str]  # labels of the window's months
    month_of_step: Ints  # index into ``months``
    local_hour: Ints
    park: Floats  # (steps, N_FLOWS)
    _levels: dict[Level, Floats] = field(default_factory=dict)

    @classmethod
    def of(cls, steps: StepFlows, topology: Topology, calendar: Calendar) -> Window:
        bounds = steps.bounds_ms
        month_starts = calendar.boundaries(Granularity.MONTH, int(bounds[0]), int(bounds[-1]))
        month_of_step = np.searchsorted(month_starts, bounds[:-1], side="right") - 1
        labels = [calendar.label(Granularity.MONTH, int(m)) for m in month_starts[:-1]]
        hours = calendar.boundaries(Granularity.HOUR, int(bounds[0]), int(bounds[-1]))
        hour_index = np.searchsorted(hours, bounds[:-1], side="right") - 1
        hour_of_day = np.asarray([calendar.local(int(h)).hour for h in hours[:-1]], dtype=np.int64)
        park = level_steps(steps, topology, Level.PARK)[:, 0, :]
        return cls(steps, topology, calendar, labels, month_of_step, hour_of_day[hour_index], park)

    def places(self, level: Level) -> Floats:
        """Flow totals of one level's places per step (made once)."""
        if level not in self._levels:
            self._levels[level] = level_steps(self.steps, self.topology, level)
        return self._levels[level]

    def place(self, level: Level, place_id: str) -> Floats:
        """One place's flows per step: shape (steps, N_FLOWS)."""
        index = self.topology.places[level].ids.index(place_id)
        return self.places(level)[:, index, :]

    def monthly(self, flows: Floats) -> Floats:
        """Flows per step added up per month: shape (months, N_FLOWS)."""
        out = np.zeros((len(self.months), flows.shape[1]))
        np.add.at(out, self.month_of_step, flows)
        return out
