"""A progress bar for long history jobs (rich's), on whatever stream the program writes to."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


@contextlib.contextmanager
def progress_bar(out: TextIO, description: str, total: int) -> Iterator[Callable[[int], None]]:
    """A bar of ``total`` units; the callable sets how many are done. On a terminal it redraws
    in place; into a file or a pipe rich prints only the final state."""
    console = Console(file=out)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(description, total=total)
        yield lambda done: progress.update(task, completed=done)


@contextlib.contextmanager
def count_bar(out: TextIO, description: str, total: int) -> Iterator[Callable[[int], None]]:
    """Like ``progress_bar``, counting items (rows of a file) as ``n/total``."""
    console = Console(file=out)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(description, total=total)
        yield lambda done: progress.update(task, completed=done)
