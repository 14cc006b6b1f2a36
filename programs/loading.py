"""Settings and park file for a command: loaded, checked, and refused with a clear message."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import typer

from parktwin.config import ConfigError, Settings, load_settings
from parktwin.park.bundled import demo_park_path
from parktwin.park.loader import ParkFileError, load_park_source
from parktwin.park.model import Park


def fail(message: str) -> typer.Exit:
    """Print ``message`` to stderr; the exit (code 2) for the caller to raise."""
    typer.echo(message, err=True)
    return typer.Exit(code=2)


def setup_logging(level: str) -> None:
    """Log to stderr at ``level`` (DEBUG, INFO, WARNING, ERROR)."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def load(park_file: Path | None, config: Path | None, **overrides: Any) -> tuple[Park, Settings]:
    """The park (the file named, the settings', or the bundled demo park) and the settings with
    ``overrides``; a bad file or setting exits with code 2 naming what is wrong."""
    try:
        settings = load_settings(config, **overrides)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    path = park_file or settings.park_file or demo_park_path()
    from collectors.mapping.compiled import MappingError, compile_mappings

    try:
        source = load_park_source(path)
        try:
            compile_mappings(source.park)  # what needs a preset, checked with file and line
        except MappingError as exc:
            raise ParkFileError(source.problems(exc.problems)) from None
        return source.park, settings
    except ParkFileError as exc:
        raise fail(str(exc)) from None
