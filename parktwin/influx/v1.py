"""Writer for the InfluxDB v1 ``/write`` endpoint, through aiohttp.

``/write?db=&rp=&precision=ms`` works on every 1.x (Debian ships 1.6, which predates the
``/api/v2/write`` compatibility endpoint of 1.8) and on 2.x/3.x through their v1 compatibility
API. A 1.x server answers a partial write (say, a field type conflict) with 400 after storing
the good points: that is reported as not retryable, with the server's message.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Sequence

import aiohttp

from parktwin.config import InfluxSettings
from parktwin.influx.writer import (
    WriteError,
    is_retryable_status,
    parse_retry_after,
    redact,
    transport_error,
)

log = logging.getLogger(__name__)


def _server_message(status: int, body: str) -> str:
    # 1.x answers errors as {"error": "..."}; proxies in front of it may answer plain text.
    try:
        message = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        message = body.strip()
    return f"HTTP {status}: {message or 'no message'}"


def quote_identifier(name: str) -> str:
    """An InfluxQL identifier in double quotes, for names with any characters."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def basic_auth(username: str, password: str) -> str:
    """The Authorization header value for HTTP basic authentication (RFC 7617, UTF-8)."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


class InfluxV1Writer:
    """``PointWriter`` for the v1 API; one aiohttp session, opened on first use."""

    def __init__(self, settings: InfluxSettings) -> None:
        self._base_url = settings.url.rstrip("/")
        params = {"db": settings.database, "precision": "ms"}
        if settings.retention_policy:
            params["rp"] = settings.retention_policy
        self._write_params = params
        self._database = settings.database
        self._create_database = settings.create_database
        password = settings.password.get_secret_value() if settings.password else ""
        authorization = basic_auth(settings.username, password) if settings.username else ""
        self._headers = {"Authorization": authorization} if authorization else {}
        # The encoded header too: it is the password in base64.
        self._secrets = tuple(s for s in (password, authorization) if s)
        self._timeout_s = settings.timeout_s
        self._session: aiohttp.ClientSession | None = None

    def _open_session(self) -> aiohttp.ClientSession:
        # Created lazily: an aiohttp session belongs to the running event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout_s), headers=self._headers
            )
        return self._session

    async def _post(
        self, path: str, params: dict[str, str], body: bytes
    ) -> tuple[int, str, float | None]:
        """POST; (status, body text, Retry-After). Transport failures raise retryable errors."""
        session = self._open_session()
        try:
            # The session timeout covers each phase; this one bounds the whole exchange.
            async with (
                asyncio.timeout(self._timeout_s),
                session.post(f"{self._base_url}{path}", params=params, data=body) as response,
            ):
                text = await response.text(errors="replace")
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                return response.status, text, retry_after
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise transport_error(exc, f"InfluxDB {path}", self._timeout_s, self._secrets) from None

    async def write(self, lines: Sequence[str]) -> None:
        """Write the lines in one request; raises ``WriteError``."""
        if not lines:
            return
        body = "\n".join(lines).encode("utf-8")
        status, text, retry_after = await self._post("/write", self._write_params, body)
        if status < 300:
            return
        message = redact(_server_message(status, text), self._secrets)
        raise WriteError(
            f"InfluxDB write refused: {message}",
            retryable=is_retryable_status(status),
            status=status,
            retry_after_s=retry_after,
        )

    async def ensure_target(self) -> None:
        """``CREATE DATABASE`` when the settings allow it (it is a no-op if it exists).

        A user without the admin privilege may still write to an existing database, so a
        refusal is logged and not raised; unreachable servers raise a retryable ``WriteError``.
        """
        if not self._create_database:
            return
        query = f"CREATE DATABASE {quote_identifier(self._database)}"
        status, text, _ = await self._post("/query", {"q": query}, b"")
        error = None
        if status < 300:
            try:
                results = json.loads(text).get("results", [])
                error = next((r["error"] for r in results if "error" in r), None)
            except (ValueError, AttributeError, TypeError):
                error = None
        else:
            error = _server_message(status, text)
        if error is None:
            return
        error = redact(str(error), self._secrets)
        if status in (401, 403) or "privilege" in error or "authoriz" in error:
            log.warning("cannot create InfluxDB database %r: %s", self._database, error)
            return
        raise WriteError(
            f"CREATE DATABASE {self._database!r} failed: {error}",
            retryable=is_retryable_status(status),
            status=status,
        )

    async def aclose(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None
