"""Lines of line protocol for checked readings, through field-set templates: the render of the
readings that the mapping engine and the Sparkplug host give (and of native messages that
leave the shortcut of ``collectors/native_lines.py``).

``tagging.render`` formats each value and escapes each name of every reading. Here the field
set of each tuple of quantity names (in order) is made once, with ``field_template`` (the
native shortcut's), so a reading whose values are all finite floats becomes one formatted
string. Any other reading (an integer, a string, a non-finite value, a name with no exact
encoding) is rendered by ``tagging.render``'s own functions, which write or refuse it exactly
as before. ``tests/test_collector_reading_lines.py`` asks both for the same lines.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from collectors.native_lines import MAX_TEMPLATES, field_template
from parktwin.contract.reading import Reading
from parktwin.influx.lineprotocol import format_fields, line

_LOW, _HIGH = -math.inf, math.inf


class ReadingLines:
    """Renders readings of a park's devices with field-set templates kept per quantity names."""

    def __init__(self, keys: dict[str, str], arrival_keys: dict[str, str]) -> None:
        self._keys = keys
        self._arrival_keys = arrival_keys
        self._templates: dict[tuple[str, ...], str | None] = {}

    def extend(self, lines: list[str], readings: Iterable[Reading]) -> None:
        """Append each reading's line to ``lines``: what ``tagging.render`` gives for them.

        ``KeyError`` for a device without a series key, ``ValueError`` for a value line
        protocol cannot hold, as ``tagging.render``.
        """
        templates, append = self._templates, lines.append
        for reading in readings:
            keys = self._arrival_keys if reading.ts_from_arrival else self._keys
            values = reading.values
            names = tuple(values)
            template = templates.get(names, "")
            if template == "":
                template = self._template(names)
            numbers = tuple(values.values())
            if template is not None:
                for number in numbers:
                    # Only a finite float is its repr in a line; NaN fails the comparison.
                    if type(number) is not float or not _LOW < number < _HIGH:
                        break
                else:
                    append(f"{keys[reading.device_id]} {template % numbers} {reading.ts_ms}")
                    continue
            append(line(keys[reading.device_id], format_fields(values), reading.ts_ms))

    def _template(self, names: tuple[str, ...]) -> str | None:
        """The field-set template of these names, or None when one has no exact encoding (or
        there are none): such readings are left to ``format_fields``, which says why."""
        if len(self._templates) >= MAX_TEMPLATES:
            self._templates.clear()
        try:
            template: str | None = field_template(names) if names else None
        except ValueError:
            template = None
        self._templates[names] = template
        return template
