"""Many floats as text at once, each exactly as ``repr`` writes it (as line protocol needs).

``repr`` of a float is the shortest text that reads back as the same float; a tick's KPI points
hold some 30,000 of them at 10,000 devices, and one ``repr`` at a time was most of their cost.
orjson writes a NumPy array of floats in C with the same shortest digits; its text differs from
``repr``'s only in the exponent form (``1e-05`` against ``1e-5``, ``1e+16`` against ``1e16``),
which ``repr`` uses below 1e-4 and from 1e16 on. Inside that range (and for zero) the two texts
are the same, so a column whose values all lie there is written by orjson, and any other column
is left to ``repr`` by the caller.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import orjson

Floats = npt.NDArray[np.float64]

# repr writes a float in positional notation when 1e-4 <= |x| < 1e16 (CPython's float_repr_style
# "short": exponent notation below -4 or at 16 and above), and zero as 0.0 or -0.0.
SMALLEST_POSITIONAL = 1e-4
FIRST_EXPONENTIAL = 1e16


def reprs_by_column(values: Floats) -> list[list[str]] | None:
    """Each column of a 2-D array of finite floats as the ``repr`` texts of its values, or None
    when a value needs exponent notation (or is not finite): then the caller uses ``repr``."""
    if values.ndim != 2 or values.dtype != np.float64:
        return None
    size = np.abs(values)
    positional = ((size >= SMALLEST_POSITIONAL) & (size < FIRST_EXPONENTIAL)) | (size == 0.0)
    if not positional.all():  # NaN and infinities fail both tests
        return None
    rows, columns = values.shape
    if rows == 0 or columns == 0:
        return [[] for _ in range(columns)]
    text = orjson.dumps(np.ascontiguousarray(values.T), option=orjson.OPT_SERIALIZE_NUMPY)
    return [column.split(",") for column in text.decode()[2:-2].split("],[")]


def repr_rows(values: Floats) -> list[tuple[str, ...]] | None:
    """Each row of a 2-D array of floats as the ``repr`` texts of its values (see
    ``reprs_by_column``), or None when some value needs ``repr`` itself."""
    columns = reprs_by_column(values)
    if columns is None:
        return None
    if not columns:
        return [()] * values.shape[0]
    return list(zip(*columns, strict=True))
