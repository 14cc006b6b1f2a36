"""The twin's KPIs as InfluxDB points, one measurement per kind of figure, with topology tags.

Every point is stamped with the twin's event-time watermark, so a replay writes the same points
at the same times, and a tick without new readings overwrites the same points. Numbers become
float fields and pass/fail flags boolean fields; a missing figure is left out, never written
as zero. Field names are the snapshot's, joined with ``_`` (``carbon_per_energy_value``).

| measurement | tags | one point per |
|---|---|---|
| twin_balance | park, period; hour_of_day (local) on hour points | each period (running totals) |
| twin_place | park, period, level, zone, building, enterprise | place and period |
| twin_carbon | park, period | month, year |
| twin_zero_carbon, twin_progress, twin_green_park, twin_jobs_housing, twin_devices | park | tick |
| twin_occupancy | park, zone, building, use | building |
| twin_enterprise | park, enterprise | enterprise (with ``grade`` as a string field) |
| twin_cost | park, period | period: each charge, and ``<band>_kwh``, ``<band>_yuan`` |
| twin_cost_place | park, period, level, zone, building, enterprise | place and period |
| twin_cost_demand | park | tick: the month's maximum 15-minute demand, the window now running |
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from math import isfinite
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from parktwin.influx.lineprotocol import escape_field_key, format_fields, series_key
from parktwin.park.model import Park
from twin.model.columns import RowTable
from twin.service.float_texts import Floats, formatted_rows
from twin.state.cost_report import CostReport, CostTable
from twin.state.snapshot import PLACE_FIELDS, PlaceTable, TwinSnapshot, plain
from twin.state.summary import status_counts

Fields = dict[str, float | bool | str]
Ints = npt.NDArray[np.int64]
Tags = dict[str, str]
SKIPPED = frozenset({str, list, type(None)})
NUMBERS = frozenset({int, float, type(None)})  # None: a number missing
MISSING: Any = object()


def numeric_fields(data: Mapping[str, Any], prefix: str = "") -> Fields:
    """Numbers and flags of a nested mapping, flattened; lists, text and None are left out."""
    out: Fields = {}
    for key, value in data.items():
        kind = type(value)
        if kind in SKIPPED:  # the usual non-numbers, passed over without the checks below
            continue
        name = f"{prefix}{key}"
        # A float as it is (float() would give the same object back), a flag as it is.
        if kind is float or isinstance(value, bool):
            out[name] = value
        elif isinstance(value, int | float):
            out[name] = float(value)
        elif isinstance(value, Mapping):
            out.update(numeric_fields(value, f"{name}_"))
    return out


def _place_tags(park: Park, level: str, place_id: str) -> dict[str, str]:
    if level == "buildings":
        building = park.buildings_by_id.get(place_id)
        zone = building.zone if building else ""
        return {"level": "building", "building": place_id, "zone": zone}
    if level == "zones":
        return {"level": "zone", "zone": place_id}
    return {"level": "enterprise", "enterprise": place_id}


@dataclass(frozen=True, slots=True)
class RowPlan:
    """How to write the fields of a flat row whose values are numbers or skipped types.

    ``numeric_fields`` of such a row keeps its numbers in order under their own names, as
    floats, so the field set is a template of the escaped names filled with the floats'
    ``repr`` (``%r``): the same text ``format_fields`` makes, without a call per value.
    """

    take: Callable[[Sequence[Any]], tuple[float, ...]]  # the row's numbers as floats
    template: str
    # The same template for the numbers' repr texts (``%s``), filled by ``formatted_rows``.
    text_template: str


def field_template(names: Sequence[str], conversion: str) -> str:
    """A %-template of a field set: each escaped name, ``=`` and the conversion (``%r``)."""
    # Percent signs doubled: the names are literal text of a %-template.
    escaped = (escape_field_key(f"{name}").replace("%", "%%") for name in names)
    return ",".join(f"{name}={conversion}" for name in escaped)


def table_fields(plan: RowPlan, values: Floats) -> Iterator[str]:
    """The field set of each row of an array of finite floats (one row's numbers a row)."""
    made = formatted_rows(values, plan.text_template)
    if made is not None:  # every number's repr written at once
        return iter(made)
    return map(plan.template.__mod__, map(tuple, values.tolist()))


def row_plan(names: tuple[str, ...], kinds: tuple[type, ...]) -> RowPlan | None:
    """The plan of rows with these keys and value types; None when some value is neither a
    float, an int nor a skipped type (a flag, a nested mapping...: the general path)."""
    taken = []
    for i, kind in enumerate(kinds):
        if kind is float or kind is int:
            taken.append(i)
        elif kind not in SKIPPED:
            return None
    if not taken:
        return None
    template = field_template([names[i] for i in taken], "%r")
    text_template = field_template([names[i] for i in taken], "%s")
    pick = itemgetter(*taken)
    if int in kinds:  # float() as numeric_fields does (a float stays the same object)
        if len(taken) == 1:
            return RowPlan(lambda values: (float(pick(values)),), template, text_template)
        return RowPlan(lambda values: tuple(map(float, pick(values))), template, text_template)
    if len(taken) == 1:
        return RowPlan(lambda values: (pick(values),), template, text_template)
    return RowPlan(pick, template, text_template)


class KpiLines:
    """The line-protocol points of successive snapshots of one park.

    What does not change from tick to tick is made once and kept: every series key (by
    measurement and place) and, per kind of row (its keys and value types), the field-set
    template. The points are the same as ``kpi_lines`` makes.

    Without the snapshot's JSON form, it reads the snapshot's ``outputs_dict`` and its tables
    and columns as arrays; ``bodies`` are the points without their timestamp (what
    ``ChangedPoints`` compares from tick to tick).
    """

    def __init__(self, park: Park) -> None:
        self.park = park
        self._series: dict[tuple[str, ...], str] = {}
        self._plans: dict[tuple[tuple[str, ...], tuple[type, ...]], RowPlan | None] = {}
        # Per period and level: the place ids and each place's series key and a space (the
        # place points), or its series key (the place cost points, keyed with their measurement).
        self._table_keys: dict[tuple[str, ...], tuple[Any, ...]] = {}
        # Per table (as _table_keys): its keys, its values' bits and its bodies at the last tick.
        self._last_tables: dict[tuple[str, ...], tuple[list[str], Ints, list[str]]] = {}
        # The field set of a place row whose numbers are all floats.
        self._place_plan = row_plan(PLACE_FIELDS, (str,) + (float,) * (len(PLACE_FIELDS) - 1))

    def __call__(self, snapshot: TwinSnapshot, state: dict[str, Any] | None = None) -> list[str]:
        """Line-protocol points of a snapshot (``state`` is its ``to_dict()`` or its
        ``outputs_dict()``, when made)."""
        if snapshot.watermark_ms is None:
            return []
        suffix = f" {snapshot.watermark_ms}"
        return [body + suffix for body in self.bodies(snapshot, state)]

    def bodies(self, snapshot: TwinSnapshot, state: dict[str, Any] | None = None) -> list[str]:
        """The points of a snapshot without their timestamp (series key and field set)."""
        if snapshot.watermark_ms is None:
            return []
        data = state if state is not None else snapshot.outputs_dict()
        return [p for p in self._lines(snapshot, data) if p is not None]

    def _key(self, cache_key: tuple[str, ...], measurement: str, tags: Callable[[], Tags]) -> str:
        found = self._series.get(cache_key)
        if found is None:
            found = self._series[cache_key] = series_key(measurement, tags())
        return found

    def _row_fields(self, row: dict[str, Any]) -> str | None:
        """The field set of ``numeric_fields(row)``, or None when it has no fields."""
        values = list(row.values())
        plan_key = (tuple(row), tuple(map(type, values)))
        plan = self._plans.get(plan_key, MISSING)
        if plan is MISSING:
            plan = self._plans[plan_key] = row_plan(*plan_key)
        if plan is not None:
            floats = plan.take(values)
            if isfinite(sum(floats)):  # no NaN or infinity among them (else: the error below)
                return plan.template % floats
        fields = numeric_fields(row)
        return format_fields(fields) if fields else None

    def _table_lines(self, period: str, level: str, table: PlaceTable, tags: Tags) -> list[str]:
        """The points of one level's places of a period, made from the snapshot's columns of
        finite floats: what ``_row_fields`` makes of each row of ``table.rows()``."""
        cached = self._table_keys.get((period, level))
        if cached is None or not (cached[0] is table.ids or cached[0] == table.ids):
            keys = [
                self._key(
                    ("twin_place", period, level, place),
                    "twin_place",
                    lambda: tags | _place_tags(self.park, level, place),  # noqa: B023
                )
                + " "
                for place in table.ids
            ]
            cached = self._table_keys[(period, level)] = (table.ids, keys)
        if self._place_plan is None:
            return []  # no fields: no points
        return self._table_bodies((period, level), cached[1], self._place_plan, table.values)

    def _table_bodies(
        self, cache_key: tuple[str, ...], keys: list[str], plan: RowPlan, values: Floats
    ) -> list[str]:
        """Each row's point body, its key (with a space) and field set; a row whose values are
        those of the last tick, bit for bit, keeps its body of then (the same text)."""
        bits = np.ascontiguousarray(values).view(np.int64)  # -0.0 and 0.0 differ, as in text
        last = self._last_tables.get(cache_key)
        changed: list[int] | None = None  # None: every row
        if last is not None and last[0] is keys and last[1].shape == bits.shape:
            changed = np.flatnonzero((bits != last[1]).any(axis=1)).tolist()
            if len(changed) == len(keys):
                changed = None
        if changed is None:
            bodies = list(map(str.__add__, keys, table_fields(plan, values)))
        elif not changed:
            bodies = last[2] if last is not None else []
        else:  # a few rows changed: those made anew, in place in a copy
            bodies = list(last[2]) if last is not None else []
            made = table_fields(plan, values[changed])
            for i, fields in zip(changed, made, strict=True):
                bodies[i] = keys[i] + fields
        self._last_tables[cache_key] = (keys, bits.copy(), bodies)
        return bodies

    def _lines(self, snapshot: TwinSnapshot, state: dict[str, Any]) -> Iterator[str | None]:
        park, series = self.park, self._series
        base = {"park": park.park.id}
        for period, report in (state.get("periods") or {}).items():
            tags = base | {"period": period}
            hour = report["label"][-2:] if period == "hour" else ""
            # The local hour ("2026-03-02T14" -> "14"): a heatmap of hour by day groups on it.
            key = self._key(
                ("twin_balance", period, hour),
                "twin_balance",
                lambda: tags | {"hour_of_day": hour} if hour else tags,  # noqa: B023
            )
            yield _point_text(key, numeric_fields(report["balance"]))
            tables = snapshot.periods.get(period)
            for level in ("buildings", "zones", "enterprises"):
                table = getattr(tables, level, None)
                if isinstance(table, PlaceTable) and np.isfinite(table.values).all():
                    # Every field a finite float: the rows' fields straight from the columns.
                    yield from self._table_lines(period, level, table, tags)
                    continue
                for place in _rows(report[level]):
                    place_key: tuple[str, ...] = ("twin_place", period, level, place["id"])
                    key = series.get(place_key) or self._key(
                        place_key,
                        "twin_place",
                        lambda: tags | _place_tags(park, level, place["id"]),  # noqa: B023
                    )
                    fields_text = self._row_fields(place)
                    yield f"{key} {fields_text}" if fields_text else None
        for period in ("month", "year"):
            account = state.get(f"carbon_{period}")
            if account:
                key = self._key(
                    ("twin_carbon", period),
                    "twin_carbon",
                    lambda: base | {"period": period},  # noqa: B023
                )
                yield _point_text(key, numeric_fields(account))
        for name in ("zero_carbon", "progress"):
            if state.get(name):
                key = self._key((name,), f"twin_{name}", lambda: base)
                yield _point_text(key, numeric_fields(state[name]))
        green = state.get("green_park")
        if green:
            fields = numeric_fields({k: v for k, v in green.items() if k != "categories"})
            for category in green["categories"]:
                if category["score_pct"] is not None:
                    name = category["name"].replace(" ", "_")
                    fields[f"{name}_score_pct"] = float(category["score_pct"])
            yield _point_text(self._key(("green_park",), "twin_green_park", lambda: base), fields)
        occupancy = state.get("occupancy")
        if occupancy:
            buildings = occupancy["buildings"]
            made = self._occupancy_table(buildings) if isinstance(buildings, RowTable) else None
            if made is not None:
                yield from made
                buildings = []  # every point made from the columns
            for row in _rows(buildings):
                cache_key = ("twin_occupancy", row["building"], row["use"])
                key = series.get(cache_key) or self._key(
                    cache_key,
                    "twin_occupancy",
                    lambda: base | self._occupancy_tags(row),  # noqa: B023
                )
                fields_text = self._row_fields(row)
                yield f"{key} {fields_text}" if fields_text else None
            fields = numeric_fields(occupancy["jobs_housing"])
            if occupancy.get("persons_present") is not None:
                fields["persons_present"] = float(occupancy["persons_present"])
            key = self._key(("jobs_housing",), "twin_jobs_housing", lambda: base)
            yield _point_text(key, fields)
        evaluation = state.get("enterprises")
        if evaluation:
            for row in _rows(evaluation["enterprises"]):
                fields = numeric_fields(row)
                if row.get("grade"):
                    fields["grade"] = row["grade"]
                key = self._key(
                    ("twin_enterprise", row["enterprise"]),
                    "twin_enterprise",
                    lambda: base | {"enterprise": row["enterprise"]},  # noqa: B023
                )
                yield _point_text(key, fields)
        costs = state.get("costs")
        if costs:
            yield from self._cost_lines(costs, snapshot.costs, base)
        devices = state.get("devices")  # not in the outputs' form: counted from the codes
        statuses = Counter(devices["status"]) if devices else status_counts(snapshot.devices)
        key = self._key(("devices",), "twin_devices", lambda: base)
        yield _point_text(key, {s: float(n) for s, n in statuses.items()})

    def _cost_table_lines(
        self,
        period: str,
        level: str,
        table: CostTable | None,
        rows: list[dict[str, Any]] | CostTable,
        tags: Tags,
    ) -> Iterator[str | None]:
        """twin_cost_place points of one level: from the table's columns when every value is
        a finite float (the same text as from the rows), else row by row."""
        ids = [row["id"] for row in _rows(rows)] if table is None else table.ids
        cached = self._table_keys.get(("twin_cost_place", period, level))
        if cached is None or not (cached[0] is ids or cached[0] == ids):
            keys = [
                self._key(
                    ("twin_cost_place", period, level, place),
                    "twin_cost_place",
                    lambda: tags | _place_tags(self.park, level, place),  # noqa: B023
                )
                + " "
                for place in ids
            ]
            cached = self._table_keys[("twin_cost_place", period, level)] = (ids, keys)
        keys = cached[1]
        if table is not None and len(table) and np.isfinite(table.values).all():
            plan = self._plans.get((("cost", *table.names), ()), MISSING)
            if plan is MISSING:
                plan = row_plan(table.names, (float,) * len(table.names))
                self._plans[(("cost", *table.names), ())] = plan
            if plan is not None:
                cache_key = ("twin_cost_place", period, level)
                yield from self._table_bodies(cache_key, keys, plan, table.values)
                return
        for key, row in zip(keys, _rows(rows), strict=True):
            fields_text = self._row_fields(row)  # the id is text: not a field
            yield f"{key}{fields_text}" if fields_text else None

    def _cost_lines(
        self, costs: dict[str, Any], tables: CostReport | None, base: Tags
    ) -> Iterator[str | None]:
        """twin_cost per period, twin_cost_place per place and period, twin_cost_demand."""
        for period, report in costs["periods"].items():
            tags = base | {"period": period}
            park = report["park"]
            fields = numeric_fields({k: v for k, v in park.items() if k != "bands"})
            for band in park["bands"]:
                fields[f"{band['band']}_kwh"] = float(band["kwh"])
                fields[f"{band['band']}_yuan"] = float(band["yuan"])
            key = self._key(("twin_cost", period), "twin_cost", lambda: tags)  # noqa: B023
            yield _point_text(key, fields)
            for level in ("buildings", "zones", "enterprises"):
                table = tables.periods[period] if tables else None
                yield from self._cost_table_lines(
                    period, level, getattr(table, level) if table else None, report[level], tags
                )
        demand = costs["demand"]
        fields = numeric_fields({k: v for k, v in demand.items() if k not in ("meters", "basic")})
        fields["basic_charge_yuan"] = float(demand["basic"]["charge_yuan"])
        yield _point_text(self._key(("twin_cost_demand",), "twin_cost_demand", lambda: base),
                          fields)  # fmt: skip

    def _occupancy_table(self, table: RowTable[Any]) -> list[str | None] | None:
        """The twin_occupancy points from the rows' columns: what ``_row_fields`` makes of each
        JSON row (numbers as floats, a missing or non-finite number left out), or None when a
        column holds anything but numbers, text or None (then the rows' path)."""
        names = [f.name for f in fields(table.row_type)]
        numeric, columns = [], []
        for name, column in zip(names, table.columns, strict=True):
            kinds = set(map(type, column))
            if kinds <= SKIPPED:
                continue
            if not kinds <= NUMBERS:  # a flag, a mapping...: not written as a float
                return None
            numeric.append(name)
            columns.append(column)
        buildings = table.columns[names.index("building")]
        uses = table.columns[names.index("use")]
        cached = self._table_keys.get(("twin_occupancy",))
        if cached is None or cached[0] is not buildings or cached[2] is not uses:
            base = {"park": self.park.park.id}
            keys = [
                self._key(
                    ("twin_occupancy", building, use),
                    "twin_occupancy",
                    lambda: base | self._occupancy_tags({"building": building, "use": use}),  # noqa: B023
                )
                + " "
                for building, use in zip(buildings, uses, strict=True)
            ]
            cached = self._table_keys[("twin_occupancy",)] = (buildings, keys, uses)
        keys = cached[1]
        bodies: list[str | None] = [None] * len(table)
        if not numeric or not len(table):
            return bodies
        values = np.array(columns, dtype=np.float64).T  # None as NaN
        missing = ~np.isfinite(values)  # as the JSON form: None, and so left out
        patterns, inverse = missing_patterns(missing)
        for p, pattern in enumerate(patterns):
            at = np.flatnonzero(inverse == p)
            present = np.flatnonzero(~pattern)
            if not len(present):
                continue  # no fields: no point
            field_names = tuple(numeric[i] for i in present.tolist())
            plan = self._plans.get((("occupancy", *field_names), ()), MISSING)
            if plan is MISSING:
                plan = row_plan(field_names, (float,) * len(field_names))
                self._plans[(("occupancy", *field_names), ())] = plan
            assert plan is not None  # floats only
            made = table_fields(plan, values[np.ix_(at, present)])
            for i, text in zip(at.tolist(), made, strict=True):
                bodies[i] = keys[i] + text
        return bodies

    def _occupancy_tags(self, row: dict[str, Any]) -> Tags:
        building = self.park.buildings_by_id.get(row["building"])
        return {
            "building": row["building"],
            "zone": building.zone if building else "",
            "use": row["use"],
        }


def missing_patterns(missing: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.bool_], Ints]:
    """The distinct rows of a 2-D mask and, for each row, the index of its pattern: what
    ``np.unique(missing, axis=0, return_inverse=True)`` gives, in any order of patterns."""
    rows, columns = missing.shape
    if columns > 62:  # one bit a column in an int64
        patterns, inverse = np.unique(missing, axis=0, return_inverse=True)
        return patterns, inverse.ravel()
    # Each row as one integer, a bit a column: unique over integers is a 1-D sort, where
    # unique over rows compared them as structured records (0.55 ms of 1.25 for 500 buildings).
    bits = np.left_shift(1, np.arange(columns, dtype=np.int64))
    codes = missing.astype(np.int64) @ bits if rows else np.zeros(0, np.int64)
    found, inverse = np.unique(codes, return_inverse=True)
    patterns = (found[:, None] & bits) != 0
    return patterns, inverse.ravel()


def _point_text(series: str, fields: Fields) -> str | None:
    """A point without its timestamp; None without fields."""
    return f"{series} {format_fields(fields)}" if fields else None


def _rows(
    rows: list[dict[str, Any]] | PlaceTable | CostTable | RowTable[Any],
) -> list[dict[str, Any]]:
    """Rows of the JSON form, or of a table kept as it is made into them."""
    if isinstance(rows, RowTable):
        return rows.rows(plain)
    return rows.rows() if isinstance(rows, PlaceTable | CostTable) else rows


def kpi_lines(park: Park, snapshot: TwinSnapshot, state: dict[str, Any] | None = None) -> list[str]:
    """Line-protocol points of a snapshot (``state`` is its ``to_dict()``, when already made).

    A service writing every tick keeps a ``KpiLines`` instead, which makes the series keys once.
    """
    return KpiLines(park)(snapshot, state)
