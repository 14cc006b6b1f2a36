"""Monthly inputs (figures no sensor measures) for a report made outside the running twin: the
ones the twin's checkpoint holds, which are the ones it received."""

from __future__ import annotations

from pathlib import Path

from parktwin.park.model import Park
from twin.model.checkpoint import CheckpointError, decode
from twin.model.inputs import MonthlyInputs
from twin.model.topology import build_topology


def describe(monthly: dict[str, MonthlyInputs], where: str) -> str:
    months = ", ".join(sorted(monthly)) or "no month"
    return f"{where} ({months})"


def inputs_from_checkpoint(park: Park, folder: Path) -> tuple[dict[str, MonthlyInputs], str]:
    """The monthly inputs of the twin's checkpoint, and a sentence saying where they came from."""
    path = folder / f"{park.park.id}.twin"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}, f"none (no twin checkpoint at {path})"
    except OSError as exc:
        return {}, f"none (twin checkpoint {path} unreadable: {exc.strerror})"
    try:
        state = decode(data, park.park.id, build_topology(park))
    except (CheckpointError, KeyError, TypeError, ValueError) as exc:
        return {}, f"none (twin checkpoint {path} unreadable: {exc})"
    return state.monthly, describe(state.monthly, f"the twin's checkpoint {path}")
