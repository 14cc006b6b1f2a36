"""Property-based tests of every decoder of outside input: whatever bytes arrive, a decoder
either refuses them with its own error (PayloadError with a documented reason, or
MonthlyInputsError) or returns readings that satisfy the contract (docs/contract.md)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from helpers import REASONS, small_park
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parktwin.config import CollectorSettings
from parktwin.contract.payload import decode, encode
from parktwin.contract.quantities import KINDS, QUANTITIES
from parktwin.contract.reading import PayloadError, Reading
from parktwin.contract.senml import UNITS, decode_senml
from parktwin.validation import Limits, validate_message
from twin.model.inputs import MonthlyInputs, MonthlyInputsError, parse_monthly_inputs

PARK = small_park("p1")
LIMITS = Limits.from_settings(CollectorSettings())
ARRIVAL_MS = 1_767_225_600_000
EXAMPLES = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- strategies: JSON that looks like our payloads, and JSON that looks like nothing ---------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_any = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
numbers = (
    st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([0, -1, 1e12, 1e12 + 1, 1e6, -1e6, 100, 1e5])
)
quantity_names = st.sampled_from(sorted(QUANTITIES)) | st.text(max_size=24)
timestamps = (
    numbers
    | st.booleans()
    | st.text(max_size=30)
    | st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)
    | st.datetimes().map(datetime.isoformat)  # no offset: refused
    | st.integers(0, 2**42)
)
telemetry_objects = st.fixed_dictionaries(
    {},
    optional={
        "v": st.sampled_from([1, 2, "1", None, True, 1.0]),
        "ts": timestamps,
        "seq": st.integers() | st.text(max_size=3) | st.booleans() | st.none(),
        "values": st.dictionaries(quantity_names, numbers | json_scalars, max_size=5) | json_any,
    },
)
senml_records = st.fixed_dictionaries(
    {},
    optional={
        "bn": st.sampled_from(["", "urn:dev:x:", "dev/"]) | st.text(max_size=8),
        "bt": numbers,
        "bu": st.sampled_from(sorted(UNITS)) | st.text(max_size=4),
        "n": st.sampled_from(["power", "energy", "gas", "occupancy", "energy_import"])
        | st.text(max_size=10),
        "u": st.sampled_from(sorted(UNITS)) | st.text(max_size=4) | st.integers(),
        "v": numbers | json_scalars,
        "t": numbers,
        "vs": st.text(max_size=4),
    },
)
senml_packs = st.lists(senml_records | json_any, max_size=6)


def as_json(value: Any) -> bytes:
    """Standard-library JSON, which writes NaN and Infinity as the bare words devices send."""
    return json.dumps(value).encode()


payloads = (
    st.binary(max_size=300)
    | telemetry_objects.map(as_json)
    | senml_packs.map(as_json)
    | json_any.map(as_json)
)

# -- what accepted readings must be ---------------------------------------------------------


def assert_contract(readings: list[Reading], device_id: str) -> None:
    """The contract's promises about decoded readings."""
    assert readings
    for reading in readings:
        assert reading.device_id == device_id
        assert type(reading.ts_ms) is int
        assert reading.values
        for name, value in reading.values.items():
            quantity = QUANTITIES[name]
            assert type(value) is float and math.isfinite(value)
            assert quantity.min_value <= value <= quantity.max_value
    assert len({r.ts_ms for r in readings}) == len(readings)  # one reading per event time


def decoded_or_refused(call: Any) -> list[Reading] | None:
    try:
        return list(call())
    except PayloadError as exc:
        assert exc.reason in REASONS, exc
        return None


@EXAMPLES
@given(payloads)
def test_decode_refuses_with_a_reason_or_returns_contract_readings(payload: bytes) -> None:
    readings = decoded_or_refused(lambda: decode("dev-1", payload))
    if readings is not None:
        assert_contract(readings, "dev-1")


@EXAMPLES
@given(senml_packs)
def test_senml_decode_refuses_with_a_reason_or_returns_contract_readings(
    records: list[Any],
) -> None:
    readings = decoded_or_refused(lambda: decode_senml("dev-1", records))
    if readings is not None:
        assert_contract(readings, "dev-1")
        assert all(abs(r.ts_ms) >= 2**28 * 1000 for r in readings)  # absolute times only


@EXAMPLES
@given(
    st.sampled_from([d.id for d in PARK.devices]) | st.text(max_size=12),
    st.sampled_from(["p1", "p2", ""]),
    payloads,
)
def test_validate_message_accepts_only_what_the_park_and_the_window_allow(
    device_id: str, park_id: str, payload: bytes
) -> None:
    topic = f"parks/{park_id}/devices/{device_id}/telemetry"
    readings = decoded_or_refused(
        lambda: validate_message(PARK, LIMITS, topic, payload, ARRIVAL_MS)
    )
    if readings is None:
        return
    assert_contract(readings, device_id)
    allowed = KINDS[PARK.devices_by_id[device_id].kind].quantities
    for reading in readings:
        assert set(reading.values) <= set(allowed)
        assert LIMITS.earliest_ts_ms <= reading.ts_ms <= ARRIVAL_MS + LIMITS.max_future_ms


@EXAMPLES
@given(
    st.sampled_from(sorted(QUANTITIES)).flatmap(
        lambda name: st.tuples(
            st.just(name),
            st.floats(QUANTITIES[name].min_value, QUANTITIES[name].max_value),
        )
    ),
    st.integers(LIMITS.earliest_ts_ms, ARRIVAL_MS),
    st.none() | st.integers(0, 2**63),
)
def test_every_reading_the_contract_allows_survives_encode_and_decode(
    quantity: tuple[str, float], ts_ms: int, seq: int | None
) -> None:
    name, value = quantity
    reading = Reading("dev-1", ts_ms, {name: value}, seq)
    assert decode("dev-1", encode(reading)) == [reading]


@EXAMPLES
@given(st.datetimes(timezones=st.just(timezone(timedelta(hours=8)))))
def test_rfc3339_with_an_offset_is_the_same_instant_as_epoch_milliseconds(
    moment: datetime,
) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    body = {"ts": moment.isoformat(), "values": {"power_kw": 1}}
    [reading] = decode("dev-1", as_json(body))
    assert reading.ts_ms == round(moment.timestamp() * 1000)


money = st.floats(allow_nan=False) | st.integers(-5, 10**9) | json_scalars
monthly_objects = st.fixed_dictionaries(
    {},
    optional={
        "month": st.sampled_from(["2026-01", "2026-13", "26-01", ""]) | st.text(max_size=8),
        "park": st.none() | st.text(max_size=5),
        "solid_waste_generated_t": money,
        "solid_waste_utilised_t": money,
        "waste_heat_available_gj": money,
        "industrial_water_use_m3": money,
        "offsets_t_co2": money,
        "green_power": st.fixed_dictionaries(
            {}, optional={"certificates": money, "direct_kwh": money}
        )
        | json_any,
        "financials": st.dictionaries(
            st.text(max_size=5),
            st.fixed_dictionaries({}, optional={"tax_10k_yuan": money, "employees": money}),
            max_size=2,
        ),
        "products": st.lists(json_any, max_size=2),
        "unexpected": json_any,
    },
)


def assert_numbers_non_negative(value: Any) -> None:
    if isinstance(value, dict):
        for item in value.values():
            assert_numbers_non_negative(item)
    elif isinstance(value, list):
        for item in value:
            assert_numbers_non_negative(item)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        assert math.isfinite(value) and value >= 0


@EXAMPLES
@given(st.binary(max_size=200) | monthly_objects.map(as_json) | json_any.map(as_json))
def test_monthly_inputs_refuse_with_their_error_or_give_a_valid_month(data: bytes) -> None:
    try:
        inputs = parse_monthly_inputs(data)
    except MonthlyInputsError as exc:
        assert exc.problems  # always says what is wrong
        return
    assert isinstance(inputs, MonthlyInputs)
    year, month = inputs.month.split("-")
    assert len(year) == 4 and 1 <= int(month) <= 12
    assert_numbers_non_negative(inputs.model_dump(exclude={"month", "park"}))
