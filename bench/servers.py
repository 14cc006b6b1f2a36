"""Start the real servers for a benchmark, reusing the test suite's server classes."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from conftest import InfluxDB1, Mosquitto, VictoriaMetrics, free_port

__all__ = ["InfluxDB1", "Mosquitto", "VictoriaMetrics", "free_port"]
