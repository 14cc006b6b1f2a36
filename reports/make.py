"""Make a report's files: gather, build, write with stable names, atomically.

A file's name says what it holds and nothing else (``{park}_{period}[_{enterprise}]_{lang}.xlsx``),
so a scheduled run that is repeated replaces the same file, and a link to it stays valid. Each
file is written beside its final name and renamed into place, so a reader never sees half a
report.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from parktwin.config import InfluxSettings
from parktwin.park.model import Park
from parktwin.periods import Calendar
from parktwin.report_settings import FORMATS, Format
from reports.build import build_report, check_enterprise_id
from reports.model import Report
from reports.period import ReportPeriod, check_not_future, parse_period
from reports.replay import gather
from twin.model.inputs import MonthlyInputs
from twin.service.history import latest_event_ms

LANGS = ("en", "zh")


def writer_of(fmt: Format) -> Callable[..., None]:
    """The function that writes one format. Imported on first use: matplotlib, ReportLab and
    openpyxl add about 1.5 s to the start of every service that merely offers reports."""
    if fmt == "pdf":
        from reports.pdf import write_pdf

        return write_pdf
    from reports.xlsx import write_xlsx

    return write_xlsx


SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class ReportFolderError(OSError):
    """The report folder cannot be created or written."""


@dataclass(frozen=True, slots=True)
class ReportRequest:
    period: str
    enterprise: str | None = None
    langs: tuple[str, ...] = ("en",)
    formats: tuple[Format, ...] = FORMATS


def file_name(park_id: str, period: str, enterprise: str | None, lang: str, fmt: str) -> str:
    """The stable name of one report file."""
    parts = [park_id, period] + ([enterprise] if enterprise else []) + [lang]
    return SAFE.sub("-", "_".join(parts)) + f".{fmt}"


def check_folder(folder: Path) -> None:
    """Create the folder if needed and prove it writable; ReportFolderError otherwise."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            pass
    except OSError as exc:
        raise ReportFolderError(
            f"report folder {folder} is not writable: {exc.strerror or exc}"
        ) from None


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a report is meant to be read
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_files(
    report: Report,
    folder: Path,
    langs: tuple[str, ...],
    formats: tuple[Format, ...],
    generated: str,
) -> list[Path]:
    """Write the report in each language and format; the paths written."""
    check_folder(folder)
    written = []
    for lang in langs:
        for fmt in formats:
            path = folder / file_name(report.park_id, report.period, report.enterprise, lang, fmt)
            write_atomically(path, partial(writer_of(fmt), report, lang, generated=generated))
            written.append(path)
    return written


async def resolve_period(
    settings: InfluxSettings, park: Park, text: str, now_ms: int
) -> ReportPeriod:
    """The period named by ``text``; PeriodError when malformed or not yet begun, both by the
    wall clock and by the newest stored reading (a time-warped demo runs ahead of the clock)."""
    period = parse_period(text, Calendar(park.timezone))
    if period.start_ms > now_ms:
        check_not_future(period, max(now_ms, await latest_event_ms(settings, park) or 0))
    return period


async def make_report(
    settings: InfluxSettings,
    park: Park,
    request: ReportRequest,
    folder: Path,
    inputs: dict[str, MonthlyInputs],
    inputs_source: str,
    now_ms: int,
) -> list[Path]:
    """Gather, build and write one report; the files written.

    Raises PeriodError, UnknownEnterpriseError, NoDataError, ReportFolderError (checked before
    anything is read) or QueryError (InfluxDB did not answer).
    """
    for lang in request.langs:
        if lang not in LANGS:
            raise ValueError(f"language {lang!r}: expected one of {', '.join(LANGS)}")
    period = await resolve_period(settings, park, request.period, now_ms)
    check_enterprise_id(park, request.enterprise)
    check_folder(folder)
    gathered = await gather(settings, park, period, inputs, inputs_source)
    report = build_report(gathered, request.enterprise)
    calendar = Calendar(park.timezone)
    generated = calendar.local(gathered.made_at_ms).strftime("%Y-%m-%d %H:%M")
    return write_files(report, folder, request.langs, request.formats, generated)
