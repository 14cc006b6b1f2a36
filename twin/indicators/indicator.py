"""One indicator against its threshold, and ratios of sums over months of reported inputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

Comparison = Literal["at_least", "at_most"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Indicator:
    """A figure, its threshold and whether it passes; ``missing`` when no input gave a value."""

    name: str
    unit: str
    value: float | None
    threshold: float | None
    comparison: Comparison
    basis: str
    missing_months: list[str] = field(default_factory=list)

    @property
    def missing(self) -> bool:
        return self.value is None

    @property
    def passes(self) -> bool | None:
        """None when the value or the threshold is unknown."""
        if self.value is None or self.threshold is None:
            return None
        if self.comparison == "at_least":
            return self.value >= self.threshold
        return self.value <= self.threshold

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "unit": self.unit,
            "value": self.value,
            "threshold": self.threshold,
            "comparison": self.comparison,
            "passes": self.passes,
            "missing": self.missing,
            "missing_months": list(self.missing_months),
            "basis": self.basis,
        }


def ratio_pct(numerator: float, denominator: float) -> float | None:
    """100 × numerator / denominator, or None when the denominator is zero."""
    return 100.0 * numerator / denominator if denominator > 0 else None


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when the denominator is zero."""
    return numerator / denominator if denominator > 0 else None


def monthly_ratio_pct(
    months: list[str],
    inputs: dict[str, T],
    numerator: Callable[[T], float | None],
    denominator: Callable[[T], float | None],
) -> tuple[float | None, list[str]]:
    """Ratio of the sums over the months that report both amounts, and the months that don't.

    Never an average of monthly rates: a month's weight is its amount.
    """
    top = bottom = 0.0
    missing: list[str] = []
    for month in months:
        item = inputs.get(month)
        num = numerator(item) if item is not None else None
        den = denominator(item) if item is not None else None
        if num is None or den is None:
            missing.append(month)
            continue
        top += num
        bottom += den
    return ratio_pct(top, bottom), missing


def field_ratio_pct(
    months: list[str], inputs: dict[str, T], numerator: str, denominator: str
) -> tuple[float | None, list[str]]:
    """``monthly_ratio_pct`` of two named fields of the monthly inputs."""
    return monthly_ratio_pct(
        months,
        inputs,
        lambda item: getattr(item, numerator),
        lambda item: getattr(item, denominator),
    )
