"""A durable on-disk FIFO of line-protocol batches, for when the database is down or slow.

Layout of the folder:

* ``00000000000000000007.seg``: append-only segment files of records
  ``[payload length: u32 LE][crc32 of payload: u32 LE][payload: lines joined by "\\n", UTF-8]``;
  a new segment starts once the current one would grow past ``segment_bytes``;
* ``cursor``: ``{"segment": n, "offset": m}``, where the oldest unconfirmed record starts,
  replaced atomically (temporary file, fsync, rename, fsync of the folder);
* ``lock``: held with ``flock`` while a process has the spool open.

``append`` returns once its record is fsynced. ``peek`` gives the oldest unconfirmed batch and
``confirm`` moves the cursor past it; a segment is deleted once every record in it is
confirmed. A crash between a database write and ``confirm`` replays that batch once more, which
InfluxDB absorbs (a point with the same series and time replaces the earlier one); no crash
loses a batch that ``append`` returned for.

Opening the folder checks every unconfirmed record: a torn or corrupt record (a partial write,
a bad CRC) and everything after it in its segment is cut off, counted in ``recovery`` and logged;
records before it, and later segments, stay readable.

``max_bytes`` bounds the unconfirmed records (headers included); confirmed records wait on disk
until their segment is deleted, which adds at most one segment, and segments are at most a
quarter of ``max_bytes``.

Blocking file I/O: call it from a worker thread (``asyncio.to_thread``). Every method takes an
internal lock, so overlapping calls from several threads are serialised; the ``pending_*``
properties read plain integers without it.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import re
import struct
import threading
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)

DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024
HEADER = struct.Struct("<II")  # payload length, crc32 of payload
MAX_PAYLOAD_BYTES = 2**32 - 1
_SEGMENT_NAME = re.compile(r"^(\d{20})\.seg$")
_CURSOR = "cursor"
_CURSOR_TEMP = "cursor.tmp"
# The cursor file always has this size, so that rewriting it in place on a full disk needs no
# new space (JSON allows the trailing blanks).
_CURSOR_BYTES = 64
_LOCK = "lock"
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)

# os.write's shape; a test passes its own to simulate a full disk mid-record.
WriteFunction = Callable[[int, bytes | memoryview], int]


class SpoolError(Exception):
    """The spool cannot be used as asked (for example: another process has it open)."""


class SpoolFullError(SpoolError):
    """The batch does not fit: ``max_bytes`` would be exceeded, or the disk is full.

    The spool is unchanged: the partial record, if any, was removed.
    """


@dataclass(frozen=True, slots=True)
class SpoolBatch:
    """One spooled batch and where its record lies, so that ``confirm`` can check it."""

    lines: list[str]
    segment: int
    offset: int
    end: int

    @property
    def size(self) -> int:
        """Bytes of its record, header included."""
        return self.end - self.offset


@dataclass(frozen=True, slots=True)
class SpoolRecovery:
    """What opening the spool had to cut off: torn or corrupt tails, and their bytes."""

    truncated_records: int = 0
    dropped_bytes: int = 0


@dataclass(frozen=True, slots=True)
class _ScanResult:
    good_end: int  # offset just past the last good record
    batches: int
    lines: int


def encode_record(lines: Sequence[str]) -> bytes:
    """The bytes of one record holding ``lines`` (which must not contain newlines)."""
    if not lines:
        raise ValueError("spool: an empty batch")
    payload = "\n".join(lines).encode("utf-8")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"spool: a batch of {len(payload)} bytes is too large for one record")
    return HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def _read_record(data: bytes, at: int) -> bytes | None:
    """The payload of the record at ``at`` in ``data``, or None if it is torn or corrupt."""
    if len(data) - at < HEADER.size:
        return None
    length, crc = HEADER.unpack_from(data, at)
    start = at + HEADER.size
    payload = data[start : start + length]
    if len(payload) != length or zlib.crc32(payload) != crc:
        return None
    return payload


def _fsync_folder(folder: Path) -> None:
    # A new, renamed or deleted file is durable only once its folder is synced.
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """The spool in one folder; opening it recovers from a crash (see the module docstring)."""

    def __init__(
        self,
        folder: Path | str,
        max_bytes: int,
        *,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        write: WriteFunction = os.write,
    ) -> None:
        if max_bytes <= HEADER.size:
            raise ValueError(f"spool: max_bytes {max_bytes} is too small")
        self._folder = Path(folder)
        self._max_bytes = max_bytes
        self._segment_bytes = max(1, min(segment_bytes, max_bytes // 4))
        self._write = write
        self._lock = threading.Lock()
        self._folder.mkdir(parents=True, exist_ok=True)
        self._lock_fd: int | None = self._take_folder_lock()
        self._sizes: dict[int, int] = {}  # live segments, oldest first, and their sizes
        self._active_fd: int | None = None  # the newest segment, open for appending
        self._cursor = (0, 0)
        self._persisted: tuple[int, int] | None = None  # the cursor as the file holds it
        self._pending_batches = self._pending_lines = self._pending_bytes = 0
        try:
            self.recovery = self._recover()
        except BaseException:
            self.close()
            raise

    # -- public ---------------------------------------------------------------------------

    @property
    def max_bytes(self) -> int:
        """The most unconfirmed bytes the spool holds."""
        return self._max_bytes

    @property
    def pending_batches(self) -> int:
        """Batches appended and not yet confirmed."""
        return self._pending_batches

    @property
    def pending_lines(self) -> int:
        """Lines in those batches."""
        return self._pending_lines

    @property
    def pending_bytes(self) -> int:
        """Bytes of their records on disk, headers included."""
        return self._pending_bytes

    def append(self, lines: Sequence[str]) -> None:
        """Add a batch at the end; returns once it is on disk (fsynced).

        Raises ``SpoolFullError`` when it would exceed ``max_bytes`` or the disk is full; the
        spool is then unchanged.
        """
        record = encode_record(lines)
        with self._lock:
            self._check_open()
            if len(record) > self._max_bytes:
                raise SpoolFullError(
                    f"a {len(record)}-byte batch can never fit max_bytes={self._max_bytes}"
                )
            if self._pending_bytes + len(record) > self._max_bytes:
                raise SpoolFullError(
                    f"spool holds {self._pending_bytes} bytes; a {len(record)}-byte batch "
                    f"would pass max_bytes={self._max_bytes}"
                )
            fd, segment = self._segment_for(len(record))
            before = self._sizes[segment]
            try:
                self._write_all(fd, record)
                os.fsync(fd)
            except OSError as exc:
                self._undo_append(fd, segment, before)
                if exc.errno in _DISK_FULL:
                    raise SpoolFullError(f"spool disk is full: {exc.strerror}") from exc
                raise
            self._sizes[segment] = before + len(record)
            self._pending_batches += 1
            self._pending_lines += len(lines)
            self._pending_bytes += len(record)

    def peek(self) -> SpoolBatch | None:
        """The oldest unconfirmed batch, or None when everything is confirmed."""
        with self._lock:
            self._check_open()
            while True:
                segment, offset = self._cursor
                size = self._sizes.get(segment, 0)
                if offset >= size:
                    return None
                with (self._folder / f"{segment:020d}.seg").open("rb") as file:
                    file.seek(offset)
                    head = file.read(HEADER.size)
                    length = HEADER.unpack(head)[0] if len(head) == HEADER.size else 0
                    data = head + file.read(length)
                payload = _read_record(data, 0)
                if payload is not None:
                    lines = payload.decode("utf-8").split("\n")
                    return SpoolBatch(lines, segment, offset, offset + len(data))
                self._skip_damaged_segment(segment, offset)

    def confirm(self, batch: SpoolBatch) -> None:
        """Mark ``batch`` (the one ``peek`` gave) as stored; durable when this returns."""
        with self._lock:
            self._check_open()
            if (batch.segment, batch.offset) != self._cursor:
                raise ValueError(
                    f"spool: confirm of the batch at {batch.segment}:{batch.offset}, "
                    f"but the oldest is at {self._cursor[0]}:{self._cursor[1]}"
                )
            self._move_cursor((batch.segment, batch.end))
            self._pending_batches -= 1
            self._pending_lines -= len(batch.lines)
            self._pending_bytes -= batch.size

    def close(self) -> None:
        """Release the files and the folder lock. Idempotent."""
        with self._lock:
            if self._active_fd is not None:
                os.close(self._active_fd)
                self._active_fd = None
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # also releases the flock
                self._lock_fd = None

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- opening and recovery -------------------------------------------------------------

    def _take_folder_lock(self) -> int:
        fd = os.open(self._folder / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SpoolError(f"spool {self._folder} is open in another process") from None
        return fd

    def _check_open(self) -> None:
        if self._lock_fd is None:
            raise SpoolError("spool is closed")

    def _segment_path(self, segment: int) -> Path:
        return self._folder / f"{segment:020d}.seg"

    def _read_cursor(self) -> tuple[int, int] | None:
        try:
            data = json.loads((self._folder / _CURSOR).read_text(encoding="utf-8"))
            cursor = (int(data["segment"]), int(data["offset"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # Replaying confirmed batches is safe; losing unconfirmed ones is not.
            log.warning("spool %s: unreadable cursor (%s); replaying from the start", self, exc)
            return None
        return cursor if cursor[0] >= 0 and cursor[1] >= 0 else None

    def _recover(self) -> SpoolRecovery:
        (self._folder / _CURSOR_TEMP).unlink(missing_ok=True)
        segments = sorted(
            int(m.group(1)) for p in self._folder.iterdir() if (m := _SEGMENT_NAME.match(p.name))
        )
        cursor = self._persisted = self._read_cursor()
        if cursor is None:
            cursor = (segments[0], 0) if segments else (0, 0)
        for segment in [s for s in segments if s < cursor[0]]:
            # Confirmed, but the crash came before its deletion.
            self._segment_path(segment).unlink(missing_ok=True)
            segments.remove(segment)
        if segments and segments[0] > cursor[0]:
            cursor = (segments[0], 0)
        truncated = dropped = 0
        for segment in segments:
            path = self._segment_path(segment)
            size = path.stat().st_size
            start = min(cursor[1], size) if segment == cursor[0] else 0
            result = self._scan(path, start)
            if result.good_end < size:
                truncated += 1
                dropped += size - result.good_end
                log.warning(
                    "spool %s: cut a torn or corrupt record at byte %d of %s (%d bytes dropped)",
                    self._folder,
                    result.good_end,
                    path.name,
                    size - result.good_end,
                )
                self._truncate(path, result.good_end)
            self._sizes[segment] = result.good_end
            self._pending_batches += result.batches
            self._pending_lines += result.lines
            self._pending_bytes += result.good_end - start
        self._cursor = (cursor[0], min(cursor[1], self._sizes.get(cursor[0], 0)))
        if segments:
            self._active_fd = os.open(self._segment_path(segments[-1]), os.O_WRONLY | os.O_APPEND)
        self._move_cursor(self._cursor)
        return SpoolRecovery(truncated, dropped)

    @staticmethod
    def _scan(path: Path, start: int) -> _ScanResult:
        """Check the records of one segment from ``start``; stop at the first bad one."""
        at, batches, lines = start, 0, 0
        with path.open("rb") as file:
            file.seek(start)
            while True:
                head = file.read(HEADER.size)
                if len(head) < HEADER.size:
                    break
                payload = _read_record(head + file.read(HEADER.unpack(head)[0]), 0)
                if payload is None:
                    break
                at += HEADER.size + len(payload)
                batches += 1
                lines += payload.count(b"\n") + 1
        return _ScanResult(at, batches, lines)

    @staticmethod
    def _truncate(path: Path, size: int) -> None:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.ftruncate(fd, size)
            os.fsync(fd)
        finally:
            os.close(fd)

    # -- appending ------------------------------------------------------------------------

    def _segment_for(self, record_bytes: int) -> tuple[int, int]:
        """The fd and number of the segment the next record goes to, starting one if needed."""
        newest = next(reversed(self._sizes), None)
        if (
            self._active_fd is not None
            and newest is not None
            and (
                self._sizes[newest] == 0
                or self._sizes[newest] + record_bytes <= self._segment_bytes
            )
        ):
            return self._active_fd, newest
        segment = self._cursor[0] if newest is None else newest + 1
        path = self._segment_path(segment)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
            _fsync_folder(self._folder)
        except OSError as exc:
            path.unlink(missing_ok=True)
            if exc.errno in _DISK_FULL:
                raise SpoolFullError(f"spool disk is full: {exc.strerror}") from exc
            raise
        if self._active_fd is not None:
            os.close(self._active_fd)
        self._active_fd = fd
        self._sizes[segment] = 0
        self._move_cursor(self._cursor)  # a drained older segment can go now
        return fd, segment

    def _write_all(self, fd: int, record: bytes) -> None:
        view = memoryview(record)
        while view:
            written = self._write(fd, view)
            view = view[written:]

    def _undo_append(self, fd: int, segment: int, size: int) -> None:
        """Cut a partly written record off, so that the segment ends on a whole record."""
        try:
            os.ftruncate(fd, size)
            os.fsync(fd)
        except OSError as exc:
            # The reader will meet the torn bytes and skip them; appends go to a new segment.
            log.error("spool %s: cannot remove a partial record: %s", self._folder, exc)
            os.close(fd)
            self._active_fd = None

    # -- the cursor -----------------------------------------------------------------------

    def _move_cursor(self, cursor: tuple[int, int]) -> None:
        """Set the cursor (past drained segments), persist it, then delete those segments.

        Nothing changes in memory when persisting fails, so the caller may simply retry.
        """
        segment, offset = cursor
        drained = []
        for later in self._sizes:
            if later > segment and offset >= self._sizes.get(segment, 0):
                drained.append(segment)
                segment, offset = later, 0
        if (segment, offset) != self._persisted:
            self._write_cursor((segment, offset))
            self._persisted = (segment, offset)
        self._cursor = (segment, offset)
        for old in drained:
            self._sizes.pop(old, None)
            self._segment_path(old).unlink(missing_ok=True)

    def _write_cursor(self, cursor: tuple[int, int]) -> None:
        temp = self._folder / _CURSOR_TEMP
        data = json.dumps({"segment": cursor[0], "offset": cursor[1]}).encode()
        data = data.ljust(_CURSOR_BYTES)
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                self._write_all(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            if exc.errno not in _DISK_FULL:
                raise
            # A full disk must not stop confirming: that is what frees the disk (drained
            # segments go once the cursor has passed them). A write torn by a crash leaves an
            # unreadable cursor, and the spool then replays from the start: safe.
            self._overwrite_cursor(data)
            return
        os.replace(temp, self._folder / _CURSOR)
        _fsync_folder(self._folder)

    def _overwrite_cursor(self, data: bytes) -> None:
        fd = os.open(self._folder / _CURSOR, os.O_WRONLY)
        try:
            os.pwrite(fd, data, 0)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _skip_damaged_segment(self, segment: int, offset: int) -> None:
        """Give up the rest of a segment whose record at ``offset`` is unreadable."""
        log.error(
            "spool %s: record at byte %d of segment %d is unreadable; skipping the rest of it",
            self._folder,
            offset,
            segment,
        )
        newest = next(reversed(self._sizes))
        if segment == newest and self._active_fd is not None:
            os.close(self._active_fd)  # later appends start a new segment
            self._active_fd = None
        self._sizes[segment] = offset
        self._truncate(self._segment_path(segment), offset)
        self._pending_batches = self._pending_lines = self._pending_bytes = 0
        for later in self._sizes:
            if later > segment:
                result = self._scan(self._segment_path(later), 0)
                self._pending_batches += result.batches
                self._pending_lines += result.lines
                self._pending_bytes += result.good_end
        self._move_cursor(self._cursor)
