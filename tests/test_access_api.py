"""The twin's HTTP API: on loopback unless told otherwise, a bearer token on every route but
/healthz when one is set, and nothing but GET. A real twin service on real servers."""

from __future__ import annotations

import asyncio
import socket
import uuid
from pathlib import Path

import aiohttp
import pytest
from conftest import InfluxDatabase, Mosquitto
from helpers import small_park, twin_settings, wait_until

from parktwin.config import ApiSettings
from twin.service.http_api import build_app
from twin.service.service import TwinService

pytestmark = pytest.mark.integration

TOKEN = "api-T0ken-5e1d"
ROUTES = ("/api/state", "/api/kpis", "/api/enterprises", "/metrics")  # 200 once there is state


def get_paths(service: TwinService) -> list[str]:
    """Every fixed GET path the service's API has, /healthz aside: routes added later too."""
    app = build_app(service, service.registry, TOKEN)
    paths = {r.resource.canonical for r in app.router.routes() if r.method == "GET" and r.resource}
    return sorted(p for p in paths - {"/healthz"} if "{" not in p)


def outside_address() -> str | None:
    """An address of this machine other than loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_the_api_listens_on_loopback_unless_configured_otherwise() -> None:
    assert ApiSettings().host == "127.0.0.1"
    assert ApiSettings().token is None


async def test_the_api_wants_its_token_except_for_health_and_is_read_only(
    mosquitto: Mosquitto, influxdb: InfluxDatabase, tmp_path: Path
) -> None:
    park = small_park(f"p{uuid.uuid4().hex[:8]}")
    settings = twin_settings(
        mosquitto, influxdb, tmp_path, twin__rebuild_from_history=False, api__token=TOKEN
    )
    service = TwinService(park, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await wait_until(lambda: service.stats.ticks > 0 or task.done(), 30)
        assert service.api_url is not None
        assert service.api_url.startswith("http://127.0.0.1:")
        port = int(service.api_url.rsplit(":", 1)[1])
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        async with aiohttp.ClientSession(service.api_url) as http:
            async with http.get("/healthz") as response:
                assert response.status == 200
            paths = get_paths(service)
            assert set(ROUTES) <= set(paths)
            for route in paths:
                for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                    async with http.get(route, headers=headers) as response:
                        assert response.status == 401, (route, headers)
                async with http.get(route, headers=bearer) as response:
                    assert response.status == 200 if route in ROUTES else response.status != 401
                for method in ("POST", "PUT", "DELETE", "PATCH"):
                    async with http.request(method, route, headers=bearer) as response:
                        assert response.status == 405, (method, route)
        address = outside_address()
        if address is not None:  # not reachable from another interface
            with pytest.raises(OSError):
                socket.create_connection((address, port), timeout=2).close()
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
