"""How the twin service's process collects garbage while the service runs.

Two settings, both process-wide, both undone when the service stops:

- **What lives as long as the service is frozen** (``gc.freeze``) once it has its starting state
  (checkpoint or rebuilt history): the park, its topology, the twin's ledgers, which every full
  collection would otherwise walk.
- **The youngest generation is collected after 50,000 net new objects, not 700.** Readings
  (one tracked ``Reading`` a device, and the intake's messages) are all alive until they are
  ingested: at the default threshold each survivor was walked again by the young, middle and
  full collections the growing heap set off. At 50,000 most readings are freed by reference
  counting before a collection sees them. Cyclic garbage still goes at the next collection, so
  memory stays bounded: at most 50,000 more objects wait for it. Figures:
  docs/performance.md, *Twin service tick*, ``bench/twin_tick.py --gc``.

Each service restores the thresholds it found at its start. Two services in one process
(tests) that start and stop out of order may leave the 50,000 threshold set after both have
stopped: collections stay rarer, nothing is lost.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Net new tracked objects between two collections of the youngest generation (CPython's
# default is 700; 3.13 raised it to 2,000). Measured: 10,000 already removes the full
# collections at 100,000 devices; 50,000 also removes most young ones at 10,000 devices.
YOUNG_GENERATION_OBJECTS = 50_000


@contextmanager
def service_collection() -> Iterator[None]:
    """Freeze what exists now and collect the young generation less often, until exit."""
    previous = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_OBJECTS, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
