"""One small interface for writing line protocol to InfluxDB, whatever its API version.

The collector only needs to know whether a failed write is worth retrying: timeouts, connection
failures, HTTP 429 and 5xx are; other 4xx (a bad line, a missing database, a refused token) are
not, and the caller must set the batch aside instead of retrying it forever.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol


class WriteError(Exception):
    """A write (or target check) that failed; ``retryable`` says whether trying again may help."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status  # the HTTP status, None when no answer came
        self.retry_after_s = retry_after_s  # the server's Retry-After, when it sent one


class PointWriter(Protocol):
    """Writes batches of line-protocol lines (millisecond timestamps) to one target."""

    async def write(self, lines: Sequence[str]) -> None:
        """Store the lines; raises ``WriteError``."""
        ...

    async def ensure_target(self) -> None:
        """Make sure the target exists (v1: CREATE DATABASE when allowed; v2: nothing)."""
        ...

    async def aclose(self) -> None:
        """Release connections; the writer is unusable afterwards."""
        ...


def is_retryable_status(status: int) -> bool:
    """Whether an HTTP error status may go away by itself: 429 (too many requests) and 5xx."""
    return status == 429 or status >= 500


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds; None for absent or HTTP-date forms."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def redact(text: str, secrets: Iterable[str]) -> str:
    """The text with every secret replaced, for messages that may echo a request."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def transport_error(
    exc: BaseException, what: str, timeout_s: float, secrets: Iterable[str]
) -> WriteError:
    """The retryable error for a request that got no answer: a timeout or a connection failure."""
    if isinstance(exc, TimeoutError):
        return WriteError(f"{what} timed out after {timeout_s:g} s", retryable=True)
    return WriteError(
        redact(f"{what} failed: {type(exc).__name__}: {exc}", secrets), retryable=True
    )
