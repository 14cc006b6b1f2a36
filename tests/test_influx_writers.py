"""The v1 and v2 writers against real servers: InfluxDB 1.6 and VictoriaMetrics (/api/v2/write)."""

from __future__ import annotations

import logging
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from conftest import InfluxDatabase, InfluxDB1, ServerProcess, VictoriaMetrics, http_request

from parktwin.config import InfluxApi, InfluxSettings
from parktwin.influx.factory import make_writer
from parktwin.influx.lineprotocol import format_fields, line, series_key
from parktwin.influx.v1 import InfluxV1Writer
from parktwin.influx.v2 import InfluxV2Writer
from parktwin.influx.writer import PointWriter, WriteError

TS = 1767225600000  # 2026-01-01T00:00:00Z
TOKEN = "tok-Secret-7f3a9c"
PASSWORD = "pw-Secret-41b2e8"

# Every character the line protocol treats specially, plus non-ASCII text.
AWKWARD_TAGS = {
    "site": "园区 A",
    "quoted": '"quoted"',
    "backslash": "a\\b",
    "equals": "x=y",
    "comma": "a,b",
    "space key": "two words",
    "mixed": 'a,b c=d "e" 园\\f',
}
AWKWARD_TEXT = 'say "hi", a\\b x=y 园区 A\\'


def v1_settings(url: str, database: str, **extra: object) -> InfluxSettings:
    return InfluxSettings(api=InfluxApi.V1, url=url, database=database, **extra)  # type: ignore[arg-type]


def v2_settings(url: str, **extra: object) -> InfluxSettings:
    return InfluxSettings(
        api=InfluxApi.V2,
        url=url,
        token=TOKEN,  # type: ignore[arg-type]
        org="parktwin",
        bucket="parktwin",
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
async def v1(influxdb: InfluxDatabase) -> AsyncIterator[PointWriter]:
    writer = make_writer(v1_settings(influxdb.url, influxdb.name))
    yield writer
    await writer.aclose()


@pytest.fixture
def own_victoria_metrics(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    server = VictoriaMetrics.create(tmp_path / "vm")
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.thaw()
    server.kill()


async def assert_frozen_server_times_out(writer: PointWriter, server: ServerProcess) -> None:
    """A server that stops answering (SIGSTOP) gives a retryable timeout after 1 s, not later."""
    try:
        await writer.write([f"m f=1 {TS}"])  # the connection is open and pooled
        server.freeze()
        started = time.monotonic()
        with pytest.raises(WriteError) as caught:
            await writer.write([f"m f=2 {TS}"])
        elapsed = time.monotonic() - started
    finally:
        server.thaw()
        await writer.aclose()
    assert caught.value.retryable
    assert "timed out" in str(caught.value)
    assert 0.9 <= elapsed < 1.5


def row(series: dict[str, object], index: int = 0) -> dict[str, object]:
    columns = series["columns"]
    values = series["values"]
    assert isinstance(columns, list) and isinstance(values, list)
    return dict(zip(columns, values[index], strict=True))


Series = tuple[str, tuple[tuple[str, str], ...]]


def merged_export(server: VictoriaMetrics, match: str) -> dict[Series, list[tuple[int, float]]]:
    """{(name, sorted labels): [(time, value)...]}; VM exports a series in one row per block."""
    merged: dict[Series, list[tuple[int, float]]] = {}
    for block in server.export(match):
        labels = dict(block["metric"])  # type: ignore[call-overload]
        name = labels.pop("__name__")
        samples = merged.setdefault((name, tuple(sorted(labels.items()))), [])
        samples.extend(zip(block["timestamps"], block["values"], strict=True))  # type: ignore[call-overload]
    return {key: sorted(samples) for key, samples in merged.items()}


# --- v1 against InfluxDB 1.6 ------------------------------------------------------------


def test_make_writer_picks_the_api() -> None:
    assert isinstance(make_writer(InfluxSettings(api=InfluxApi.V1)), InfluxV1Writer)
    assert isinstance(make_writer(InfluxSettings(api=InfluxApi.V2)), InfluxV2Writer)


async def test_v1_round_trips_awkward_tags_and_fields(
    v1: PointWriter, influxdb: InfluxDatabase
) -> None:
    fields: dict[str, float | int | bool | str] = {
        "power_kw": 0.1,
        "count": -7,
        "ok": True,
        "note": AWKWARD_TEXT,
    }
    await v1.write([line(series_key("电 表", AWKWARD_TAGS), format_fields(fields), TS)])
    (series,) = influxdb.query('SELECT * FROM "电 表"')
    assert row(series) == {"time": TS, **AWKWARD_TAGS, **fields}


async def test_v1_writing_a_batch_twice_stores_each_point_once(
    v1: PointWriter, influxdb: InfluxDatabase
) -> None:
    key = series_key("electricity", {"device": "m-1"})
    batch = [line(key, format_fields({"power_kw": float(i)}), TS + i * 1000) for i in range(50)]
    await v1.write(batch)
    await v1.write(batch)
    (series,) = influxdb.query("SELECT count(power_kw), sum(power_kw) FROM electricity")
    assert row(series)["count"] == 50
    assert row(series)["sum"] == sum(range(50))


async def test_v1_ensure_target_creates_the_database(influxdb: InfluxDatabase) -> None:
    name = f"new_{uuid.uuid4().hex[:8]}"
    writer = make_writer(v1_settings(influxdb.url, name))
    try:
        await writer.ensure_target()
        await writer.ensure_target()  # a second start finds it there
        await writer.write([f"m f=1 {TS}"])
    finally:
        await writer.aclose()
    assert influxdb.server.query(name, "SELECT f FROM m")[0]["values"] == [[TS, 1]]


async def test_v1_missing_database_is_not_retryable(influxdb: InfluxDatabase) -> None:
    writer = make_writer(v1_settings(influxdb.url, "absent", create_database=False))
    try:
        await writer.ensure_target()  # not allowed to create it: does nothing
        with pytest.raises(WriteError) as caught:
            await writer.write([f"m f=1 {TS}"])
    finally:
        await writer.aclose()
    assert caught.value.status == 404
    assert not caught.value.retryable
    assert "database not found" in str(caught.value)


async def test_v1_bad_line_is_not_retryable(v1: PointWriter) -> None:
    with pytest.raises(WriteError) as caught:
        await v1.write(["m f= 1"])
    assert caught.value.status == 400
    assert not caught.value.retryable
    assert "unable to parse" in str(caught.value)


async def test_v1_partial_write_keeps_good_points_and_is_not_retryable(
    v1: PointWriter, influxdb: InfluxDatabase
) -> None:
    await v1.write([f"m f=1.5 {TS}"])
    with pytest.raises(WriteError) as caught:
        await v1.write([f'm f="text" {TS + 1}', f"m f=2.5 {TS + 2}"])  # a type conflict
    assert caught.value.status == 400
    assert not caught.value.retryable
    assert "partial write" in str(caught.value)
    (series,) = influxdb.query("SELECT f FROM m")
    assert series["values"] == [[TS, 1.5], [TS + 2, 2.5]]


async def test_v1_stopped_server_is_retryable(own_influxdb: InfluxDB1) -> None:
    own_influxdb.create_database("db")
    writer = make_writer(v1_settings(own_influxdb.url, "db", timeout_s=5))
    try:
        await writer.write([f"m f=1 {TS}"])
        own_influxdb.stop()
        with pytest.raises(WriteError) as caught:
            await writer.write([f"m f=2 {TS}"])
        with pytest.raises(WriteError) as caught_at_start:
            await writer.ensure_target()
    finally:
        await writer.aclose()
    assert caught.value.retryable
    assert caught.value.status is None
    assert caught_at_start.value.retryable


async def test_v1_frozen_server_times_out_retryably(own_influxdb: InfluxDB1) -> None:
    own_influxdb.create_database("db")
    await assert_frozen_server_times_out(
        make_writer(v1_settings(own_influxdb.url, "db", timeout_s=1.0)), own_influxdb
    )


@pytest.fixture
def influxdb_with_auth(tmp_path: Path) -> Iterator[InfluxDB1]:
    server = InfluxDB1.create(tmp_path / "influxdb")
    config = server.folder / "influxdb.conf"
    config.write_text(config.read_text().replace("[http]\n", "[http]\n  auth-enabled = true\n"))
    server.start()
    # With no user yet, InfluxDB takes the first admin user without credentials.
    query = f"CREATE USER admin WITH PASSWORD '{PASSWORD}' WITH ALL PRIVILEGES"
    http_request(f"{server.url}/query?{urllib.parse.urlencode({'q': query})}", b"", "POST")
    yield server
    server.kill()


async def test_v1_basic_auth_and_no_password_in_errors(
    influxdb_with_auth: InfluxDB1, caplog: pytest.LogCaptureFixture
) -> None:
    url = influxdb_with_auth.url
    good = make_writer(v1_settings(url, "secured", username="admin", password=PASSWORD))
    bad = make_writer(v1_settings(url, "secured", username="admin", password=PASSWORD + "x"))
    caplog.set_level(logging.DEBUG)
    try:
        await good.ensure_target()
        await good.write([f"m f=1 {TS}"])
        with pytest.raises(WriteError) as caught:
            await bad.write([f"m f=2 {TS}"])
        await bad.ensure_target()  # refused: logged, not raised
    finally:
        await good.aclose()
        await bad.aclose()
    assert caught.value.status == 401
    assert not caught.value.retryable
    assert PASSWORD not in str(caught.value) and PASSWORD not in caplog.text
    assert "cannot create InfluxDB database" in caplog.text


# --- v2 against VictoriaMetrics ---------------------------------------------------------


async def test_v2_round_trips_awkward_tags(victoria_metrics: VictoriaMetrics) -> None:
    measurement = f"m{uuid.uuid4().hex[:8]}"
    writer = make_writer(v2_settings(victoria_metrics.url))
    key = series_key(measurement, AWKWARD_TAGS)
    try:
        await writer.write(
            [
                line(key, format_fields({"power_kw": 0.1, "count": 7, "ok": True}), TS),
                line(key, format_fields({"power_kw": -2.5, "count": 8, "ok": False}), TS + 1000),
            ]
        )
    finally:
        await writer.aclose()
    stored = merged_export(victoria_metrics, f'{{__name__=~"{measurement}_.*"}}')
    labels = tuple(sorted(AWKWARD_TAGS.items()))
    assert stored == {
        (f"{measurement}_power_kw", labels): [(TS, 0.1), (TS + 1000, -2.5)],
        (f"{measurement}_count", labels): [(TS, 7), (TS + 1000, 8)],
        (f"{measurement}_ok", labels): [(TS, 1), (TS + 1000, 0)],
    }


async def test_v2_refused_line_is_not_retryable(victoria_metrics: VictoriaMetrics) -> None:
    # VictoriaMetrics skips unparsable lines (and logs them) but refuses, with 400, a line
    # longer than its -influx.maxLineSize (256 KiB by default).
    writer = make_writer(v2_settings(victoria_metrics.url))
    try:
        with pytest.raises(WriteError) as caught:
            await writer.write([line("m", format_fields({"s": "x" * 300_000}), TS)])
    finally:
        await writer.aclose()
    assert caught.value.status == 400
    assert not caught.value.retryable
    assert "too long line" in str(caught.value)


async def test_v2_stopped_server_is_retryable(own_victoria_metrics: VictoriaMetrics) -> None:
    writer = make_writer(v2_settings(own_victoria_metrics.url, timeout_s=5))
    try:
        await writer.write([f"m f=1 {TS}"])
        own_victoria_metrics.stop()
        with pytest.raises(WriteError) as caught:
            await writer.write([f"m f=2 {TS}"])
    finally:
        await writer.aclose()
    assert caught.value.retryable
    assert caught.value.status is None
    assert TOKEN not in str(caught.value)


async def test_v2_frozen_server_times_out_retryably(
    own_victoria_metrics: VictoriaMetrics,
) -> None:
    await assert_frozen_server_times_out(
        make_writer(v2_settings(own_victoria_metrics.url, timeout_s=1.0)), own_victoria_metrics
    )


async def test_v2_refused_token_is_not_retryable_and_never_shown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = VictoriaMetrics.create(tmp_path / "vm")
    server.command += ["-httpAuth.username=parktwin", "-httpAuth.password=other"]
    server.start()
    caplog.set_level(logging.DEBUG)
    writer = make_writer(v2_settings(server.url))
    try:
        with pytest.raises(WriteError) as caught:
            await writer.write([f"m f=1 {TS}"])
    finally:
        await writer.aclose()
        server.kill()
    assert caught.value.status == 401
    assert not caught.value.retryable
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value.args)
    assert TOKEN not in caplog.text
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
