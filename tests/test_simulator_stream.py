"""The simulator's messages: valid payloads, SenML for some devices, each fault on demand."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime

import pytest
from helpers import every_kind_park

from parktwin.contract import topics
from parktwin.contract.payload import decode
from parktwin.contract.reading import PayloadError
from parktwin.sequence import SequenceGaps
from simulators.faults import FaultOptions, Message
from simulators.park import ParkSimulator
from simulators.stream import TelemetryStream, uses_senml

HOUR_MS = 3_600_000


def stream(
    seed: int = 1, faults: FaultOptions | None = None, senml: float = 0.0
) -> TelemetryStream:
    park = every_kind_park("streampark")
    start = round(datetime(2026, 4, 14, tzinfo=park.timezone).timestamp() * 1000)
    return TelemetryStream(ParkSimulator(park, seed, start), faults, senml)


def run(s: TelemetryStream, hours: float = 6) -> list[Message]:
    until = s.simulator.now_ms + round(hours * HOUR_MS)
    return [*s.advance(until), *s.flush()]


def device_of(message: Message) -> str:
    parsed = topics.parse_telemetry(message.topic)
    assert parsed is not None and parsed.park_id == "streampark"
    return parsed.device_id


ALL_FAULTS = FaultOptions(
    dropout=0.05, stuck=0.01, spike=0.02, spike_out_of_range=0.02, duplicate=0.03,
    out_of_order=0.03, malformed=0.03,
)  # fmt: skip


def test_same_seed_gives_the_same_messages_even_with_faults_and_senml() -> None:
    first = [(m.topic, m.payload) for m in run(stream(5, ALL_FAULTS, 0.4))]
    again = [(m.topic, m.payload) for m in run(stream(5, ALL_FAULTS, 0.4))]
    other = [(m.topic, m.payload) for m in run(stream(6, ALL_FAULTS, 0.4))]
    assert first == again
    assert first != other


def test_every_clean_payload_decodes_to_its_reading_json_or_senml() -> None:
    s = stream(senml=0.5)
    devices = [d.id for d in s.simulator.park.devices]
    senml_devices = {d for d in devices if uses_senml(1, d, 0.5)}
    assert 0 < len(senml_devices) < len(devices)
    for message in run(s):
        device = device_of(message)
        assert message.payload.startswith(b"[") == (device in senml_devices)
        (reading,) = decode(device, message.payload)
        assert reading.ts_ms == message.ts_ms
        assert message.ledger


def test_senml_carries_the_same_values_as_json() -> None:
    plain = run(stream(senml=0.0), hours=1)
    senml = run(stream(senml=1.0), hours=1)
    assert len(plain) == len(senml)
    for a, b in zip(plain, senml, strict=True):
        (ra,) = decode(device_of(a), a.payload)
        (rb,) = decode(device_of(b), b.payload)
        assert ra.ts_ms == rb.ts_ms and ra.values.keys() == rb.values.keys()
        for name, value in ra.values.items():
            assert rb.values[name] == pytest.approx(value, rel=1e-9, abs=1e-9)


def decodes(message: Message) -> bool:
    try:
        decode(device_of(message), message.payload)
    except PayloadError:
        return False
    return True


def test_dropouts_leave_readings_out() -> None:
    clean = run(stream())
    s = stream(faults=FaultOptions(dropout=0.1))
    dropped = run(s)
    assert s.fault_counts.dropped > 0
    assert len(dropped) == len(clean) - s.fault_counts.dropped
    assert {(m.device_id, m.ts_ms) for m in dropped} < {(m.device_id, m.ts_ms) for m in clean}


def test_duplicates_repeat_a_payload_once_in_the_ledger() -> None:
    s = stream(faults=FaultOptions(duplicate=0.05))
    messages = run(s)
    payloads = Counter(m.payload for m in messages)
    assert s.fault_counts.duplicated > 0
    assert sum(1 for n in payloads.values() if n == 2) == s.fault_counts.duplicated
    ledger = [(m.device_id, m.ts_ms) for m in messages if m.ledger]
    assert len(ledger) == len(set(ledger)) == len(payloads)


def test_malformed_payloads_fail_to_decode_and_stay_out_of_the_ledger() -> None:
    s = stream(faults=FaultOptions(malformed=0.05))
    messages = run(s)
    broken = [m for m in messages if not decodes(m)]
    assert len(broken) == s.fault_counts.malformed > 0
    assert not any(m.ledger for m in broken)
    reasons = set()
    for m in broken:
        with pytest.raises(PayloadError) as error:
            decode(device_of(m), m.payload)
        reasons.add(error.value.reason)
    assert reasons == {"malformed_json", "bad_value"}


def test_out_of_order_messages_arrive_after_later_ones() -> None:
    s = stream(faults=FaultOptions(out_of_order=0.05, out_of_order_hold=4))
    messages = run(s)
    assert s.fault_counts.out_of_order > 0
    late = sum(1 for a, b in itertools.pairwise(messages) if b.ts_ms < a.ts_ms)
    assert late > 0
    assert len(messages) == len(run(stream()))


def test_in_range_spikes_decode_and_out_of_range_spikes_are_rejected() -> None:
    s = stream(faults=FaultOptions(spike=0.05))
    messages = run(s)
    assert s.fault_counts.spikes > 0 and all(decodes(m) for m in messages)
    clean = {(m.device_id, m.ts_ms): m.payload for m in run(stream())}
    changed = [m for m in messages if clean[(m.device_id, m.ts_ms)] != m.payload]
    assert len(changed) >= s.fault_counts.spikes * 0.9  # a few jumps land on the same value

    s = stream(faults=FaultOptions(spike_out_of_range=0.05))
    messages = run(s)
    rejected = [m for m in messages if not decodes(m)]
    assert len(rejected) == s.fault_counts.spikes_out_of_range > 0
    assert not any(m.ledger for m in rejected)
    for m in rejected:
        with pytest.raises(PayloadError, match="out_of_range"):
            decode(device_of(m), m.payload)


def test_a_stuck_sensor_repeats_its_last_values() -> None:
    s = stream(faults=FaultOptions(stuck=0.02, stuck_readings=6))
    messages = run(s)
    assert s.fault_counts.stuck > 0
    clean = {(m.device_id, m.ts_ms): decode(device_of(m), m.payload)[0] for m in run(stream())}
    last: dict[str, dict[str, float]] = {}
    frozen = 0
    for m in messages:
        (reading,) = decode(device_of(m), m.payload)
        if reading.values != clean[(m.device_id, m.ts_ms)].values:
            assert reading.values == last[m.device_id]  # the only change: a repeat
            frozen += 1
        last[m.device_id] = reading.values
    assert 0 < frozen <= s.fault_counts.stuck


def test_each_device_numbers_its_messages_so_that_dropped_ones_show_as_gaps() -> None:

    s = stream(faults=FaultOptions(dropout=0.05, duplicate=0.03))
    gaps = SequenceGaps()
    for message in run(s):
        gaps.observe(decode(device_of(message), message.payload))
    dropped, duplicated = s.fault_counts.dropped, s.fault_counts.duplicated
    assert dropped > 0 and duplicated > 0
    # Each device's first reading sets its start; a dropout there is no gap but a later start.
    assert gaps.missing <= dropped
    assert gaps.missing >= dropped - len(s.simulator.park.devices)
    assert gaps.repeats == duplicated
