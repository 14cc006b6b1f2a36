"""InfluxQL queries over HTTP ``/query``: answered by InfluxDB 1.x, by 2.x through its DBRP
mapping (database = bucket, token in the Authorization header) and by 3.x."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from parktwin.config import InfluxApi, InfluxSettings


class QueryError(Exception):
    """The server refused the query or could not be reached."""


class DatabaseMissing(QueryError):
    """The database does not exist: nothing has been written to it yet (a first start)."""


@dataclass(frozen=True, slots=True)
class Series:
    """One series of a result: name, tags, column names and rows (time in epoch ms)."""

    name: str
    tags: dict[str, str]
    columns: list[str]
    values: list[list[Any]]


def auth_for(settings: InfluxSettings) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and query parameters that authenticate a /query or /write request."""
    headers: dict[str, str] = {}
    params: dict[str, str] = {}
    if settings.api is InfluxApi.V2:
        if settings.token is not None:
            headers["Authorization"] = f"Token {settings.token.get_secret_value()}"
        params["db"] = settings.bucket
    else:
        params["db"] = settings.database
        if settings.retention_policy:
            params["rp"] = settings.retention_policy
        if settings.username:
            params["u"] = settings.username
            params["p"] = settings.password.get_secret_value() if settings.password else ""
    return headers, params


async def query(
    session: aiohttp.ClientSession, settings: InfluxSettings, influxql: str
) -> list[Series]:
    """Run one InfluxQL statement and return its series (empty when nothing matched)."""
    headers, params = auth_for(settings)
    params |= {"q": influxql, "epoch": "ms"}
    timeout = aiohttp.ClientTimeout(total=settings.timeout_s)
    try:
        async with session.get(
            f"{settings.url.rstrip('/')}/query", params=params, headers=headers, timeout=timeout
        ) as response:
            body = await response.read()
            if response.status != 200:
                raise QueryError(f"HTTP {response.status}: {body[:200]!r}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise QueryError(f"{type(exc).__name__}: {exc}") from None
    result = orjson.loads(body)["results"][0]
    if "error" in result:
        error = str(result["error"])
        # InfluxDB 1.x's answer for a database never created: normal before the first write.
        if error.startswith("database not found"):
            raise DatabaseMissing(error)
        raise QueryError(error)
    return [
        Series(s["name"], s.get("tags", {}), s["columns"], s["values"])
        for s in result.get("series", [])
    ]
