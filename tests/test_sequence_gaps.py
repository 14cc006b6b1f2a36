"""Per-device gaps in the contract's optional sequence number, as the collectors and the twin
count them: a jump, a late message that fills its place, a repeat, a device that restarts."""

from __future__ import annotations

from parktwin.contract.reading import Reading
from parktwin.sequence import RESTART_BELOW, TRACKED_PER_DEVICE, SequenceGaps


def readings(device: str, *seqs: int | None) -> list[Reading]:
    start = 1_767_225_600_000
    return [Reading(device, start + i, {"power_kw": 1.0}, s) for i, s in enumerate(seqs)]


def test_consecutive_numbers_leave_no_gap_and_devices_are_apart() -> None:
    gaps = SequenceGaps()
    gaps.observe(readings("a", 7, 8, 9) + readings("b", 100, 101))
    assert (gaps.missing, gaps.gaps, gaps.missing_by_device()) == (0, 0, {})


def test_a_jump_is_one_gap_of_the_numbers_skipped_and_late_ones_fill_it() -> None:
    gaps = SequenceGaps()
    gaps.observe(readings("a", 1, 2, 6, 7))
    assert (gaps.missing, gaps.gaps, gaps.missing_by_device()) == (3, 1, {"a": 3})
    gaps.observe(readings("a", 4, 3))
    assert gaps.missing_by_device() == {"a": 1}
    assert gaps.devices["a"].late == 2
    gaps.observe(readings("a", 4, 7))  # seen already
    assert (gaps.missing, gaps.repeats) == (1, 2)


def test_a_number_far_below_the_highest_is_a_restart_and_keeps_what_was_missing() -> None:
    gaps = SequenceGaps()
    gaps.observe(readings("a", 5000, 5002, 1, 2))
    device = gaps.devices["a"]
    assert (device.restarts, device.missing, device.highest) == (1, 1, 2)
    gaps.observe(readings("a", 5000 - RESTART_BELOW))  # not a restart: far above 2
    assert device.gaps == 2


def test_a_huge_jump_is_counted_whole_and_remembered_only_in_part() -> None:
    gaps = SequenceGaps()
    gaps.observe(readings("a", 0, 1_000_001))
    device = gaps.devices["a"]
    assert device.missing == 1_000_000
    assert len(device.unfilled) == TRACKED_PER_DEVICE
    gaps.observe(readings("a", 1_000_000))  # the latest missing ones are remembered
    assert device.missing == 999_999


def test_readings_without_a_number_are_not_counted() -> None:
    gaps = SequenceGaps()
    gaps.observe(readings("a", None, None, 3, None, 4))
    assert (gaps.missing, gaps.repeats) == (0, 0)
