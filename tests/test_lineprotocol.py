"""Line protocol encoding: the escaping rules, and arbitrary text read back exactly.

Arbitrary text goes through a small reader that follows InfluxDB 1.x's rules (many examples,
fast) and through the real InfluxDB 1.6 and VictoriaMetrics (fewer examples, slower).
"""

from __future__ import annotations

import enum
import json
import math
import re
import struct
import urllib.parse
import uuid

import pytest
from conftest import InfluxDatabase, VictoriaMetrics, http_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parktwin.influx.lineprotocol import format_fields, line, series_key

# --- a reader with InfluxDB 1.x's rules: "\X" is X only for the characters X that need it --


def _token(text: str, at: int, specials: str, ends: str) -> tuple[str, int]:
    out = []
    while at < len(text) and text[at] not in ends:
        if text[at] == "\\" and at + 1 < len(text) and text[at + 1] in specials:
            at += 1
        out.append(text[at])
        at += 1
    return "".join(out), at


def _string_value(text: str, at: int) -> tuple[str, int]:
    assert text[at] == '"'
    out, at = [], at + 1
    while text[at] != '"':
        if text[at] == "\\" and text[at + 1] in '\\"':
            at += 1
        out.append(text[at])
        at += 1
    return "".join(out), at + 1


def parse_line(text: str) -> tuple[str, dict[str, str], dict[str, object], int]:
    """(measurement, tags, fields, timestamp) of one line."""
    measurement, at = _token(text, 0, ", ", ", ")
    tags: dict[str, str] = {}
    while text[at] == ",":
        key, at = _token(text, at + 1, ",= ", "=")
        tags[key], at = _token(text, at + 1, ",= ", ", ")
    fields: dict[str, object] = {}
    separator = " "
    while text[at] == separator:
        separator = ","
        key, at = _token(text, at + 1, ",= ", "=")
        at += 1
        if text[at] == '"':
            fields[key], at = _string_value(text, at)
            continue
        raw, at = _token(text, at, "", ", ")
        if raw in ("true", "false"):
            fields[key] = raw == "true"
        elif raw.endswith("i"):
            fields[key] = int(raw[:-1])
        else:
            fields[key] = float(raw)
        if text[at] == " ":
            break
    return measurement, tags, fields, int(text[at + 1 :])


# Text the encoder must refuse: line breaks; a backslash that a server would read as an escape.
UNREPRESENTABLE = re.compile(r"[\n\r]|\\(?:[\\, =]|\Z)")
no_newlines = st.text().filter(lambda s: "\n" not in s)


def representable(text: str, *, name: bool = False, leading_blank: bool = False) -> bool:
    if name and not text:
        return False
    if leading_blank and text[:1] in ("\t", "\0"):
        return False
    return UNREPRESENTABLE.search(text) is None


# --- the escaping rules ------------------------------------------------------------------


def test_measurement_escapes_comma_and_space_only() -> None:
    assert series_key("a,b c=d", {}) == "a\\,b\\ c=d"


def test_tag_keys_and_values_escape_comma_equals_space() -> None:
    key = series_key("m", {"k,1 =": "v,1 =2"})
    assert key == "m,k\\,1\\ \\==v\\,1\\ \\=2"


def test_tags_are_sorted_by_key_and_empty_values_left_out() -> None:
    assert series_key("m", {"zone": "z", "a": "1", "empty": "", "B": "b"}) == "m,B=b,a=1,zone=z"


def test_field_keys_escape_like_tag_keys() -> None:
    assert format_fields({"a b,c=d": 1.0}) == "a\\ b\\,c\\=d=1.0"


def test_string_fields_escape_quote_and_backslash_only() -> None:
    text = format_fields({"s": 'say "hi", a\\b x=y 园区'})
    assert text == 's="say \\"hi\\", a\\\\b x=y 园区"'


def test_string_field_ending_in_backslash() -> None:
    assert format_fields({"s": "c:\\"}) == 's="c:\\\\"'


def test_non_ascii_text_is_written_as_is() -> None:
    assert series_key("用电", {"园区": "园区 A"}) == "用电,园区=园区\\ A"


def test_a_lone_backslash_stays_literal() -> None:
    assert series_key("m", {"path": "a\\b"}) == "m,path=a\\b"


@pytest.mark.parametrize("value", ["a\\", "a\\\\b", "a\\,b", "a\\ b", "a\\=b", "\\"])
def test_ambiguous_backslashes_in_tags_are_refused(value: str) -> None:
    # InfluxDB 1.x and VictoriaMetrics read these differently; a trailing one eats the separator.
    with pytest.raises(ValueError, match="backslash"):
        series_key("m", {"k": value})
    with pytest.raises(ValueError, match="backslash"):
        series_key("m", {value: "v"})
    with pytest.raises(ValueError, match="backslash"):
        format_fields({value: 1.0})


def test_measurement_ending_in_backslash_is_refused() -> None:
    with pytest.raises(ValueError, match="backslash"):
        series_key("m\\", {})


@pytest.mark.parametrize("newline", ["\n", "\r"])
def test_line_breaks_are_refused_everywhere(newline: str) -> None:
    for call in (
        lambda: series_key(f"m{newline}", {}),
        lambda: series_key("m", {f"k{newline}": "v"}),
        lambda: series_key("m", {"k": f"v{newline}"}),
        lambda: format_fields({f"f{newline}": 1.0}),
        lambda: format_fields({"s": f"a{newline}b"}),
    ):
        with pytest.raises(ValueError, match="line break"):
            call()


@pytest.mark.parametrize("measurement", ["", "#comment", "\tm", "\0m"])
def test_unusable_measurements_are_refused(measurement: str) -> None:
    with pytest.raises(ValueError):
        series_key(measurement, {})


@pytest.mark.parametrize("key", ["", "\tf", "\0f"])
def test_unusable_field_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError):
        format_fields({key: 1.0})


def test_empty_tag_key_is_refused_and_empty_field_set_too() -> None:
    with pytest.raises(ValueError):
        series_key("m", {"": "v"})
    with pytest.raises(ValueError):
        format_fields({})


def test_field_types() -> None:
    text = format_fields({"f": 1.5, "i": -3, "t": True, "n": False, "s": "x"})
    assert text == 'f=1.5,i=-3i,t=true,n=false,s="x"'


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.1, "0.1"), (1e16, "1e+16"), (-0.0, "-0.0"), (5e-324, "5e-324"), (2.0, "2.0")],
)
def test_floats_are_written_to_round_trip(value: float, text: str) -> None:
    assert format_fields({"f": value}) == f"f={text}"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        format_fields({"f": value})


def test_integers_must_fit_int64() -> None:
    assert format_fields({"i": 2**63 - 1}) == f"i={2**63 - 1}i"
    assert format_fields({"i": -(2**63)}) == f"i={-(2**63)}i"
    with pytest.raises(ValueError, match="int64"):
        format_fields({"i": 2**63})


def test_number_subclasses_are_written_plainly() -> None:
    numpy = pytest.importorskip("numpy")

    class Level(enum.IntEnum):
        HIGH = 3

    assert format_fields({"f": numpy.float64(1.25), "i": Level.HIGH}) == "f=1.25,i=3i"


def test_unsupported_values_are_refused() -> None:
    with pytest.raises(TypeError):
        format_fields({"f": None})  # type: ignore[dict-item]


def test_a_line_joins_key_fields_and_time() -> None:
    key = series_key("electricity", {"device": "m-1"})
    assert line(key, format_fields({"power_kw": 2.5}), 1767225600000) == (
        "electricity,device=m-1 power_kw=2.5 1767225600000"
    )


# --- properties, through the reader -----------------------------------------------------


@given(measurement=no_newlines, tags=st.dictionaries(no_newlines, no_newlines, max_size=4))
def test_any_series_key_reads_back_or_is_refused(measurement: str, tags: dict[str, str]) -> None:
    kept = {k: v for k, v in tags.items() if v != ""}
    expected_ok = (
        representable(measurement, name=True, leading_blank=True)
        and not measurement.startswith("#")
        and all(representable(k, name=True) and representable(v) for k, v in kept.items())
    )
    try:
        key = series_key(measurement, tags)
    except ValueError:
        assert not expected_ok
        return
    assert expected_ok
    name, read_tags, _, _ = parse_line(f"{key} f=1 0")
    assert name == measurement
    assert read_tags == kept
    assert list(read_tags) == sorted(kept)


@given(
    key=no_newlines,
    value=st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(-(2**63), 2**63 - 1),
        st.booleans(),
        no_newlines,
    ),
)
def test_any_field_reads_back_or_is_refused(key: str, value: object) -> None:
    expected_ok = representable(key, name=True, leading_blank=True) and not (
        isinstance(value, str) and "\r" in value
    )
    try:
        text = format_fields({key: value})  # type: ignore[dict-item]
    except ValueError:
        assert not expected_ok
        return
    assert expected_ok
    _, _, fields, _ = parse_line(f"m {text} 0")
    assert list(fields) == [key]
    read = fields[key]
    assert type(read) is type(value)
    if isinstance(value, float):  # bit for bit, so -0.0 stays -0.0
        assert struct.pack("<d", read) == struct.pack("<d", value)
    else:
        assert read == value


# --- properties, through the real databases ---------------------------------------------

REAL = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
tag_text = no_newlines.filter(lambda s: s != "" and representable(s))
key_text = tag_text.filter(lambda s: s[:1] not in ("\t", "\0") and s not in ("time", "f", "s"))


@REAL
@given(tag_key=key_text, tag_value=tag_text, text=no_newlines.filter(lambda s: "\r" not in s))
def test_arbitrary_text_round_trips_through_influxdb(
    influxdb: InfluxDatabase, tag_key: str, tag_value: str, text: str
) -> None:
    measurement = f"m{uuid.uuid4().hex}"
    point = line(series_key(measurement, {tag_key: tag_value}), format_fields({"s": text}), 1000)
    http_request(
        f"{influxdb.url}/write?db={influxdb.name}&precision=ms", data=point.encode(), method="POST"
    )
    (series,) = influxdb.query(f'SELECT * FROM "{measurement}"')
    columns, values = series["columns"], series["values"]
    assert isinstance(columns, list) and isinstance(values, list)
    row = dict(zip(columns, values[0], strict=True))
    assert row == {"time": 1000, tag_key: tag_value, "s": text}


def export(server: VictoriaMetrics, match: str) -> list[dict[str, object]]:
    # Not conftest's export: its splitlines() also splits at U+0085 and U+2028 inside labels.
    http_request(f"{server.url}/internal/force_flush")
    params = urllib.parse.urlencode({"match[]": match, "start": "0", "end": str(2**40)})
    text = http_request(f"{server.url}/api/v1/export?{params}").decode()
    return [json.loads(row) for row in text.split("\n") if row.strip()]


@REAL
@given(tag_key=key_text, tag_value=tag_text)
def test_arbitrary_tags_round_trip_through_victoria_metrics(
    victoria_metrics: VictoriaMetrics, tag_key: str, tag_value: str
) -> None:
    measurement = f"m{uuid.uuid4().hex}"
    point = line(series_key(measurement, {tag_key: tag_value}), format_fields({"f": 1.0}), 1000)
    http_request(
        f"{victoria_metrics.url}/api/v2/write?precision=ms", data=point.encode(), method="POST"
    )
    (series,) = export(victoria_metrics, f'{{__name__="{measurement}_f"}}')
    assert series["metric"] == {"__name__": f"{measurement}_f", tag_key: tag_value}
