"""The ``counters:`` section of a park file: what a decrease of a cumulative reading means.

Real meters jitter, drop to zero for a reading, roll over at their register's maximum and get
replaced; ``docs/twin.md`` says how the twin counts each case. The tolerances are per device
kind, with per-device entries for what only one meter has (its register size).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from parktwin.contract.quantities import DeviceKind

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


class Section(BaseModel):
    """Unknown keys are errors, as in the rest of the park file."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class CounterTolerance(Section):
    """How one kind of meter (or one meter) is read. A field left out takes the value of the
    level above: device, then kind, then ``defaults``, then the defaults written here."""

    # A decrease of at most this share of the counter is noise: nothing is counted and the
    # high-water mark stays. 10 % is Home Assistant's rule for ``total_increasing`` sensors
    # (a drop below 90 % of the previous value is a reset; homeassistant/components/sensor/
    # recorder.py, ``reset_detected``).
    jitter_pct: float = Field(default=10.0, ge=0, lt=100)
    # ...or of at most this much, in the counter's own unit (for meters that round when they
    # restart, e.g. a Shelly Pro 1PM's 544.587493 -> 544.587 kWh). Assumed: 0.
    jitter_abs: float = Field(default=0.0, ge=0)
    # The largest value the meter's register shows before it starts again at zero, in the
    # counter's unit (e.g. 99999.99 kWh); None: the meter does not roll over.
    register_max: float | None = Field(default=None, gt=0)
    # The register's resolution; None: the last decimal of ``register_max`` (0.01 for 99999.99).
    register_step: float | None = Field(default=None, gt=0)
    # A drop is a rollover only when the old value was within this share of the register's top
    # and the new one within this share of zero (assumed: 10 %).
    rollover_window_pct: float = Field(default=10.0, gt=0, le=50)

    def modulus(self) -> float | None:
        """What the register counts before it shows zero again (``register_max`` + one step)."""
        if self.register_max is None:
            return None
        step = self.register_step
        if step is None:
            exponent = Decimal(str(self.register_max)).normalize().as_tuple().exponent
            step = float(Decimal(1).scaleb(min(int(exponent), 0)))
        return self.register_max + step


class CounterSettings(Section):
    """The ``counters:`` section: defaults, per device kind, per device."""

    defaults: CounterTolerance = Field(default_factory=CounterTolerance)
    kinds: dict[DeviceKind, CounterTolerance] = Field(default_factory=dict)
    devices: dict[Id, CounterTolerance] = Field(default_factory=dict)

    def for_device(self, device_id: str, kind: DeviceKind) -> CounterTolerance:
        """The tolerance of one meter: its own fields over its kind's over the defaults."""
        merged = self.defaults.model_dump(exclude_unset=True)
        for level in (self.kinds.get(kind), self.devices.get(device_id)):
            if level is not None:
                merged.update(level.model_dump(exclude_unset=True))
        return CounterTolerance(**merged)
