"""A stopped demo loses nothing and a restarted one carries on: the simulated clock continues
where it stopped, every reading published is received, and the day's totals grow from where
they were rather than starting again."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from conftest import require_binary
from helpers import ENERGY_TODAY, FINAL, SIM_TIME, DemoRun

pytestmark = pytest.mark.integration


def run_once(state_dir: Path) -> DemoRun:
    demo = DemoRun(state_dir, ["--duration", "8", "--speed", "300"]).start()
    try:
        assert demo.wait() == 0, demo.output()
    finally:
        demo.stop()
    return demo


def test_a_restarted_demo_continues_the_same_simulated_day(tmp_path: Path) -> None:
    require_binary("mosquitto")
    first = run_once(tmp_path / "state")
    second = run_once(tmp_path / "state")

    end_1, start_2 = first.last(FINAL).group(2), second.last(FINAL).group(1)
    assert start_2 == end_1  # the simulator's clock continues
    for run in (first, second):
        published, received, stored = run.last(FINAL).group(3, 4, 5)
        assert int(published) > 0
        assert published == received == stored, run.output()

    energy_1 = float(first.last(ENERGY_TODAY).group(1).replace(",", ""))
    energy_2 = float(second.last(ENERGY_TODAY).group(1).replace(",", ""))
    day_1 = datetime.fromisoformat(first.last(SIM_TIME).group(1)).date()
    day_2 = datetime.fromisoformat(second.last(SIM_TIME).group(1)).date()
    assert day_2 == day_1
    # The twin's checkpoint kept the day: the second run adds to the first's total. A fresh
    # twin would show only what the second run's eight seconds brought.
    assert energy_2 > energy_1 > 0
