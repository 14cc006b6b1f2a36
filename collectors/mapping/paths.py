"""JSONPath queries compiled once, at load, by python-jsonpath.

Most paths a mapping uses are plain chains of names and indexes (``$.ENERGY.Total``); those are
walked directly, which is several times cheaper per message than the general evaluator. Any
other path (wildcards, filters, unions, descendants) is evaluated by python-jsonpath itself.
"""

from __future__ import annotations

from typing import Any

import jsonpath
from jsonpath.segments import JSONPathChildSegment
from jsonpath.selectors import IndexSelector, NameSelector

MISSING = object()


class Path:
    """One compiled JSONPath."""

    __slots__ = ("_query", "keys", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._query = jsonpath.compile(text)
        self.keys = _plain_keys(self._query)

    @property
    def last_name(self) -> str | None:
        """The last member name of a plain path (``values.tag0`` -> ``tag0``), else None."""
        if self.keys and isinstance(self.keys[-1], str):
            return self.keys[-1]
        return None

    def one(self, data: Any) -> Any:
        """The single node at this path, or MISSING (also when a general query finds several)."""
        keys = self.keys
        if keys is not None:
            node = data
            for key in keys:
                if isinstance(key, str):
                    if type(node) is not dict:
                        return MISSING
                    node = node.get(key, MISSING)
                    if node is MISSING:
                        return MISSING
                else:
                    if type(node) is not list or not -len(node) <= key < len(node):
                        return MISSING
                    node = node[key]
            return node
        found = self._query.findall(data)
        return found[0] if len(found) == 1 else MISSING

    def all(self, data: Any) -> list[Any]:
        """Every node at this path, in document order."""
        if self.keys is not None:
            node = self.one(data)
            return [] if node is MISSING else [node]
        return self._query.findall(data)


def _plain_keys(query: Any) -> tuple[str | int, ...] | None:
    if not isinstance(query, jsonpath.JSONPath):
        return None
    keys: list[str | int] = []
    for segment in query.segments:
        if type(segment) is not JSONPathChildSegment or len(segment.selectors) != 1:
            return None
        selector = segment.selectors[0]
        if type(selector) is NameSelector:
            keys.append(selector.name)
        elif type(selector) is IndexSelector:
            keys.append(selector.index)
        else:
            return None
    return tuple(keys)
