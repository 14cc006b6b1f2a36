"""Example scenarios for the bundled demo park."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def example_paths() -> list[Path]:
    """The example scenario files that ship with parktwin, by name."""
    folder = resources.files("whatif.examples")
    return sorted(
        Path(str(folder.joinpath(item.name)))
        for item in folder.iterdir()
        if item.name.endswith(".yaml")
    )
