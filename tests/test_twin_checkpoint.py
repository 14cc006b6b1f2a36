"""Kill mid-day, restore from the checkpoint, continue: the same as never having stopped."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import DAY_PARK, day_batches, day_park

from parktwin.atomic import atomic_write
from parktwin.park.loader import parse_park
from twin.model.checkpoint import CheckpointError
from twin.model.inputs import MonthlyInputs
from twin.state.twin import Twin


def test_restart_mid_day_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    park = day_park()
    batches = day_batches()
    uninterrupted = Twin(park)
    for batch in batches:
        uninterrupted.ingest(batch)
    uninterrupted.apply_monthly_inputs(MonthlyInputs(month="2024-03", solid_waste_generated_t=2))

    first = Twin(park)
    for batch in batches[:3]:  # up to 12:00, then the process dies
        first.ingest(batch)
    file = tmp_path / "demo.twin"
    atomic_write(file, first.checkpoint())
    del first
    second = Twin.restore(park, None, file.read_bytes())
    for batch in batches[3:]:
        second.ingest(batch)
    second.apply_monthly_inputs(MonthlyInputs(month="2024-03", solid_waste_generated_t=2))

    assert second.snapshot().to_dict() == uninterrupted.snapshot().to_dict()
    assert second.checkpoint() == uninterrupted.checkpoint()


def test_restore_onto_a_park_that_gained_a_device() -> None:
    twin = Twin(day_park())
    for batch in day_batches()[:2]:
        twin.ingest(batch)
    grown = parse_park(
        DAY_PARK.replace(
            "  - {id: gas,", "  - {id: heat, kind: heat_meter, building: b_lab}\n  - {id: gas,"
        )
    )
    restored = Twin.restore(grown, None, twin.checkpoint())
    snap = restored.snapshot()
    assert snap.devices.row("heat")["status"] == "never_seen"
    assert snap.flows.get("m_fab", "energy_kwh", "day") == pytest.approx(100)


def test_a_checkpoint_of_another_park_is_refused() -> None:
    twin = Twin(day_park())
    other = parse_park(DAY_PARK.replace("id: demo,", "id: other,"))
    with pytest.raises(CheckpointError, match="park 'demo'"):
        Twin.restore(other, None, twin.checkpoint())
    with pytest.raises(CheckpointError):
        Twin.restore(other, None, b"{not json")


def test_period_totals_can_be_seeded_from_history() -> None:
    twin = Twin(day_park())
    unknown = twin.seed_period_totals(
        "month", "2024-03", {"m_fab": {"energy_kwh": 1000.0}, "ghost": {"energy_kwh": 1.0}}
    )
    assert unknown == ["ghost|energy_kwh"]
    for batch in day_batches():
        twin.ingest(batch)
    snap = twin.snapshot()
    assert snap.flows.get("m_fab", "energy_kwh", "month") == pytest.approx(1000 + 450)
    assert snap.flows.get("m_fab", "energy_kwh", "day") == pytest.approx(450)


def test_atomic_write_replaces_the_whole_file(tmp_path: Path) -> None:
    file = tmp_path / "state.bin"
    atomic_write(file, b"old")
    atomic_write(file, b"new content")
    assert file.read_bytes() == b"new content"
    assert [p.name for p in tmp_path.iterdir()] == ["state.bin"]  # no temporary left behind


def test_atomic_write_makes_missing_folders(tmp_path: Path) -> None:
    file = tmp_path / "new" / "folder" / "park.twin"
    atomic_write(file, b"data")
    assert file.read_bytes() == b"data"
