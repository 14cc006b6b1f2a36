"""The on-disk spool: FIFO order, durability across a killed process, recovery, limits."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from collectors.spool import HEADER, Spool, SpoolError, SpoolFullError, encode_record

SEGMENT = 1024  # small segments, so that a few batches span several of them
LIMIT = 1024 * 1024


def batch(n: int, lines: int = 3) -> list[str]:
    return [f"electricity,device=d{n} power_kw={n}.{i} {1767225600000 + i}" for i in range(lines)]


def segments(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.seg"))


def take(spool: Spool) -> list[str]:
    """The oldest batch's lines, confirmed."""
    item = spool.peek()
    assert item is not None
    spool.confirm(item)
    return item.lines


def drain(spool: Spool) -> list[list[str]]:
    """Every batch left, oldest first, confirmed."""
    taken = []
    while (item := spool.peek()) is not None:
        spool.confirm(item)
        taken.append(item.lines)
    return taken


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "spool"


def test_fifo_across_segments_and_reopen(folder: Path) -> None:
    with Spool(folder, LIMIT, segment_bytes=SEGMENT) as spool:
        for n in range(40):
            spool.append(batch(n))
        assert len(segments(folder)) > 5
        assert spool.pending_batches == 40 and spool.pending_lines == 120
        taken = [take(spool) for _ in range(15)]
    with Spool(folder, LIMIT, segment_bytes=SEGMENT) as spool:
        assert spool.pending_batches == 25 and spool.pending_lines == 75
        for n in range(40, 50):
            spool.append(batch(n))
        taken += drain(spool)
        assert (spool.pending_batches, spool.pending_lines, spool.pending_bytes) == (0, 0, 0)
        assert spool.peek() is None
    assert taken == [batch(n) for n in range(50)]
    assert len(segments(folder)) <= 1  # drained segments are deleted


def test_peek_repeats_until_confirmed_and_confirm_checks_the_batch(folder: Path) -> None:
    with Spool(folder, LIMIT) as spool:
        assert spool.peek() is None
        spool.append(batch(1))
        spool.append(batch(2))
        first = spool.peek()
        assert first is not None and first == spool.peek()
        spool.confirm(first)
        with pytest.raises(ValueError, match="oldest"):
            spool.confirm(first)  # already confirmed
        second = spool.peek()
        assert second is not None and second.lines == batch(2)
        assert spool.pending_bytes == second.size


def test_non_ascii_lines_and_empty_batches(folder: Path) -> None:
    lines = ['用电,园区=园区\\ A note="说 \\"hi\\"" 1', "m f=1 2"]
    with Spool(folder, LIMIT) as spool:
        spool.append(lines)
        with pytest.raises(ValueError):
            spool.append([])
        assert drain(spool) == [lines]


def test_one_process_at_a_time(folder: Path) -> None:
    with Spool(folder, LIMIT), pytest.raises(SpoolError, match="another process"):
        Spool(folder, LIMIT)
    Spool(folder, LIMIT).close()  # free again once closed


# --- durability: a process killed with SIGKILL ------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys, time
    from collectors.spool import Spool
    spool = Spool(sys.argv[1], 1 << 20, segment_bytes=1024)
    action = sys.argv[2]
    if action == "append":
        for n in range(int(sys.argv[3])):
            spool.append([f"m,device=d{n} f={n} {n}"])
    elif action == "take":  # written to the database, killed before confirming
        print(spool.peek().lines[0])
    print("done", flush=True)
    time.sleep(60)
    """
)


def run_then_kill(folder: Path, *args: str) -> str:
    """Run the child until it says done, then SIGKILL it: no close, no flush, no cleanup."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder), *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert child.stdout is not None
    output = []
    for text in child.stdout:
        if text.strip() == "done":
            break
        output.append(text.strip())
    child.send_signal(signal.SIGKILL)
    child.wait()
    return "\n".join(output)


def test_appended_batches_survive_a_killed_process(folder: Path) -> None:
    run_then_kill(folder, "append", "30")
    with Spool(folder, LIMIT, segment_bytes=SEGMENT) as spool:
        assert spool.recovery.truncated_records == 0
        assert drain(spool) == [[f"m,device=d{n} f={n} {n}"] for n in range(30)]


def test_a_batch_taken_but_not_confirmed_is_replayed(folder: Path) -> None:
    run_then_kill(folder, "append", "3")
    assert run_then_kill(folder, "take") == "m,device=d0 f=0 0"
    with Spool(folder, LIMIT) as spool:
        replayed = [lines[0] for lines in drain(spool)]
    assert replayed == [f"m,device=d{n} f={n} {n}" for n in range(3)]


# --- recovery from torn and corrupt records ----------------------------------------------


def fill(folder: Path, count: int, segment_bytes: int = 1 << 20) -> None:
    with Spool(folder, LIMIT, segment_bytes=segment_bytes) as spool:
        for n in range(count):
            spool.append(batch(n))


def test_torn_tail_is_cut_and_earlier_batches_kept(folder: Path) -> None:
    fill(folder, 3)
    (last,) = segments(folder)
    os.truncate(last, last.stat().st_size - 5)  # the last record lost its end
    with Spool(folder, LIMIT) as spool:
        assert spool.recovery.truncated_records == 1
        assert spool.pending_batches == 2
        spool.append(batch(3))  # appends go on after the cut
        assert drain(spool) == [batch(0), batch(1), batch(3)]


@pytest.mark.parametrize("garbage", [b"\x00", b"\xff" * 7, HEADER.pack(10**9, 0), b"junk" * 100])
def test_garbage_after_the_last_record_is_cut(folder: Path, garbage: bytes) -> None:
    fill(folder, 3)
    (last,) = segments(folder)
    with last.open("ab") as file:
        file.write(garbage)
    with Spool(folder, LIMIT) as spool:
        assert spool.recovery.truncated_records == 1
        assert spool.recovery.dropped_bytes == len(garbage)
        assert drain(spool) == [batch(0), batch(1), batch(2)]


def test_a_bad_crc_in_the_tail_record_is_cut(folder: Path) -> None:
    fill(folder, 3)
    (last,) = segments(folder)
    data = bytearray(last.read_bytes())
    data[-3] ^= 0x01
    last.write_bytes(bytes(data))
    with Spool(folder, LIMIT) as spool:
        assert spool.recovery.truncated_records == 1
        assert drain(spool) == [batch(0), batch(1)]


def test_corruption_in_an_older_segment_keeps_the_rest(folder: Path) -> None:
    fill(folder, 20, segment_bytes=SEGMENT)
    first = segments(folder)[0]
    per_segment = first.stat().st_size // len(encode_record(batch(0)))
    data = bytearray(first.read_bytes())
    data[len(encode_record(batch(0))) + HEADER.size] ^= 0xFF  # the second record's payload
    first.write_bytes(bytes(data))
    with Spool(folder, LIMIT, segment_bytes=SEGMENT) as spool:
        assert spool.recovery.truncated_records == 1
        lost = range(1, per_segment)
        assert drain(spool) == [batch(n) for n in range(20) if n not in lost]


def test_a_record_damaged_while_open_skips_only_its_segment(folder: Path) -> None:
    with Spool(folder, LIMIT, segment_bytes=SEGMENT) as spool:
        for n in range(20):
            spool.append(batch(n))
        first = segments(folder)[0]
        per_segment = first.stat().st_size // len(encode_record(batch(0)))
        with first.open("r+b") as file:  # bit rot under a running spool
            file.seek(HEADER.size + 1)
            file.write(b"#")
        rest = drain(spool)
        assert rest == [batch(n) for n in range(per_segment, 20)]
        assert (spool.pending_batches, spool.pending_lines, spool.pending_bytes) == (0, 0, 0)
        spool.append(batch(99))
        assert drain(spool) == [batch(99)]


def test_unreadable_cursor_replays_rather_than_loses(folder: Path) -> None:
    fill(folder, 3)
    with Spool(folder, LIMIT) as spool:
        take(spool)
    (folder / "cursor").write_text("{not json")
    with Spool(folder, LIMIT) as spool:
        assert drain(spool) == [batch(0), batch(1), batch(2)]


# --- limits -------------------------------------------------------------------------------


def test_max_bytes_refuses_a_batch_and_keeps_the_rest(folder: Path) -> None:
    batches = [batch(n) for n in range(10, 21)]  # records of equal size
    limit = 10 * len(encode_record(batches[0])) + 5
    with Spool(folder, limit, segment_bytes=SEGMENT) as spool:
        for lines in batches[:10]:
            spool.append(lines)
        with pytest.raises(SpoolFullError, match="max_bytes"):
            spool.append(batches[10])
        assert spool.pending_batches == 10
        take(spool)  # room for one more
        spool.append(batches[10])
    with Spool(folder, limit, segment_bytes=SEGMENT) as spool:
        assert drain(spool) == batches[1:]


class FullDisk:
    """A write function that writes part of what it is given, then fails with ENOSPC."""

    def __init__(self, code: int = errno.ENOSPC) -> None:
        self.full = False
        self.code = code

    def __call__(self, fd: int, data: bytes | memoryview) -> int:
        if not self.full:
            return os.write(fd, data)
        os.write(fd, data[: len(data) // 2])
        raise OSError(self.code, os.strerror(self.code))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_full_disk_refuses_a_batch_and_keeps_the_spool_readable(folder: Path, code: int) -> None:
    disk = FullDisk(code)
    with Spool(folder, LIMIT, segment_bytes=SEGMENT, write=disk) as spool:
        for n in range(5):
            spool.append(batch(n))
        sizes = [p.stat().st_size for p in segments(folder)]
        disk.full = True
        with pytest.raises(SpoolFullError, match="disk is full"):
            spool.append(batch(5))
        assert [p.stat().st_size for p in segments(folder)] == sizes  # half a record removed
        assert spool.pending_batches == 5
        first = spool.peek()
        assert first is not None and first.lines == batch(0)
        disk.full = False  # space freed
        spool.append(batch(6))
    with Spool(folder, LIMIT, segment_bytes=SEGMENT) as spool:
        assert spool.recovery.truncated_records == 0
        assert drain(spool) == [batch(n) for n in (0, 1, 2, 3, 4, 6)]


def test_other_write_errors_propagate_and_keep_the_spool_consistent(folder: Path) -> None:
    disk = FullDisk(errno.EIO)
    with Spool(folder, LIMIT, write=disk) as spool:
        spool.append(batch(0))
        disk.full = True
        with pytest.raises(OSError) as caught:
            spool.append(batch(1))
        assert not isinstance(caught.value, SpoolFullError)
        disk.full = False
        spool.append(batch(2))
        assert drain(spool) == [batch(0), batch(2)]


# --- from asyncio, through worker threads ------------------------------------------------


async def test_overlapping_calls_from_threads_are_serialised(folder: Path) -> None:
    with Spool(folder, LIMIT, segment_bytes=4 * SEGMENT) as spool:
        await asyncio.gather(*(asyncio.to_thread(spool.append, batch(n)) for n in range(64)))
        assert spool.pending_batches == 64
        taken = await asyncio.to_thread(lambda: drain(spool))
    assert sorted(taken) == sorted(batch(n) for n in range(64))
