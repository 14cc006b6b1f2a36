"""The test servers themselves answer as the real products do."""

from __future__ import annotations

import subprocess

from conftest import InfluxDatabase, Mosquitto, VictoriaMetrics, http_request


def test_mosquitto_relays_a_message(mosquitto: Mosquitto) -> None:
    # Retained, so the subscriber gets it however late it connects.
    subprocess.run(
        ["mosquitto_pub", "-p", str(mosquitto.port), "-t", "probe/x", "-m", "hello", "-r"],
        check=True,
    )
    out = subprocess.run(
        ["mosquitto_sub", "-p", str(mosquitto.port), "-t", "probe/#", "-C", "1", "-W", "10"],
        capture_output=True,
        check=True,
        timeout=15,
    ).stdout
    assert out.strip() == b"hello"


def test_influxdb_stores_and_answers_influxql(influxdb: InfluxDatabase) -> None:
    http_request(
        f"{influxdb.url}/write?db={influxdb.name}&precision=ms",
        data=b"probe,device=a value=1.5 1767225600000",
        method="POST",
    )
    series = influxdb.query("SELECT value FROM probe")
    assert series[0]["values"] == [[1767225600000, 1.5]]


def test_victoria_metrics_takes_v2_writes(victoria_metrics: VictoriaMetrics) -> None:
    http_request(
        f"{victoria_metrics.url}/api/v2/write?org=o&bucket=b&precision=ms",
        data=b"probe2,device=a value=2.5 1767225600000",
        method="POST",
    )
    exported = victoria_metrics.export('{__name__="probe2_value"}')
    assert exported[0]["values"] == [2.5]
    assert exported[0]["timestamps"] == [1767225600000]
