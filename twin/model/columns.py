"""The snapshot's per-device, per-channel and per-flow columns: arrays, made into lists on demand.

A snapshot at 10,000 devices holds about 100,000 such figures. Turning them all into Python
lists cost more than every KPI of the snapshot, and most readers of a snapshot (the alert
engine, a test looking up one meter) need none or a few of them. So a table keeps how to make
each column (from arrays the live state no longer changes); a column read as an attribute is
made once, and ``plain`` makes fresh lists of every column for the JSON form. The JSON form is
the same as when the columns were lists.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from enum import IntEnum
from itertools import starmap
from typing import Any, Generic, TypeVar, overload

import numpy as np
import numpy.typing as npt

from twin.model.counters import NEVER

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

R = TypeVar("R")
T = TypeVar("T")


class DeviceStatus(IntEnum):
    """A device's status at the watermark; the numbers are the codes the twin computes with."""

    ONLINE = 0
    STALE = 1
    OFFLINE = 2
    NEVER_SEEN = 3


# A code's name, by code: "online", "stale", "offline", "never_seen".
STATUS_NAMES = np.array([status.name.lower() for status in DeviceStatus], dtype=np.object_)
STATUS_NAMES.setflags(write=False)  # a constant


def floats_or_none(values: Floats) -> list[float | None]:
    """The values as Python floats, None where not finite (the JSON form of a float)."""
    numbers: list[float | None] = values.tolist()
    if np.isfinite(values).all():
        return numbers
    return [v if v is not None and math.isfinite(v) else None for v in numbers]


def floats_where(values: Floats, ok: Bools) -> list[float | None]:
    """The values as Python floats where ``ok``, None elsewhere."""
    if not ok.any():
        return [None] * len(ok)
    numbers: list[float | None] = values.tolist()
    for i in np.flatnonzero(~ok).tolist():
        numbers[i] = None
    return numbers


def ints_or_none(values: Ints, missing: Bools) -> list[int | None]:
    """The values as Python ints, None where ``missing``."""
    numbers: list[int | None] = values.tolist()
    for i in np.flatnonzero(missing).tolist():
        numbers[i] = None
    return numbers


def scalar_column(values: list[Any] | tuple[Any, ...]) -> list[Any] | None:
    """A copy of a non-empty column of scalars when none needs converting, else None.

    Each test runs in C over the whole column: ``join`` takes only strings, and the sum of
    numbers is finite only when every one of them is (a NaN or an infinity stays in the sum).
    """
    try:
        if type(values[0]) is str:
            "".join(values)
            return list(values)
        return list(values) if math.isfinite(sum(values)) else None
    except (TypeError, OverflowError):
        return None


def plain_scalars(values: list[Any] | tuple[Any, ...]) -> list[Any]:
    """A column of scalars as JSON-ready data: a copy, with non-finite floats as None."""
    column = scalar_column(values) if values else []
    if column is not None:
        return column
    isfinite = math.isfinite
    return [None if type(v) is float and not isfinite(v) else v for v in values]


class RowTable(Sequence[R]):
    """Rows of a dataclass, kept as one list per field.

    Iterating or indexing gives the rows; ``rows`` gives their JSON form straight from the
    columns, the same dicts ``plain`` makes of the rows, without making them (a column of
    scalars that need no converting is copied whole, any other value goes through ``plain``).
    """

    __slots__ = ("columns", "row_type")

    def __init__(self, row_type: type[R], columns: list[list[Any]]) -> None:
        self.row_type = row_type
        self.columns = columns  # in field order, of equal length

    def __len__(self) -> int:
        return len(self.columns[0])

    @overload
    def __getitem__(self, i: int) -> R: ...

    @overload
    def __getitem__(self, i: slice) -> list[R]: ...

    def __getitem__(self, i: int | slice) -> R | list[R]:
        if isinstance(i, slice):
            return list(starmap(self.row_type, zip(*(c[i] for c in self.columns), strict=True)))
        return self.row_type(*(column[i] for column in self.columns))

    def __iter__(self) -> Iterator[R]:
        return starmap(self.row_type, zip(*self.columns, strict=True))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RowTable):
            return NotImplemented
        return self.row_type is other.row_type and self.columns == other.columns

    __hash__ = None  # type: ignore[assignment]  # mutable, like the lists it stands for

    def rows(self, plain: Callable[[Any], Any]) -> list[dict[str, Any]]:
        """Each row's fields as ``plain`` makes them (the JSON form), without making the rows."""
        names = [f.name for f in fields(self.row_type)]  # type: ignore[arg-type]
        columns = [self.plain_column(column, plain) for column in self.columns]
        return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]

    @staticmethod
    def plain_column(column: list[Any], plain: Callable[[Any], Any]) -> list[Any]:
        """One column's values as ``plain`` makes them."""
        copied = scalar_column(column) if column else []
        return copied if copied is not None else [plain(value) for value in column]


class Columns:
    """Named columns, each made by a function when first read; ``plain`` makes them all anew."""

    __slots__ = ("_made", "_makers")

    def __init__(self, makers: dict[str, Callable[[], list[Any]]]) -> None:
        self._makers = makers
        self._made: dict[str, list[Any]] = {}

    def column(self, name: str) -> list[Any]:
        """One column as a list (made once, then shared by every reader: do not change it)."""
        made = self._made.get(name)
        if made is None:
            made = self._made[name] = self._makers[name]()
        return made

    def plain(self) -> dict[str, list[Any]]:
        """Every column as a new list, by name: the JSON form."""
        return {name: make() for name, make in self._makers.items()}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Columns):
            return NotImplemented
        return type(self) is type(other) and self.plain() == other.plain()

    __hash__ = None  # type: ignore[assignment]  # mutable, like the lists it stands for


class Column(Generic[T]):
    """A table attribute that reads the column of its own name (made once, then shared)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, table: None, owner: type) -> Column[T]: ...

    @overload
    def __get__(self, table: Columns, owner: type) -> list[T]: ...

    def __get__(self, table: Columns | None, owner: type) -> Column[T] | list[T]:
        return self if table is None else table.column(self.name)


class DeviceTable(Columns):
    """Per device, aligned with ``ids``: status is online, stale, offline or never_seen."""

    __slots__ = ("ids", "status_codes")

    def __init__(
        self, ids: list[str], kinds: list[str], status: Ints, last_seen_ms: Ints, resets: Ints
    ) -> None:
        """``status`` are ``DeviceStatus`` codes; ``last_seen_ms`` is NEVER for a device never
        read. The arrays must not change afterwards."""
        super().__init__(
            {
                "ids": lambda: list(ids),
                "kinds": lambda: list(kinds),
                # An object array: picking its Python strings beats converting a string array.
                "status": lambda: STATUS_NAMES[status].tolist(),
                "last_seen_ms": lambda: ints_or_none(last_seen_ms, last_seen_ms == NEVER),
                "counter_resets": lambda: resets.tolist(),
            }
        )
        self.ids = ids
        self.status_codes = status  # DeviceStatus codes, as an array

    kinds = Column[str]()
    status = Column[str]()
    last_seen_ms = Column[int | None]()
    counter_resets = Column[int]()

    def row(self, device_id: str) -> dict[str, Any]:
        """One device's fields."""
        i = self.ids.index(device_id)
        return {
            "id": device_id,
            "kind": self.kinds[i],
            "status": self.status[i],
            "last_seen_ms": self.last_seen_ms[i],
            "counter_resets": self.counter_resets[i],
        }


class ChannelTable(Columns):
    """The latest value of every (device, quantity) read so far; keys are ``device|quantity``."""

    __slots__ = ("all_keys", "all_values", "seen")

    def __init__(
        self,
        all_keys: list[str],
        key_array: npt.NDArray[np.object_],
        all_values: Floats,
        all_ts_ms: Ints,
        seen: Bools,
    ) -> None:
        """Every channel of the park (``all_*``, aligned; ``key_array`` holds the same keys) and
        which were read: the table holds those. The arrays must not change afterwards."""
        self.all_keys, self.all_values, self.seen = all_keys, all_values, seen
        if seen.all():
            keys: Callable[[], list[str]] = lambda: list(all_keys)  # noqa: E731
            value, ts_ms = all_values, all_ts_ms
        else:
            keys = lambda: key_array[seen].tolist()  # noqa: E731
            value, ts_ms = all_values[seen], all_ts_ms[seen]
        super().__init__(
            {"keys": keys, "value": lambda: floats_or_none(value), "ts_ms": lambda: ts_ms.tolist()}
        )

    keys = Column[str]()
    value = Column[float]()
    ts_ms = Column[int]()

    def get(self, device_id: str, quantity: str) -> float | None:
        """The latest value of one quantity of one device."""
        key = f"{device_id}|{quantity}"
        return self.value[self.keys.index(key)] if key in self.keys else None


class FlowTable(Columns):
    """Each meter's consumption in the current hour, day, month and year (keys as channels)."""

    __slots__ = ("keys",)

    def __init__(
        self, keys: list[str], hour: Floats, day: Floats, month: Floats, year: Floats
    ) -> None:
        super().__init__(
            {
                "keys": lambda: list(keys),
                "hour": lambda: floats_or_none(hour),
                "day": lambda: floats_or_none(day),
                "month": lambda: floats_or_none(month),
                "year": lambda: floats_or_none(year),
            }
        )
        self.keys = keys

    hour = Column[float]()
    day = Column[float]()
    month = Column[float]()
    year = Column[float]()

    def get(self, device_id: str, quantity: str, period: str) -> float:
        """One meter's consumption in one current period."""
        values: list[float] = self.column(period)
        return values[self.keys.index(f"{device_id}|{quantity}")]
