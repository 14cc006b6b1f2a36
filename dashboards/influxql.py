"""InfluxQL SELECT statements as values: the dashboards' queries and the columns they answer.

A query knows its own column aliases and grouping tags, so the test that runs every panel's
query against InfluxDB checks the answer against the query itself, not against a copy.
"""

from __future__ import annotations

from dataclasses import dataclass

TIME_FILTER = "$timeFilter"


def regex(tag: str, variable: str) -> str:
    """A tag condition on a template variable, as Grafana formats it for InfluxQL (``=~ /^…$/``)."""
    return f'"{tag}" =~ /^${variable}$/'


def equals(tag: str, value: str) -> str:
    """A tag equal to a literal value."""
    return f"\"{tag}\" = '{value}'"


def one_of(tag: str, values: tuple[str, ...]) -> str:
    """A tag equal to any of the literal values."""
    return f'"{tag}" =~ /^({"|".join(values)})$/'


@dataclass(frozen=True)
class Column:
    """``expression AS alias``; the alias is the column name in the answer."""

    expression: str
    alias: str

    def __str__(self) -> str:
        return f'{self.expression} AS "{self.alias}"'


def fn(function: str, field: str, alias: str | None = None) -> Column:
    """An aggregate or selector of one field: ``last("power_kw") AS "power_kw"``."""
    return Column(f'{function}("{field}")', alias or field)


@dataclass(frozen=True)
class Select:
    """One InfluxQL SELECT; ``source`` is a measurement name or another Select (a subquery)."""

    columns: tuple[Column, ...]
    source: str | Select
    where: tuple[str, ...] = ()
    group_by: tuple[str, ...] = ()  # tags, plus "time(...)" when the query buckets time
    fill: str | None = None
    tz: str | None = None  # IANA zone for GROUP BY time(...) buckets, e.g. "$tz"

    def __str__(self) -> str:
        source = f"({self.source})" if isinstance(self.source, Select) else f'"{self.source}"'
        text = f"SELECT {', '.join(str(c) for c in self.columns)} FROM {source}"
        text += " WHERE " + " AND ".join((*self.where, TIME_FILTER))
        if self.group_by:
            text += " GROUP BY " + ", ".join(
                g if g.startswith("time(") else f'"{g}"' for g in self.group_by
            )
        if self.fill:
            text += f" fill({self.fill})"
        if self.tz:
            text += f" tz('{self.tz}')"
        return text

    @property
    def aliases(self) -> tuple[str, ...]:
        """Column names of the answer after ``time``."""
        return tuple(c.alias for c in self.columns)

    @property
    def tags(self) -> tuple[str, ...]:
        """Tags each answered series carries."""
        return tuple(g for g in self.group_by if not g.startswith("time("))
