"""Put the folders, the datasource and the dashboards into a running Grafana with grafana-client.

Idempotent: each object is read first and written only when it differs, so a second push writes
nothing. A datasource secret cannot be read back; it is sent again only when Grafana has none
(rotate a token by changing it in Grafana, or delete the datasource and push).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError

from dashboards.catalogue import dashboard_json
from dashboards.datasource import DATASOURCE_NAME
from dashboards.model import Dashboard
from dashboards.provisioning import FOLDER_TITLES, folder_uid

# Fields Grafana adds to a stored dashboard; the rest must equal ours.
STORED_ONLY = ("id", "version")


class PushError(Exception):
    """Grafana holds something that a push must not overwrite."""


@dataclass
class PushReport:
    """What the push did to each object: created, updated or unchanged."""

    actions: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, uid, action)

    def add(self, kind: str, uid: str, action: str) -> None:
        self.actions.append((kind, uid, action))

    @property
    def writes(self) -> int:
        """How many objects were created or updated."""
        return sum(1 for _, _, action in self.actions if action != "unchanged")

    def lines(self) -> list[str]:
        """One line per object, for the command's output."""
        return [f"{kind} {uid}: {action}" for kind, uid, action in self.actions]


def _found(get: Callable[[str], Any], key: str) -> Any:
    """What Grafana answers for ``get(key)``, or None when it answers 404."""
    try:
        return get(key)
    except GrafanaClientError as exc:
        if exc.status_code == 404:
            return None
        raise


def push_folder(api: GrafanaApi, uid: str, title: str, report: PushReport) -> None:
    """Create the folder, or rename it when its title differs."""
    current = _found(api.folder.get_folder, uid)
    if current is None:
        api.folder.create_folder(title, uid=uid)
        report.add("folder", uid, "created")
        return
    if current.get("title") == title:
        report.add("folder", uid, "unchanged")
        return
    api.folder.update_folder(uid, title=title, overwrite=True)
    report.add("folder", uid, "updated")


def _datasource_differs(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    plain = {k: v for k, v in wanted.items() if k not in ("jsonData", "secureJsonData")}
    if any(current.get(k) != v for k, v in plain.items()):
        return True
    json_data = current.get("jsonData") or {}
    if any(json_data.get(k) != v for k, v in wanted["jsonData"].items()):
        return True
    secrets_set = current.get("secureJsonFields") or {}
    return not all(secrets_set.get(k) for k in wanted["secureJsonData"])


def push_datasource(api: GrafanaApi, body: dict[str, Any], report: PushReport) -> None:
    """Create the datasource under its uid, or update it when a setting differs."""
    uid = body["uid"]
    current = _found(api.datasource.get_datasource_by_uid, uid)
    if current is None:
        other = _found(api.datasource.get_datasource_by_name, DATASOURCE_NAME)
        if other is not None:
            raise PushError(
                f"a datasource named {DATASOURCE_NAME!r} exists with uid {other.get('uid')!r},"
                f" not {uid!r}; rename or delete it first"
            )
        api.datasource.create_datasource(body)
        report.add("datasource", uid, "created")
    elif _datasource_differs(current, body):
        api.datasource.update_datasource_by_uid(uid, body)
        report.add("datasource", uid, "updated")
    else:
        report.add("datasource", uid, "unchanged")


def push_dashboard(api: GrafanaApi, model: dict[str, Any], folder: str, report: PushReport) -> None:
    """Save the dashboard into the folder unless Grafana already holds exactly this one there."""
    uid = model["uid"]
    current = _found(api.dashboard.get_dashboard, uid)
    if current is not None:
        stored = {k: v for k, v in current["dashboard"].items() if k not in STORED_ONLY}
        if stored == model and (current.get("meta") or {}).get("folderUid") == folder:
            report.add("dashboard", uid, "unchanged")
            return
    api.dashboard.update_dashboard(
        {
            "dashboard": {**model, "id": None},
            "folderUid": folder,
            "overwrite": True,
            "message": "parktwin dashboards push",
        }
    )
    report.add("dashboard", uid, "created" if current is None else "updated")


def push(
    api: GrafanaApi, datasource: dict[str, Any], boards: Iterable[tuple[str, Dashboard]]
) -> PushReport:
    """Folders (one a language), the datasource, then every dashboard."""
    report = PushReport()
    boards = list(boards)
    for lang in dict.fromkeys(lang for lang, _ in boards):
        push_folder(api, folder_uid(lang), FOLDER_TITLES[lang], report)
    push_datasource(api, datasource, report)
    for lang, board in boards:
        push_dashboard(api, dashboard_json(board, lang), folder_uid(lang), report)
    return report
