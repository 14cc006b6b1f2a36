"""A quantity's value, checked against the quantity's definition (both payload formats use it)."""

from __future__ import annotations

import math

from parktwin.contract.quantities import QUANTITIES
from parktwin.contract.reading import PayloadError


def check_value(name: str, value: object) -> float:
    """A quantity's value as a float, or PayloadError naming the quantity and what is wrong."""
    quantity = QUANTITIES.get(name)
    if quantity is None:
        raise PayloadError("unknown_quantity", f"values.{name[:60]!r} is not a known quantity")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(
            "bad_value", f"values.{name} must be a number, got {type(value).__name__}"
        )
    number = float(value)
    if not math.isfinite(number):
        raise PayloadError("bad_value", f"values.{name} is not finite")
    if not quantity.min_value <= number <= quantity.max_value:
        raise PayloadError(
            "out_of_range",
            f"values.{name}={number:g} {quantity.unit} outside "
            f"[{quantity.min_value:g}, {quantity.max_value:g}]",
        )
    return number
