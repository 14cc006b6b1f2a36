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


def _to_python(node: yaml.Node, path: Path, lines: dict[Path, int]) -> Any:
    """Build plain Python data from a YAML node, remembering the line of every path."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.SafeLoader.construct_scalar(yaml.SafeLoader(""), key_node)  # type: ignore[arg-type]
            child = (*path, key)
            result[key] = _to_python(value_node, child, lines)
            lines[child] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*path, i), lines) for i, item in enumerate(node.value)]
    loader = yaml.SafeLoader("")
    return loader.construct_object(node, deep=True)


def _line_of(path: Path, lines: dict[Path, int]) -> int | None:
    """The line of the deepest part of ``path`` that the file holds."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def parse_park(text: str, file: str = "<park>") -> Park:
    """Validate the text of a park file; raise ParkFileError listing every problem."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ParkFileError([Problem(file, "", line, f"not valid YAML: {reason}")]) from None
    if node is None:
        raise ParkFileError([Problem(file, "", None, "the file is empty")])
    lines: dict[Path, int] = {}
    try:
        data = _to_python(node, (), lines)
    except yaml.YAMLError as exc:
        raise ParkFileError([Problem(file, "", None, f"not valid YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise ParkFileError([Problem(file, "", 1, "the top level must be a mapping")])
    try:
        park = Park.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            path = tuple(error["loc"])
            problems.append(Problem(file, _format_path(path), _line_of(path, lines), error["msg"]))
        raise ParkFileError(problems) from None
    broken = reference_errors(park)
    if broken:
        raise ParkFileError(
            [Problem(file, _format_path(p), _line_of(p, lines), msg) for p, msg in broken]
        )
    return park


def load_park(path: str | FsPath) -> Park:
    """Read and validate a park file."""
    file = FsPath(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParkFileError([Problem(str(file), "", None, f"cannot read: {exc}")]) from None
    return parse_park(text, str(file))
