"""The demo's server children (mosquitto, influxd): finding their binary, reading their log,
stopping them cleanly."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path


def find_binary(name: str) -> str | None:
    """Path of a Debian server binary (on PATH, or in /usr/sbin or /usr/bin), or None."""
    found = shutil.which(name)
    if found:
        return found
    candidates = (f"/usr/sbin/{name}", f"/usr/bin/{name}")
    return next((p for p in candidates if os.access(p, os.X_OK)), None)


def log_tail(log: Path) -> str:
    """The end of a server's log, for an error message ("" when there is none)."""
    return log.read_text(errors="replace")[-2000:] if log.exists() else ""


async def stop_child(process: asyncio.subprocess.Process, timeout_s: float) -> None:
    """SIGTERM (servers save their state on it), then SIGKILL after ``timeout_s``."""
    if process.returncode is not None:
        return
    process.terminate()
    try:
        async with asyncio.timeout(timeout_s):
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()
