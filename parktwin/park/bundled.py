"""The park files that ship with parktwin."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def demo_park_path() -> Path:
    """Path of the bundled demo park (a fictional intelligent-manufacturing park)."""
    return Path(str(resources.files("parktwin.park").joinpath("examples/demo-park.yaml")))
