"""The files Grafana loads: dashboards as JSON under ``json/<lang>/`` and provisioning YAML,
rendered from the builder; written by ``parktwin dashboards export`` and checked by a test."""

from __future__ import annotations

import json
from pathlib import Path

from dashboards.catalogue import dashboard_json, dashboards
from dashboards.i18n import LANGUAGES
from dashboards.provisioning import dashboards_file, datasource_file

PACKAGE_DIR = Path(__file__).resolve().parent


def rendered(languages: tuple[str, ...] = LANGUAGES) -> dict[Path, str]:
    """Relative path → file text, for every file the export writes."""
    files = {
        Path(f"json/{lang}/{board.uid}.json"): json.dumps(
            dashboard_json(board, lang), indent=2, ensure_ascii=False
        )
        + "\n"
        for lang, board in dashboards(languages)
    }
    files[Path("provisioning/datasources/parktwin.yaml")] = datasource_file()
    files[Path("provisioning/dashboards/parktwin.yaml")] = dashboards_file()
    return files


def write(out: Path, languages: tuple[str, ...] = LANGUAGES) -> list[Path]:
    """Write the files under ``out``; return those whose content changed."""
    changed = []
    for relative, text in rendered(languages).items():
        path = out / relative
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        changed.append(path)
    return changed


def stale(out: Path = PACKAGE_DIR) -> list[Path]:
    """Files under ``out`` that differ from what the builder renders now (or are missing)."""
    return [
        relative
        for relative, text in rendered().items()
        if not (out / relative).exists() or (out / relative).read_text(encoding="utf-8") != text
    ]
