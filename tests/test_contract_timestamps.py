"""Event times: epoch milliseconds, or RFC 3339 (section 5.6) exactly, nothing else of ISO 8601."""

from __future__ import annotations

import pytest

from parktwin.contract.reading import PayloadError
from parktwin.contract.timestamps import parse_ts_ms

MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("2026-01-01T00:00:00Z", MS),
        ("2026-01-01t00:00:00z", MS),  # 5.6: "T" and "Z" may be lower case
        ("2026-01-01T00:00:00z", MS),
        ("2026-01-01t00:00:00Z", MS),
        ("2026-01-01T08:00:00+08:00", MS),
        ("2025-12-31T19:30:00-04:30", MS),
        ("2026-01-01T00:00:00-00:00", MS),  # 4.3: UTC, local offset unknown
        ("2026-01-01T00:00:00.250Z", MS + 250),
        ("2026-01-01T00:00:00.1Z", MS + 100),
        ("2026-01-01T00:00:00.123456789Z", MS + 123),
        ("2016-12-31T23:59:60Z", 1_483_228_800_000),  # a leap second: the next second's start
        ("2024-02-29T00:00:00Z", 1_709_164_800_000),
    ],
)
def test_rfc_3339_date_times_are_read(text: str, ms: int) -> None:
    assert parse_ts_ms(text) == ms


@pytest.mark.parametrize(
    "text",
    [
        "2026-W01-4T00:00:00Z",  # ISO 8601 week date
        "2026-001T00:00:00Z",  # ordinal date
        "20260101T000000Z",  # basic format
        "2026-01-01T000000Z",
        "2026-01-01 00:00:00Z",  # a space: only a readability note in 5.6
        "2026-01-01T00:00:00",  # no offset
        "2026-01-01T00:00Z",  # no seconds
        "2026-01-01T00:00:00+0800",  # offset without colon
        "2026-01-01T00:00:00+08",
        "2026-01-01T00:00:00.Z",
        "2026-01-01",
        "2026-02-30T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T00:00:00+24:00",
        "2026-01-01T00:00:00Z\n",
        "２０２６-01-01T00:00:00Z",  # full-width digits are not DIGIT
        " 2026-01-01T00:00:00Z",
    ],
)
def test_everything_else_is_refused(text: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_ts_ms(text)
    assert caught.value.reason == "bad_timestamp"


@pytest.mark.parametrize("value", [True, False, None, [MS], {"ms": MS}, float("nan")])
def test_other_types_are_refused(value: object) -> None:
    with pytest.raises(PayloadError):
        parse_ts_ms(value)


def test_epoch_milliseconds_are_read_as_they_are() -> None:
    assert parse_ts_ms(MS) == MS
    assert parse_ts_ms(float(MS)) == MS
