"""Load a park file (YAML) and report every error with file, path and line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

import yaml
from pydantic import ValidationError

from parktwin.park.model import Park
from parktwin.park.references import Path, reference_errors


@dataclass(frozen=True, slots=True)
class Problem:
    """One error in a park file."""

    file: str
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.path or '(top level)'}: {self.message}"


class ParkFileError(Exception):
    """The park file is unreadable or invalid; ``problems`` lists every error found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _format_path(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class _BadNode(Exception):
    """A YAML node that cannot become Python data, e.g. ``!!float lots`` or a list as a key."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(reason)
        self.path, self.line, self.reason = path, line, reason


_KIND: dict[type[yaml.Node], str] = {yaml.MappingNode: "mapping", yaml.SequenceNode: "sequence"}


def _construct(node: yaml.Node, path: Path, *, key: bool = False) -> Any:
    """The Python value of a scalar node; a key is taken as the text written, e.g. "1", "<<"."""
    try:
        if not key:
            return yaml.SafeLoader("").construct_object(node, deep=True)
        if not isinstance(node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a scalar key, found a {_KIND[type(node)]}", node.start_mark
            )
        return node.value
    except (yaml.YAMLError, ValueError) as exc:  # PyYAML raises ValueError for "!!float lots"
        reason = getattr(exc, "problem", None) or str(exc)
        raise _BadNode(path, node.start_mark.line + 1, reason) from None


def _to_python(
    node: yaml.Node,
    path: Path,
    lines: dict[Path, int],
    found: list[tuple[Path, int, str]],
    ancestors: tuple[yaml.Node, ...] = (),
) -> Any:
    """Build plain Python data from a YAML node, remembering the line of every path.

    Problems that YAML itself lets pass (a key given twice, an alias to a node that contains
    it) are appended to ``found`` as (path, line, message); the first of two keys is kept.
    """
    lines[path] = node.start_mark.line + 1
    if any(node is ancestor for ancestor in ancestors):
        found.append((path, lines[path], "an alias refers to a node that contains it"))
        return None
    ancestors = (*ancestors, node)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(key_node, path, key=True)
            child = (*path, key)
            key_line = key_node.start_mark.line + 1
            if key in result:
                message = f"duplicate key {key!r} (first on line {lines[child]})"
                found.append((child, key_line, message))
                continue
            result[key] = _to_python(value_node, child, lines, found, ancestors)
            lines[child] = key_line
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _to_python(item, (*path, i), lines, found, ancestors)
            for i, item in enumerate(node.value)
        ]
    return _construct(node, path)


def _line_of(path: Path, lines: dict[Path, int]) -> int | None:
    """The line of the deepest part of ``path`` that the file holds."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


@dataclass(frozen=True, slots=True)
class ParkSource:
    """A valid park file with the line of every path in it, for checks made after loading."""

    park: Park
    file: str
    lines: dict[Path, int]

    def problems(self, found: list[tuple[Path, str]]) -> list[Problem]:
        """Problems at paths of this file, each with the nearest line the file holds."""
        return [
            Problem(self.file, _format_path(p), _line_of(p, self.lines), msg) for p, msg in found
        ]


def parse_park(text: str, file: str = "<park>") -> Park:
    """Validate the text of a park file; raise ParkFileError listing every problem."""
    return parse_park_source(text, file).park


def parse_yaml_mapping(
    text: str, file: str
) -> tuple[dict[Any, Any], dict[Path, int], list[Problem]]:
    """A YAML document whose top level is a mapping, the line of every path in it, and the
    problems YAML lets pass (duplicate keys, recursive aliases); raise ParkFileError when the
    text is no such document. Other YAML files with line-numbered errors (what-if scenarios)
    use it too."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ParkFileError([Problem(file, "", line, f"not valid YAML: {reason}")]) from None
    if node is None:
        raise ParkFileError([Problem(file, "", 1, "the file is empty")])
    lines: dict[Path, int] = {}
    found: list[tuple[Path, int, str]] = []
    try:
        data = _to_python(node, (), lines, found)
    except _BadNode as exc:
        where = _format_path(exc.path)
        raise ParkFileError(
            [Problem(file, where, exc.line, f"not valid YAML: {exc.reason}")]
        ) from None
    if not isinstance(data, dict):
        line = node.start_mark.line + 1
        raise ParkFileError([Problem(file, "", line, "the top level must be a mapping")])
    return data, lines, [Problem(file, _format_path(p), line, msg) for p, line, msg in found]


def validation_problems(exc: ValidationError, file: str, lines: dict[Path, int]) -> list[Problem]:
    """Each pydantic error as a Problem with the path and line of the field at fault."""
    return [
        Problem(file, _format_path(tuple(e["loc"])), _line_of(tuple(e["loc"]), lines), e["msg"])
        for e in exc.errors(include_url=False)
    ]


def problem_at(file: str, path: Path, lines: dict[Path, int], message: str) -> Problem:
    """A Problem at ``path``, on the line of its deepest part the file holds."""
    return Problem(file, _format_path(path), _line_of(path, lines), message)


def parse_park_source(text: str, file: str = "<park>") -> ParkSource:
    """Validate the text of a park file and keep its lines; raise ParkFileError if invalid."""
    data, lines, problems = parse_yaml_mapping(text, file)
    try:
        park = Park.model_validate(data)
    except ValidationError as exc:
        raise ParkFileError(problems + validation_problems(exc, file, lines)) from None
    problems += [problem_at(file, p, lines, msg) for p, msg in reference_errors(park)]
    if problems:
        raise ParkFileError(problems)
    return ParkSource(park, file, lines)


def load_park(path: str | FsPath) -> Park:
    """Read and validate a park file."""
    return load_park_source(path).park


def load_park_source(path: str | FsPath) -> ParkSource:
    """Read and validate a park file, keeping the line of every path for later checks."""
    file = FsPath(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParkFileError([Problem(str(file), "", None, f"cannot read: {exc}")]) from None
    return parse_park_source(text, str(file))
