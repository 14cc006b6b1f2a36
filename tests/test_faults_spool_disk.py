"""A spool on a disk with no byte left still confirms what it replayed: confirming is what lets
it delete drained segments and free the disk. Needs root to mount a small tmpfs."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.spool import Spool, SpoolFullError


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, mounted for the test."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the collector's max_bytes test still runs")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def use_every_byte(folder: Path) -> None:
    """Fill what is left of the disk; a disk already too full to create the file is full too."""
    try:
        with (folder / "filler").open("wb", buffering=0) as file:
            while True:
                file.write(b"\0" * 512)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC


def test_a_spool_on_a_full_disk_confirms_its_batches_and_reopens_whole(tiny_disk: Path) -> None:
    spool = Spool(tiny_disk / "spool", 2**31)
    appended = 0
    with pytest.raises(SpoolFullError, match="disk is full"):
        while True:
            spool.append([f"m,device=d{appended} v=1 {i}" + " " * 900 for i in range(20)])
            appended += 1
    use_every_byte(tiny_disk)  # not even a page for a new cursor file
    confirmed = 0
    while (batch := spool.peek()) is not None:
        assert batch.lines[0].startswith(f"m,device=d{confirmed} ")
        spool.confirm(batch)
        confirmed += 1
    spool.close()
    assert confirmed == appended > 0
    with Spool(tiny_disk / "spool", 2**31) as reopened:
        assert reopened.pending_batches == 0
        assert (reopened.recovery.truncated_records, reopened.recovery.dropped_bytes) == (0, 0)
