"""SenML read as RFC 8428 section 4 says: every base and regular field, must-understand fields,
the version, resolved records (the RFC's own examples), and what the contract then refuses."""

from __future__ import annotations

import pytest

from parktwin.contract.reading import PayloadError, Reading
from parktwin.contract.senml import ResolvedRecord, decode_senml, resolve

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z, seconds


def reason_of(pack: list[object]) -> str:
    with pytest.raises(PayloadError) as caught:
        decode_senml("m-plant", pack)
    return caught.value.reason


# -- the RFC's examples (section 5.1), resolved as section 4.6 says ---------------------------


def test_rfc_5_1_1_single_datapoint() -> None:
    (record,) = resolve([{"n": "urn:dev:ow:10e2073a01080063", "u": "Cel", "v": 23.1}])
    assert record == ResolvedRecord(
        "urn:dev:ow:10e2073a01080063", 0.0, "Cel", 23.1, "v", None, None, 10
    )


def test_rfc_5_1_2_multiple_datapoints_share_the_base_name() -> None:
    pack = [
        {"bn": "urn:dev:ow:10e2073a01080063:", "n": "voltage", "u": "V", "v": 120.1},
        {"n": "current", "u": "A", "v": 1.2},
    ]
    assert [(r.name, r.unit, r.value) for r in resolve(pack)] == [
        ("urn:dev:ow:10e2073a01080063:voltage", "V", 120.1),
        ("urn:dev:ow:10e2073a01080063:current", "A", 1.2),
    ]


# RFC 8428 section 5.1.3 (bver 5, base unit, relative times) and its resolved form, 5.1.4.
RFC_5_1_3 = [
    {"bn": "urn:dev:ow:10e2073a0108006:", "bt": 1.276020076001e09, "bu": "A", "bver": 5,
     "n": "voltage", "u": "V", "v": 120.1},
    {"n": "current", "t": -5, "v": 1.2},
    {"n": "current", "t": -4, "v": 1.3},
    {"n": "current", "t": -3, "v": 1.4},
    {"n": "current", "t": -2, "v": 1.5},
    {"n": "current", "t": -1, "v": 1.6},
    {"n": "current", "v": 1.7},
]  # fmt: skip


def test_rfc_5_1_3_resolves_to_the_records_of_5_1_4() -> None:
    records = resolve(RFC_5_1_3)
    resolved = [(r.name, r.unit, r.value, round(r.time_s, 3), r.version) for r in records]
    name = "urn:dev:ow:10e2073a0108006:"
    assert resolved == [
        (f"{name}voltage", "V", 120.1, 1276020076.001, 5),
        (f"{name}current", "A", 1.2, 1276020071.001, 5),
        (f"{name}current", "A", 1.3, 1276020072.001, 5),
        (f"{name}current", "A", 1.4, 1276020073.001, 5),
        (f"{name}current", "A", 1.5, 1276020074.001, 5),
        (f"{name}current", "A", 1.6, 1276020075.001, 5),
        (f"{name}current", "A", 1.7, 1276020076.001, 5),
    ]


def test_rfc_5_1_6_collection_of_resources_with_a_sum_and_a_boolean() -> None:
    pack = [
        {"bn": "urn:dev:ow:10e2073a01080063:", "bt": 1.320078429e09},
        {"n": "temperature", "u": "Cel", "v": 27.2},
        {"n": "humidity", "u": "%RH", "v": 80},
        {"n": "energy", "u": "kWh", "s": 4.3},
        {"n": "lock", "vb": True},
        {"n": "label", "vs": "door"},
        {"n": "blob", "vd": "aGk"},
    ]
    resolved = resolve(pack)
    assert [(r.name.rsplit(":", 1)[1], r.value_field, r.value, r.sum) for r in resolved] == [
        ("temperature", "v", 27.2, None),
        ("humidity", "v", 80.0, None),
        ("energy", None, None, 4.3),
        ("lock", "vb", True, None),
        ("label", "vs", "door", None),
        ("blob", "vd", "aGk", None),
    ]
    assert {r.time_s for r in resolved} == {1.320078429e09}


# -- base fields, each ----------------------------------------------------------------------


def test_base_value_is_added_to_each_value_after_it() -> None:
    pack = [
        {"bn": "m-plant:", "bt": T0, "bv": 1000, "n": "energy", "u": "kWh", "v": 5},
        {"n": "energy", "u": "kWh", "t": 60, "v": 7.5},
        {"bv": 0, "n": "power", "u": "kW", "t": 60, "v": 3},
    ]
    assert decode_senml("m-plant", pack) == [
        Reading("m-plant", T0 * 1000, {"energy_kwh": 1005.0}),
        Reading("m-plant", (T0 + 60) * 1000, {"energy_kwh": 1007.5, "power_kw": 3.0}),
    ]


def test_base_value_alone_is_no_reading_and_does_not_apply_to_other_value_kinds() -> None:
    assert resolve([{"bv": 5}]) == []
    (record,) = resolve([{"bv": 5, "n": "x", "vs": "1"}])
    assert record.value == "1"


def test_base_sum_is_added_to_sums_only_and_sums_are_refused_by_the_contract() -> None:
    records = resolve([{"bs": 100, "n": "a", "s": 5}, {"n": "b", "v": 1}])
    assert [(r.sum, r.value) for r in records] == [(105.0, None), (None, 1.0)]
    pack = [{"bn": "m-plant:", "bt": T0, "bs": 100, "n": "energy", "u": "kWh", "s": 5}]
    assert reason_of(pack) == "senml_unsupported"


def test_base_name_time_and_unit_apply_until_changed_and_a_unit_overrides_the_base() -> None:
    pack = [
        {"bn": "a:", "bt": T0, "bu": "W", "n": "power", "v": 1000},
        {"n": "power", "u": "kW", "t": 1, "v": 2},
        {"bn": "b/", "bt": T0 + 10, "n": "power", "v": 3000},
    ]
    assert [(r.name, r.time_s, r.unit) for r in resolve(pack)] == [
        ("a:power", T0, "W"),
        ("a:power", T0 + 1, "kW"),
        ("b/power", T0 + 10, "W"),
    ]
    assert [r.values for r in decode_senml("m-plant", pack)] == [
        {"power_kw": 1.0},
        {"power_kw": 2.0},
        {"power_kw": 3.0},
    ]


# -- version, must-understand, names, value fields ------------------------------------------


@pytest.mark.parametrize("bver", [1, 5, 10])
def test_versions_up_to_10_are_read(bver: int) -> None:
    (record,) = resolve([{"bver": bver, "n": "x", "v": 1}])
    assert record.version == bver


@pytest.mark.parametrize(
    "pack",
    [
        [{"bver": 11, "n": "x", "v": 1}],
        [{"bver": 0, "n": "x", "v": 1}],
        [{"bver": True, "n": "x", "v": 1}],
        [{"bver": 10.5, "n": "x", "v": 1}],
        [{"bver": "10", "n": "x", "v": 1}],
        [{"bver": 5, "n": "x", "v": 1}, {"bver": 6, "n": "y", "v": 1}],  # one version a pack
    ],
)
def test_a_newer_or_malformed_version_refuses_the_pack(pack: list[object]) -> None:
    with pytest.raises(PayloadError) as caught:
        resolve(pack)
    assert caught.value.reason == "bad_version"


@pytest.mark.parametrize("label", ["scale_", "bn_", "_", "v_"])
def test_a_must_understand_field_refuses_the_pack(label: str) -> None:
    pack = [{"bn": "m-plant:", "bt": T0, "n": "power", "u": "kW", "v": 1}, {label: 1}]
    assert reason_of(pack) == "senml_unsupported"


def test_unknown_fields_without_an_underscore_at_the_end_are_ignored() -> None:
    pack = [{"bn": "m-plant:", "bt": T0, "n": "power", "u": "kW", "v": 1, "ct": "x", "ut": 60}]
    assert decode_senml("m-plant", pack)[0].values == {"power_kw": 1.0}
    assert resolve(pack)[0].update_time_s == 60.0


@pytest.mark.parametrize(
    "name", ["", "-power", "po wer", "power\n", "<b>", "pow\u00e9r", "_x", ":x"]
)
def test_a_name_outside_rfc_8428s_character_set_is_refused(name: str) -> None:
    assert reason_of([{"bt": T0, "n": name, "u": "kW", "v": 1}]) == "bad_schema"


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"v": 1, "vs": "1"}, "bad_schema"),  # one value field at most
        ({"vs": "1"}, "bad_schema"),  # the contract stores numbers
        ({"vb": True}, "bad_schema"),
        ({"vd": "aGk"}, "bad_schema"),
        ({"vb": 1}, "bad_schema"),  # vb must be a boolean
        ({"v": "1"}, "bad_schema"),
        ({"t": "1", "v": 1}, "bad_schema"),
        ({"u": 3, "v": 1}, "unknown_unit"),
    ],
)
def test_value_fields_and_their_types(record: dict[str, object], reason: str) -> None:
    assert reason_of([{"bn": "m-plant:", "bt": T0, "n": "power", "u": "kW"} | record]) == reason


def test_a_record_with_a_name_but_no_value_is_refused() -> None:
    assert reason_of([{"bn": "m-plant:", "bt": T0, "n": "power", "u": "kW"}]) == "bad_schema"


# -- resolved records that collide ----------------------------------------------------------


def test_two_records_with_one_name_and_time_and_different_values_are_refused() -> None:
    pack = [
        {"bn": "m-plant:", "bt": T0, "n": "power", "u": "kW", "v": 1},
        {"n": "power", "u": "W", "v": 900},
    ]
    assert reason_of(pack) == "conflicting_values"


def test_the_same_value_twice_is_one_reading() -> None:
    pack = [
        {"bn": "m-plant:", "bt": T0, "n": "power", "u": "kW", "v": 1},
        {"n": "power", "u": "W", "v": 1000},
    ]
    assert decode_senml("m-plant", pack) == [Reading("m-plant", T0 * 1000, {"power_kw": 1.0})]


def test_relative_times_and_units_the_contract_does_not_store_are_refused() -> None:
    assert reason_of([{"n": "power", "u": "kW", "v": 1}]) == "bad_timestamp"  # t = 0: "now"
    assert reason_of([{"n": "power", "u": "kW", "bt": -60, "v": 1}]) == "bad_timestamp"
    assert reason_of(RFC_5_1_3) == "unknown_unit"  # volts and amperes
