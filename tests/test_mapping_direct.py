"""A mapped topic read the direct way (``MappingEngine.direct``/``read_direct``, the router's
per-topic route) gives exactly what the general way gives (``MappingEngine.apply``, then
``check_reading`` on each reading): the same readings, the same refusals with the same reasons
and details, whatever the payload."""

from __future__ import annotations

import orjson
from helpers import SMALL_PARK
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.mapping.engine import Direct
from collectors.routing import MessageRouter
from parktwin.contract.reading import PayloadError
from parktwin.park.loader import parse_park
from parktwin.validation import Limits, check_reading

ARRIVAL_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
LIMITS = Limits(65536, 946_684_800_000, 300_000)
EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

METER = """
mappings:
  - topic: meters/+/data
    identity: {topic_level: 1}
    devices: {A1: m-plant, B2: m-flats}
    time: {path: $.ts, format: epoch_ms}
    values:
      energy_kwh: {path: $.e, unit: Wh, type: counter}
      power_kw: {path: $.m.p, unit: W}
  - topic: plugs/+/SENSOR
    preset: tasmota
    devices: {tas-1: m-plant}
"""


PARK = parse_park(SMALL_PARK.format(park_id="p1") + METER, "park")


def router() -> MessageRouter:
    return MessageRouter(PARK, LIMITS)


Outcome = tuple[object, ...]


def general(r: MessageRouter, topic: str, payload: bytes) -> Outcome:
    """What the router made of a mapped message before it kept routes per topic."""
    assert r.engine is not None
    refused: list[PayloadError] = []
    try:
        decoded = r.engine.apply(topic, payload, ARRIVAL_MS, refused)
    except PayloadError as exc:
        return "raised", exc.reason, exc.detail
    accepted = []
    for reading in decoded:
        try:
            check_reading(r.park, LIMITS, reading, ARRIVAL_MS)
        except PayloadError as exc:
            refused.append(PayloadError(exc.reason, f"{reading.device_id}: {exc.detail}"))
        else:
            accepted.append(reading)
    return accepted, [(e.reason, e.detail) for e in refused]


def routed(r: MessageRouter, topic: str, payload: bytes) -> Outcome:
    refused: list[PayloadError] = []
    try:
        readings = r.readings(topic, payload, ARRIVAL_MS, refused)
    except PayloadError as exc:
        return "raised", exc.reason, exc.detail
    return readings, [(e.reason, e.detail) for e in refused]


numbers = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**64 - 1),  # what orjson writes
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1500, 250.5, -1, 1e300, True, None, "12", [1], {"x": 1}]),
)
times = st.one_of(
    st.just(ARRIVAL_MS),
    st.integers(min_value=ARRIVAL_MS - 10**12, max_value=ARRIVAL_MS + 10**6),
    st.sampled_from([ARRIVAL_MS + 0.5, "2026-01-01T00:00:00Z", None, True, 1e300]),
)
maybe = st.one_of(st.none(), st.just("absent"))


@st.composite
def meter_bodies(draw: st.DrawFn) -> object:
    body: dict[str, object] = {}
    for key, values in (("ts", times), ("e", numbers)):
        if draw(st.booleans()) or draw(st.booleans()):
            body[key] = draw(values)
    inner = draw(st.one_of(st.dictionaries(st.sampled_from(["p", "q"]), numbers), numbers))
    if draw(st.booleans()) or draw(st.booleans()):
        body["m"] = inner
    return draw(st.one_of(st.just(body), st.sampled_from([[body], "x", 5])))


@EXAMPLES
@given(st.lists(st.tuples(st.sampled_from(["A1", "B2", "ZZ", ""]), meter_bodies()), max_size=8))
def test_a_direct_topic_gives_what_the_general_way_gives(
    messages: list[tuple[str, object]],
) -> None:
    r, plain = router(), router()
    for identity, body in messages:
        topic, payload = f"meters/{identity}/data", orjson.dumps(body)
        assert routed(r, topic, payload) == general(plain, topic, payload), (topic, payload)


@EXAMPLES
@given(
    st.sampled_from(["2026-01-01T08:00:00", "2026-01-01T08:00:00.5", "2025-13-01T00:00", 3]),
    numbers,
    numbers,
)
def test_a_tasmota_plug_gives_what_the_general_way_gives(
    when: object, total: object, power: object
) -> None:
    body = {"Time": when, "ENERGY": {"Total": total, "Power": power}}
    r, plain = router(), router()
    for topic in ("plugs/tas-1/SENSOR", "plugs/tas-2/SENSOR"):
        payload = orjson.dumps(body)
        assert routed(r, topic, payload) == general(plain, topic, payload)


def test_the_usual_message_takes_the_direct_route_and_others_do_not() -> None:
    r = router()
    body = {"ts": ARRIVAL_MS, "e": 1500, "m": {"p": 250}}
    for identity in ("A1", "ZZ", ""):
        routed(r, f"meters/{identity}/data", orjson.dumps(body))
    assert type(r._routes["meters/A1/data"]) is Direct
    assert type(r._routes["meters/ZZ/data"]) is not Direct  # unknown: apply says so
    assert type(r._routes["meters//data"]) is not Direct
    readings, refused = routed(r, "meters/A1/data", orjson.dumps(body))
    assert refused == [] and [x.values for x in readings] == [  # type: ignore[union-attr]
        {"energy_kwh": 1.5, "power_kw": 0.25}
    ]


def test_a_reading_out_of_its_window_is_refused_with_the_reason_check_reading_gives() -> None:
    body = orjson.dumps({"ts": ARRIVAL_MS + 3_600_000, "e": 1, "m": {"p": 1}})
    r, plain = router(), router()
    outcome = routed(r, "meters/A1/data", body)
    assert outcome == general(plain, "meters/A1/data", body)
    assert outcome[1][0][0] == "timestamp_out_of_window"  # type: ignore[index]
