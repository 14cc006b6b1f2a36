"""Service configuration: MQTT, InfluxDB, spool and collector tuning.

Read from a TOML file (``--config``), then from the environment (``PARKTWIN_MQTT__HOST``,
``PARKTWIN_INFLUX__TOKEN``...), then from command-line flags. Secrets are ``SecretStr`` so that
they never print; each can also come from a file (``token_file``), as Docker secrets do.
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from parktwin.alert_settings import AlertServiceSettings
from parktwin.report_settings import ReportSettings
from parktwin.secret_files import secret_from_file


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TlsSettings(Section):
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False  # skip host name check; for test certificates only


# The largest MQTT packet the brokers we ship accept and our clients take (assumed: a device's
# telemetry message is a few kB; 1 MiB leaves room for batches and Sparkplug B births).
MAX_PACKET_SIZE_BYTES = 1024**2


class MqttSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    tls: TlsSettings | None = None
    client_id: str = "parktwin-collector"
    # Several collector processes with the same group split the stream (MQTT v5 $share).
    shared_group: str | None = None
    qos: Literal[0, 1, 2] = 1
    session_expiry_s: int = Field(default=7 * 24 * 3600, ge=0)
    keepalive_s: int = Field(default=30, ge=5)
    # Unacknowledged messages the broker may send us at once (MQTT v5 Receive Maximum).
    receive_maximum: int = Field(default=20000, ge=1, le=65535)
    # The largest packet the broker may send us (MQTT v5 Maximum Packet Size): it drops larger
    # messages for us instead of stalling the stream (assumed: telemetry is far below 1 MiB).
    # Brokers we ship set the same max_packet_size for what they accept (deploy/mosquitto).
    max_packet_size_bytes: int = Field(default=MAX_PACKET_SIZE_BYTES, ge=128, le=268_435_460)
    # Topic aliases the broker may use towards us (MQTT v5 Topic Alias Maximum; 0: none).
    topic_alias_maximum: int = Field(default=0, ge=0, le=65535)

    @model_validator(mode="after")
    def _password_file(self) -> MqttSettings:
        self.password = secret_from_file(self.password, self.password_file, "password")
        return self


class InfluxApi(StrEnum):
    V1 = "v1"
    V2 = "v2"


class InfluxSettings(Section):
    api: InfluxApi = InfluxApi.V1
    url: str = "http://127.0.0.1:8086"
    # v2 (InfluxDB 2.x, 3.x, or any server taking /api/v2/write)
    token: SecretStr | None = None
    token_file: Path | None = None
    org: str = "parktwin"
    bucket: str = "parktwin"
    # v1 (InfluxDB 1.x /write, or 2.x/3.x through their v1 compatibility)
    database: str = "parktwin"
    retention_policy: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    create_database: bool = True  # v1 only: CREATE DATABASE at start when it is missing
    timeout_s: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _secret_files(self) -> InfluxSettings:
        self.token = secret_from_file(self.token, self.token_file, "token")
        self.password = secret_from_file(self.password, self.password_file, "password")
        return self


class SpoolSettings(Section):
    folder: Path = Path("var/spool")
    max_bytes: int = Field(default=2 * 1024**3, ge=1024**2)


class CollectorSettings(Section):
    batch_lines: int = Field(default=5000, ge=1)
    flush_interval_s: float = Field(default=0.5, gt=0)
    # Batches waiting for the writer; beyond this the consumer stops reading (back-pressure).
    max_pending_batches: int = Field(default=8, ge=1)
    max_payload_bytes: int = Field(default=64 * 1024, ge=256)
    # Event time must fall within [earliest_ts_ms, arrival + max_future_s].
    earliest_ts_ms: int = 946_684_800_000  # 2000-01-01T00:00:00Z
    max_future_s: float = Field(default=300.0, ge=0)
    retry_initial_s: float = Field(default=0.5, gt=0)
    retry_max_s: float = Field(default=30.0, gt=0)
    shutdown_timeout_s: float = Field(default=30.0, gt=0)


class ApiSettings(Section):
    """The twin's read-only HTTP API."""

    host: str = "127.0.0.1"  # loopback unless a deployment opens it on purpose
    port: int = Field(default=8080, ge=0, le=65535)
    token: SecretStr | None = None
    token_file: Path | None = None

    @model_validator(mode="after")
    def _token_file(self) -> ApiSettings:
        self.token = secret_from_file(self.token, self.token_file, "token")
        return self


class TwinServiceSettings(Section):
    """How the twin service runs (the twin's factors are in the park file's ``twin:``)."""

    client_id: str = "parktwin-twin"
    tick_s: float = Field(default=5.0, gt=0)  # wall seconds between KPI outputs
    checkpoint_folder: Path = Path("var/twin")
    # The twin acknowledges messages once a checkpoint holds them: this bounds the replay.
    checkpoint_interval_s: float = Field(default=5.0, gt=0)
    max_unacknowledged: int = Field(default=10000, ge=1)
    rebuild_from_history: bool = True  # without a checkpoint, seed totals with InfluxQL


class Settings(BaseSettings):
    """Everything a parktwin process needs besides the park file."""

    model_config = SettingsConfigDict(
        env_prefix="PARKTWIN_", env_nested_delimiter="__", extra="forbid"
    )

    park_file: Path | None = None
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    influx: InfluxSettings = Field(default_factory=InfluxSettings)
    spool: SpoolSettings = Field(default_factory=SpoolSettings)
    collector: CollectorSettings = Field(default_factory=CollectorSettings)
    twin: TwinServiceSettings = Field(default_factory=TwinServiceSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    alerts: AlertServiceSettings = Field(default_factory=AlertServiceSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file, so a deployment can override one value.
        return env_settings, init_settings


class ConfigError(Exception):
    """A configuration file or value that cannot be used; the message names file and field."""


def load_settings(file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from an optional TOML file, the environment, then explicit overrides."""
    data: dict[str, Any] = {}
    if file is not None:
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{file}: cannot read: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: {exc}") from None
    for dotted, value in overrides.items():
        if value is None:
            continue
        section, _, key = dotted.partition("__")
        if key:
            data.setdefault(section, {})[key] = value
        else:
            data[section] = value
    try:
        return Settings(**data)
    except ValidationError as exc:
        where = str(file) if file is not None else "configuration"
        lines = [
            f"{where}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors(include_url=False)
        ]
        raise ConfigError("\n".join(lines)) from None
