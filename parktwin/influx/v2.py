"""Writer for the InfluxDB v2 API (``/api/v2/write``) through influxdb-client's async client.

Serves InfluxDB 2.x, 3.x and anything else taking v2 writes (VictoriaMetrics, for one). The
token goes only into the client's Authorization header; every message we build is scrubbed of
it, and the client's own exceptions are not chained, since their text includes HTTP headers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import aiohttp
from influxdb_client import WritePrecision
from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.client.influxdb_client_async import InfluxDBClientAsync
from influxdb_client.client.write_api_async import WriteApiAsync

from parktwin.config import InfluxSettings
from parktwin.influx.writer import (
    WriteError,
    is_retryable_status,
    parse_retry_after,
    redact,
    transport_error,
)


def _error_text(exc: InfluxDBError) -> str:
    message = exc.message
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return str(message).strip() or "no message"


class InfluxV2Writer:
    """``PointWriter`` for the v2 API; the client (and its session) is opened on first use."""

    def __init__(self, settings: InfluxSettings, *, gzip: bool = False) -> None:
        self._url = settings.url
        self._token = settings.token.get_secret_value() if settings.token else None
        self._org = settings.org
        self._bucket = settings.bucket
        self._timeout_s = settings.timeout_s
        self._gzip = gzip
        self._secrets = (self._token,) if self._token else ()
        self._client: InfluxDBClientAsync | None = None
        self._write_api: WriteApiAsync | None = None

    def _open_write_api(self) -> WriteApiAsync:
        # Created lazily: the client's aiohttp session belongs to the running event loop.
        if self._client is None or self._write_api is None:
            self._client = InfluxDBClientAsync(
                url=self._url,
                token=self._token or "",  # empty: no Authorization header
                org=self._org,
                timeout=int(self._timeout_s * 1000),
                enable_gzip=self._gzip,
            )
            self._write_api = self._client.write_api()
        return self._write_api

    async def write(self, lines: Sequence[str]) -> None:
        """Write the lines in one request with millisecond precision; raises ``WriteError``."""
        if not lines:
            return
        write_api = self._open_write_api()
        body = "\n".join(lines)
        try:
            # The client's timeout covers the request; this one bounds the whole call.
            async with asyncio.timeout(self._timeout_s):
                await write_api.write(
                    bucket=self._bucket,
                    org=self._org,
                    record=body,
                    write_precision=WritePrecision.MS,  # type: ignore[arg-type]  # a plain str
                )
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise transport_error(exc, "InfluxDB write", self._timeout_s, self._secrets) from None
        except InfluxDBError as exc:
            status = getattr(exc, "status", None)
            message = redact(_error_text(exc), self._secrets)
            if not isinstance(status, int):
                raise WriteError(f"InfluxDB write failed: {message}", retryable=True) from None
            raise WriteError(
                f"InfluxDB write refused: HTTP {status}: {message}",
                retryable=is_retryable_status(status),
                status=status,
                retry_after_s=parse_retry_after(exc.retry_after),
            ) from None

    async def ensure_target(self) -> None:
        """Nothing to do: v2 buckets are created by their owner, not by a writer's token."""

    async def aclose(self) -> None:
        """Close the client and its HTTP session."""
        if self._client is not None:
            await self._client.close()
            self._client = self._write_api = None
