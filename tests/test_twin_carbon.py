"""Targets, progress and the projected neutrality year; device status by event time."""

from __future__ import annotations

import pytest

from parktwin.contract.reading import Reading
from parktwin.park.loader import parse_park
from parktwin.park.twin import Targets
from twin.indicators.carbon import progress, straight_line
from twin.state.twin import Twin

TARGETS = Targets(baseline_year=2020, baseline_net_co2_t=1000, target_year=2030)
MONTHS = [f"2023-{m:02}" for m in range(1, 13)]
NET = [100.0 - 5 * i for i in range(12)]  # falls by 5 t a month


def test_straight_line_path() -> None:
    assert straight_line(TARGETS, 2020) == 1000
    assert straight_line(TARGETS, 2024) == pytest.approx(600)  # 1000 × (1 − 4/10)
    assert straight_line(TARGETS, 2035) == 0
    assert straight_line(Targets(), 2024) is None  # no baseline configured


def test_progress_and_projection_from_twelve_months() -> None:
    p = progress(TARGETS, 2024, MONTHS, NET)
    assert p.annual_net_co2_t == pytest.approx(1200 - 5 * 66)  # 870
    assert p.annual_basis == "sum of the last twelve complete months"
    assert p.progress_pct == pytest.approx(13)  # (1000 − 870) / 1000
    assert p.on_track is False  # the line allows 600 t in 2024
    assert p.trend_t_co2_per_month == pytest.approx(-5)
    # Zero 20 months after January 2023 (at mid-month): (2023 × 12 + 20.5) / 12
    assert p.projected_neutral_year == pytest.approx((2023 * 12 + 20.5) / 12)


def test_no_projection_from_a_rising_trend_or_too_few_months() -> None:
    rising = progress(TARGETS, 2024, MONTHS, list(reversed(NET)))
    assert rising.projected_neutral_year is None
    assert "not falling" in rising.projection_basis
    short = progress(TARGETS, 2024, MONTHS[:2], NET[:2])
    assert short.projected_neutral_year is None
    assert short.annual_net_co2_t == pytest.approx((100 + 95) * 6)  # scaled to twelve
    assert "scaled to twelve" in short.annual_basis


def test_device_status_is_measured_against_the_watermark_not_the_clock() -> None:
    park = parse_park(
        """
park: {id: p, name: P, timezone: Asia/Shanghai, location: {latitude: 0, longitude: 0}}
zones: [{id: z, name: Z, type: production}]
devices:
  - {id: grid, kind: grid_main_meter, zone: z, interval_s: 1}
  - {id: m, kind: sub_meter, zone: z, interval_s: 60}
  - {id: quiet, kind: sub_meter, zone: z, interval_s: 60}
"""
    )
    twin = Twin(park)
    t0 = 1_709_568_000_000
    twin.ingest([Reading("m", t0, {"energy_kwh": 1.0})])
    for seconds, expected in ((120, "online"), (121, "stale"), (300, "stale"), (301, "offline")):
        twin.ingest([Reading("grid", t0 + seconds * 1000, {"power_kw": 1.0})])
        snap = twin.snapshot()
        assert snap.devices.row("m")["status"] == expected, seconds
        assert snap.devices.row("quiet")["status"] == "never_seen"
