"""Secrets that may come from a file, as Docker and Kubernetes secrets do."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr


def secret_from_file(value: SecretStr | None, file: Path | None, name: str) -> SecretStr | None:
    """``value`` when given, else the stripped content of ``file``; the error names the field."""
    if value is not None or file is None:
        return value
    try:
        return SecretStr(file.read_text(encoding="utf-8").strip())
    except OSError as exc:
        raise ValueError(f"{name}_file {file}: {exc.strerror}") from None
