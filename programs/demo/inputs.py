"""Example monthly inputs for a fresh demo: the figures no sensor measures (waste, waste heat,
water reuse, product energy), so that the twin's zero-carbon indicators and their dashboard
panels have something to show from the first minute.

The figures are examples (assumed, of a plausible size for the demo park), the same each month;
a real park publishes its own with ``parktwin inputs``. The demo publishes them only into its
own embedded broker on a fresh state folder, so it never overwrites anyone's real figures.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson

from parktwin.contract import topics
from parktwin.park.model import Park

# Example figures, assumed (see the module docstring).
EXAMPLE_MONTH: dict[str, Any] = {
    "solid_waste_generated_t": 500,
    "solid_waste_utilised_t": 430,
    "waste_heat_available_gj": 900,
    "waste_heat_recovered_gj": 520,
    "industrial_water_use_m3": 40000,
    "industrial_water_reused_m3": 33000,
}
# Example product figures, assumed; kept for the enterprises the park has.
EXAMPLE_PRODUCTS: list[dict[str, Any]] = [
    {
        "enterprise": "jinlun",
        "product": "castings",
        "output_units": 1000,
        "energy_tce": 300,
        "quota_kgce_per_unit": 350,
    }
]


def months_between(first: date, last: date) -> list[str]:
    """``YYYY-MM`` of every month from ``first``'s to ``last``'s, both included."""
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def example_inputs(park: Park, months: list[str]) -> list[tuple[str, bytes]]:
    """(topic, document) of the example inputs of each month, for ``parktwin inputs``' topics."""
    enterprises = {e.id for e in park.enterprises}
    products = [p for p in EXAMPLE_PRODUCTS if p["enterprise"] in enterprises]
    body = {**EXAMPLE_MONTH, **({"products": products} if products else {})}
    return [
        (topics.monthly_inputs(park.park.id, month), orjson.dumps({"month": month, **body}))
        for month in months
    ]
