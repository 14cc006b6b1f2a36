"""Where alerts go: the ``[alerts]`` section of the service settings.

Receiver URLs and secrets are ``SecretStr`` (a chat robot's URL carries its access token), can
come from files or the environment (``PARKTWIN_ALERTS__RECEIVERS__OPS__SECRET``) and are never
printed or logged: logs name a receiver by its key only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from parktwin.park.alerts import Severity
from parktwin.secret_files import secret_from_file

Format = Literal["generic", "dingtalk", "wecom", "feishu", "slack"]
ReceiverName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]

DASHBOARD_PLACEHOLDERS = {
    "park": "p",
    "place": "p",
    "rule": "r",
    "fingerprint": "f",
    "from_ms": 0,
    "to_ms": 0,
}


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReceiverSettings(Section):
    """One webhook receiver: a generic JSON endpoint or a chat robot."""

    format: Format = "generic"
    url: SecretStr | None = None
    url_file: Path | None = None
    # generic: HMAC-SHA256 key; dingtalk and feishu: the robot's signing secret ("加签").
    secret: SecretStr | None = None
    secret_file: Path | None = None
    min_severity: Severity = "info"
    rules: list[str] = Field(default_factory=list)  # alert names to send; empty: all
    timeout_s: float = Field(default=10.0, gt=0)  # the whole request: connect, send, answer
    # DingTalk and WeCom robots accept 20 messages a minute; a burst above the rate waits.
    rate_per_minute: float = Field(default=20.0, gt=0)
    burst: int = Field(default=5, ge=1)
    retry_initial_s: float = Field(default=1.0, gt=0)
    retry_max_s: float = Field(default=300.0, gt=0)
    # After this long a delivery is set aside in the outbox's failed/ folder (and logged).
    give_up_after_s: float = Field(default=3 * 86400.0, gt=0)

    @model_validator(mode="after")
    def _secrets_and_url(self) -> ReceiverSettings:
        self.url = secret_from_file(self.url, self.url_file, "url")
        self.secret = secret_from_file(self.secret, self.secret_file, "secret")
        if self.url is None:
            raise ValueError("a receiver needs url or url_file")
        if not self.url.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return self


class AlertServiceSettings(Section):
    """How alerts are kept and delivered (the rules themselves are in the park file)."""

    enabled: bool = True
    # Engine state (learnt profiles, alert lifecycle) and the outbox, one folder per park.
    folder: Path = Path("var/alerts")
    # Link in every message, a template: {park} {place} {rule} {fingerprint} {from_ms} {to_ms}.
    # e.g. "https://grafana.example/d/parktwin-alerts?var-park={park}&from={from_ms}&to={to_ms}"
    dashboard_url: str | None = None
    write_influx: bool = True  # measurement ``alerts``, for Grafana annotations
    receivers: dict[ReceiverName, ReceiverSettings] = Field(default_factory=dict)
    # Engine state is saved at every alert transition and at least this often (wall seconds).
    state_interval_s: float = Field(default=60.0, gt=0)

    @field_validator("dashboard_url")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                value.format_map(DASHBOARD_PLACEHOLDERS)
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(f"dashboard_url: unknown placeholder {exc}") from None
        return value
