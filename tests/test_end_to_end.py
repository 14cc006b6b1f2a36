"""`parktwin simulate` and `parktwin collect`, as a user runs them, store exactly the readings
that were published: the simulator's ledger and the database hold the same (device, time) pairs.
Real mosquitto, InfluxDB 1.x and VictoriaMetrics; faults switched on."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import InfluxDatabase, Mosquitto, VictoriaMetrics

from parktwin.park.bundled import demo_park_path
from parktwin.park.loader import load_park

pytestmark = pytest.mark.integration

# The demo park's devices behind its Sparkplug B edge node (simulated as one).
SPARKPLUG_DEVICES = {
    device for group in load_park(demo_park_path()).sparkplug for device in group.devices.values()
}
SIMULATED_START = "2026-03-02T00:00:00+08:00"  # a Monday


def parktwin(*args: str, env: dict[str, str], timeout_s: float = 120) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "programs", *args],
        env=os.environ | env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_line(process: subprocess.Popen[str], text: str, timeout_s: float) -> list[str]:
    """Read the process's output until a line holds ``text``; the lines read so far."""
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"no line with {text!r} in:\n{''.join(seen)}")


def ledger(path: Path) -> Counter[tuple[str, int]]:
    pairs: Counter[tuple[str, int]] = Counter()
    for line in path.read_text().splitlines():
        device, ts = line.split(",")
        pairs[(device, int(ts))] += 1
    return pairs


def run_pipeline(
    mosquitto: Mosquitto, tmp_path: Path, influx_env: dict[str, str], faults: list[str]
) -> tuple[Counter[tuple[str, int]], str, str]:
    """Collector and simulator side by side; returns the ledger and both summaries."""
    env = {
        "PARKTWIN_MQTT__HOST": "127.0.0.1",
        "PARKTWIN_MQTT__PORT": str(mosquitto.port),
        "PARKTWIN_MQTT__CLIENT_ID": f"collector-{tmp_path.name}",
        "PARKTWIN_SPOOL__FOLDER": str(tmp_path / "spool"),
    } | influx_env
    collector = parktwin("collect", "--duration", "20", "--max-future-s", "31536000", env=env)
    try:
        # The collector's session must exist before the first message is published: wait for
        # its log line, however slow the machine.
        wait_for_line(collector, "subscribed to", timeout_s=60)
        simulate = subprocess.run(
            [
                sys.executable,
                "-m",
                "programs",
                "simulate",
                "--speed",
                "0",
                "--max-rate",
                "2500",
                "--duration",
                "6",
                "--seed",
                "7",
                "--start",
                SIMULATED_START,
                "--ledger",
                str(tmp_path / "ledger.csv"),
                *faults,
            ],
            env=os.environ | env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        collected, _ = collector.communicate(timeout=120)
    finally:
        collector.kill()
    assert collector.returncode == 0, collected
    return ledger(tmp_path / "ledger.csv"), simulate.stdout, collected


def test_simulate_and_collect_store_every_published_reading_once_in_influxdb(
    mosquitto: Mosquitto, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    faults = [
        "--duplicate",
        "0.02",
        "--out-of-order",
        "0.02",
        "--malformed",
        "0.01",
        "--spike-out-of-range",
        "0.01",
        "--dropout",
        "0.01",
        "--senml-share",
        "0.2",
    ]
    published, simulated, collected = run_pipeline(
        mosquitto,
        tmp_path,
        {"PARKTWIN_INFLUX__URL": influxdb.url, "PARKTWIN_INFLUX__DATABASE": influxdb.name},
        faults,
    )
    stored: Counter[tuple[str, int]] = Counter()
    for series in influxdb.query('SELECT * FROM /.*/ GROUP BY "device"'):
        for row in series["values"]:  # type: ignore[union-attr]
            stored[(series["tags"]["device"], row[0])] += 1  # type: ignore[index]
    assert len(published) > 5000
    assert {device for device, _ in published} >= SPARKPLUG_DEVICES  # Sparkplug B ones too
    assert set(published.values()) == {1}
    assert stored == published
    # The summaries say what happened, in counts a user can check against each other.
    assert f"valid readings {sum(published.values())}" in simulated
    assert "rejected" in collected and "malformed_json" in collected
    assert "out_of_range" in collected


def test_simulate_and_collect_store_every_published_reading_through_the_v2_api(
    mosquitto: Mosquitto, victoria_metrics: VictoriaMetrics, tmp_path: Path
) -> None:
    # No duplicate fault: VictoriaMetrics' export shows duplicates until it merges them.
    faults = ["--out-of-order", "0.02", "--malformed", "0.01", "--dropout", "0.01"]
    bucket = f"b{tmp_path.name[-12:]}"
    published, _, _ = run_pipeline(
        mosquitto,
        tmp_path,
        {
            "PARKTWIN_INFLUX__API": "v2",
            "PARKTWIN_INFLUX__URL": victoria_metrics.url,
            "PARKTWIN_INFLUX__TOKEN": "secret-token",
            "PARKTWIN_INFLUX__ORG": "park",
            "PARKTWIN_INFLUX__BUCKET": bucket,
        },
        faults,
    )
    stored: Counter[tuple[str, int]] = Counter()
    # One field every reading of each kind carries (VM names series measurement_field).
    for name in (
        "electricity_power_kw",
        "gas_gas_m3",
        "heat_heat_gj",
        "water_water_m3",
        "fuel_diesel_kg",
        "occupancy_occupancy_persons",
        "air_co2_ppm",
        "emissions_co2_kg",
    ):
        for series in victoria_metrics.export(f'{{__name__="{name}"}}'):
            if series["metric"]["park"] != "mingxi":  # type: ignore[index]
                continue
            for ts in series["timestamps"]:  # type: ignore[union-attr]
                stored[(series["metric"]["device"], ts)] += 1  # type: ignore[index]
    assert len(published) > 5000
    assert {device for device, _ in published} >= SPARKPLUG_DEVICES
    assert stored == published
