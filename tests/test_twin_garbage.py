"""The twin service's garbage collection setting: what it changes while the service runs, and
that it gives the process back as it found it."""

from __future__ import annotations

import gc

import pytest

from twin.service.garbage import YOUNG_GENERATION_OBJECTS, service_collection


class Node:
    """Half of a reference cycle: garbage only the collector can free."""

    def __init__(self) -> None:
        self.other: Node | None = None


def test_while_the_service_runs_what_existed_is_frozen_and_young_collections_are_rarer() -> None:
    before = gc.get_threshold()
    kept = [Node() for _ in range(10)]
    with service_collection():
        assert gc.get_freeze_count() >= len(kept)
        assert gc.get_threshold() == (YOUNG_GENERATION_OBJECTS, *before[1:])
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_the_process_gets_its_setting_back_when_the_service_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), service_collection():
        raise RuntimeError("the service stopped on an error")
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_cyclic_garbage_made_while_the_service_runs_is_still_collected() -> None:
    collected: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            collected.append(info["collected"])

    with service_collection():
        gc.callbacks.append(count)
        try:
            for _ in range(YOUNG_GENERATION_OBJECTS):  # two objects each: a run must come
                a, b = Node(), Node()
                a.other, b.other = b, a
            del a, b
        finally:
            gc.callbacks.remove(count)
    assert sum(collected) > 0
