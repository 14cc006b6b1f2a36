"""``parktwin dashboards push`` against a double of Grafana's HTTP API: it creates the folders,
the datasource and the dashboards, and a second run reads but writes nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest
from grafana_client import GrafanaApi
from typer.testing import CliRunner

from dashboards.catalogue import dashboards
from dashboards.datasource import DATASOURCE_NAME, DATASOURCE_UID, datasource_body
from dashboards.push import PushError, push
from parktwin.config import load_settings
from programs.cli import app

TOKEN = "grafana-service-account-token"


@dataclass
class GrafanaDouble:
    """The part of Grafana's HTTP API that grafana-client calls for a push, in memory.

    A double, not Grafana: it stores what it is sent and answers as Grafana's API documents.
    """

    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    boards: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] != "GET"]

    def answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = [unquote(p) for p in path.removeprefix("/api/").split("/")]
        match method, parts:
            case "GET", ["folders", uid]:
                return (200, self.folders[uid]) if uid in self.folders else (404, {})
            case "POST", ["folders"]:
                self.folders[body["uid"]] = {
                    "uid": body["uid"],
                    "title": body["title"],
                    "version": 1,
                }
                return 200, self.folders[body["uid"]]
            case "PUT", ["folders", uid]:
                self.folders[uid]["title"] = body["title"]
                return 200, self.folders[uid]
            case "GET", ["datasources", "uid", uid]:
                return (
                    (200, self._public(self.datasources[uid]))
                    if uid in self.datasources
                    else (404, {})
                )
            case "GET", ["datasources", "name", name]:
                found = [d for d in self.datasources.values() if d["name"] == name]
                return (200, self._public(found[0])) if found else (404, {})
            case "POST", ["datasources"]:
                if any(d["name"] == body["name"] for d in self.datasources.values()):
                    return 409, {"message": "data source with the same name already exists"}
                self.datasources[body["uid"]] = body
                return 200, {"datasource": self._public(body), "id": 1}
            case "PUT", ["datasources", "uid", uid]:
                self.datasources[uid] = body
                return 200, {"datasource": self._public(body)}
            case "GET", ["dashboards", "uid", uid]:
                return (200, self.boards[uid]) if uid in self.boards else (404, {})
            case "POST", ["dashboards", "db"]:
                model = body["dashboard"]
                version = self.boards.get(model["uid"], {}).get("dashboard", {}).get("version", 0)
                stored = {**model, "id": 7, "version": version + 1}
                self.boards[model["uid"]] = {
                    "dashboard": stored,
                    "meta": {"folderUid": body["folderUid"]},
                }
                return 200, {"uid": model["uid"], "status": "success", "version": version + 1}
        return 404, {"message": f"the double has no {method} {path}"}

    @staticmethod
    def _public(datasource: dict[str, Any]) -> dict[str, Any]:
        """As Grafana answers: secrets replaced by which of them are set."""
        shown = {k: v for k, v in datasource.items() if k != "secureJsonData"}
        shown["secureJsonFields"] = {k: True for k in datasource.get("secureJsonData", {})}
        return shown


@pytest.fixture
def grafana() -> Iterator[tuple[GrafanaDouble, str]]:
    double = GrafanaDouble()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(401, {"message": "unauthorized"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            path = self.path.split("?")[0]
            double.requests.append((self.command, path))
            self._send(*double.answer(self.command, path, body))

        def _send(self, status: int, data: Any) -> None:
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield double, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


V2 = {
    "PARKTWIN_INFLUX__API": "v2",
    "PARKTWIN_INFLUX__URL": "http://influxdb:8086",
    "PARKTWIN_INFLUX__TOKEN": "influx-secret",
    "PARKTWIN_INFLUX__BUCKET": "park",
}


def run_push(url: str) -> str:
    result = CliRunner().invoke(
        app, ["dashboards", "push", "--url", url, "--token", TOKEN], env=V2, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_a_first_push_creates_everything_and_a_second_writes_nothing(
    grafana: tuple[GrafanaDouble, str],
) -> None:
    double, url = grafana
    first = run_push(url)
    assert set(double.folders) == {"parktwin", "parktwin-zh"}
    assert set(double.boards) == {board.uid for _, board in dashboards()}
    assert {b["meta"]["folderUid"] for u, b in double.boards.items() if u.endswith("-zh")} == {
        "parktwin-zh"
    }
    assert "15 write(s)" in first
    datasource = double.datasources[DATASOURCE_UID]
    assert datasource["database"] == "park"  # database = bucket (DBRP)
    assert datasource["jsonData"]["httpHeaderName1"] == "Authorization"
    assert datasource["secureJsonData"]["httpHeaderValue1"] == "Token influx-secret"
    assert datasource["jsonData"]["version"] == "InfluxQL"
    writes_before = len(double.writes)
    second = run_push(url)
    assert len(double.writes) == writes_before  # the second run only reads
    assert "0 write(s)" in second
    assert double.requests[-1][0] == "GET"


def test_a_dashboard_changed_in_grafana_is_put_back_and_only_it(
    grafana: tuple[GrafanaDouble, str],
) -> None:
    double, url = grafana
    run_push(url)
    double.boards["parktwin-energy"]["dashboard"]["title"] = "edited by hand"
    double.folders["parktwin-zh"]["title"] = "renamed"
    writes_before = len(double.writes)
    run_push(url)
    assert double.writes[writes_before:] == [
        ("PUT", "/api/folders/parktwin-zh"),
        ("POST", "/api/dashboards/db"),
    ]
    assert double.boards["parktwin-energy"]["dashboard"]["title"] == "parktwin · Energy"
    assert double.boards["parktwin-energy"]["dashboard"]["version"] == 2


def test_a_foreign_datasource_with_the_same_name_stops_the_push(
    grafana: tuple[GrafanaDouble, str],
) -> None:
    double, url = grafana
    double.datasources["someone-else"] = {"uid": "someone-else", "name": DATASOURCE_NAME}
    api = GrafanaApi.from_url(url, credential=TOKEN)
    body = datasource_body(load_settings(None).influx)
    with pytest.raises(PushError, match="someone-else"):
        push(api, body, dashboards(("en",)))
    assert double.boards == {}


def test_a_v1_datasource_names_the_database_and_sends_no_header() -> None:
    body = datasource_body(load_settings(None, influx__database="plant").influx)
    assert body["database"] == body["jsonData"]["dbName"] == "plant"
    assert "httpHeaderName1" not in body["jsonData"] and body["secureJsonData"] == {}
