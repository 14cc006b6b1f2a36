"""Every preset turns recorded real messages into exactly the readings written by hand, and
refuses what the message does not say. (No broker here: see test_mapping_collector.py.)"""

from __future__ import annotations

import pytest
from helpers import DEVICES_DATA, DeviceCase, device_cases, devices_park

from collectors.mapping.presets import preset_names
from collectors.routing import MessageRouter
from parktwin.contract.reading import PayloadError
from parktwin.validation import Limits

ARRIVAL_MS = 1_767_225_600_123
LIMITS = Limits(65536, 946_684_800_000, 10**13)
CASES = device_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.sample for c in CASES])
def test_a_recorded_message_gives_the_hand_written_readings(case: DeviceCase) -> None:
    router = MessageRouter(devices_park(), LIMITS)
    refused: list[PayloadError] = []
    try:
        readings = router.readings(case.topic, case.payload, ARRIVAL_MS, refused)
    except PayloadError as exc:
        readings, refused = [], [exc]
    got = {(r.device_id, r.ts_ms, r.ts_from_arrival): r.values for r in readings}
    want = {
        (e.device, ARRIVAL_MS if e.ts_ms is None else e.ts_ms, e.ts_ms is None): e.values
        for e in case.readings
    }
    assert got.keys() == want.keys()
    for key, values in want.items():
        assert got[key] == pytest.approx(values, rel=1e-12)
    assert sorted(e.reason for e in refused) == sorted(case.refused)


def test_every_preset_has_recorded_samples_with_their_source() -> None:
    covered = {c.preset for c in CASES}
    assert covered == set(preset_names())
    for case in CASES:
        assert case.source.startswith("https://")
        assert (DEVICES_DATA / case.sample).is_file()
