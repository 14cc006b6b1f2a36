"""The ``parktwin`` command line."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from parktwin.config import Settings
from parktwin.park.model import Park
from programs.dashboards import dashboards_app
from programs.demo import DEFAULT_RESOLUTION_S
from programs.history import backfill_command, demo_db_command, import_csv_command
from programs.loading import fail as _fail
from programs.loading import load as _load
from programs.loading import setup_logging as _setup_logging

app = typer.Typer(
    help="parktwin: smart-park digital twin and IoT monitoring.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(dashboards_app, name="dashboards")

ParkOption = Annotated[
    Path | None, typer.Option("--park", help="Park file (YAML); default: the bundled demo park.")
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Service settings (TOML); env PARKTWIN_* wins.")
]
BrokerOption = Annotated[
    str | None, typer.Option("--broker", help="MQTT broker as host:port (overrides settings).")
]
DurationOption = Annotated[
    float | None, typer.Option("--duration", help="Stop after this many seconds.", min=0)
]
LogLevelOption = Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING, ERROR.")]


def _broker_overrides(broker: str | None) -> dict[str, Any]:
    if broker is None:
        return {}
    host, _, port = broker.rpartition(":")
    if not host or not port.isdigit():
        raise _fail(f"--broker: expected host:port, got {broker!r}")
    return {"mqtt__host": host, "mqtt__port": int(port)}


@app.command("check-config")
def check_config(park: ParkOption = None, config: ConfigOption = None) -> None:
    """Validate a park file and the service settings, and summarise the park."""
    loaded, settings = _load(park, config)
    kinds = Counter(d.kind.value for d in loaded.devices)
    typer.echo(
        f"park {loaded.park.id} ({loaded.park.name}), timezone {loaded.park.timezone}: "
        f"{len(loaded.zones)} zones, {len(loaded.buildings)} buildings, "
        f"{len(loaded.enterprises)} enterprises, {len(loaded.devices)} devices"
    )
    for kind, count in sorted(kinds.items()):
        typer.echo(f"  {kind:<20} {count}")
    for i, mapping in enumerate(loaded.mappings):
        preset = f" (preset {mapping.preset})" if mapping.preset else ""
        devices = len(mapping.devices or {})
        typer.echo(f"mapping {mapping.name or f'mappings[{i}]'}{preset}: {devices} devices")
    tariffs = loaded.tariffs
    if tariffs is None:
        typer.echo("tariffs: none (the twin reports no cost)")
    for version in tariffs.versions if tariffs else []:
        example = " EXAMPLE" if version.example else ""
        typer.echo(
            f"tariff from {version.valid_from}{example} ({tariffs.currency if tariffs else ''}): "
            f"bands {', '.join(version.bands)}; {len(version.seasons)} season(s); "
            f"basic charge {version.basic.kind if version.basic else 'none'}; {version.source}"
        )
    typer.echo(
        f"mqtt {settings.mqtt.host}:{settings.mqtt.port}; influx {settings.influx.api.value} "
        f"at {settings.influx.url}; spool {settings.spool.folder}"
    )


@app.command("try-mapping")
def try_mapping(
    topic: Annotated[str, typer.Option("--topic", help="Topic the message was published on.")],
    payload: Annotated[
        Path, typer.Option("--payload", help="File holding the message's payload, as sent.")
    ],
    park: ParkOption = None,
    config: ConfigOption = None,
) -> None:
    """Print the readings a message would give, or why it (or a value of it) is refused.

    The same decoding and checks as the collector's, with the time of arrival now; nothing is
    published or stored. Exit status 1 when nothing of the message would be stored.
    """
    from collectors.routing import MessageRouter
    from parktwin.contract.reading import PayloadError
    from parktwin.validation import Limits

    loaded, settings = _load(park, config)
    try:
        data = payload.read_bytes()
    except OSError as exc:
        raise _fail(f"--payload: cannot read: {exc}") from None
    router = MessageRouter(loaded, Limits.from_settings(settings.collector))
    refused: list[PayloadError] = []
    arrival_ms = int(datetime.now().timestamp() * 1000)
    try:
        readings = router.readings(topic, data, arrival_ms, refused)
    except PayloadError as exc:
        readings, refused = [], [exc]
    for reading in readings:
        when = datetime.fromtimestamp(reading.ts_ms / 1000, loaded.timezone).isoformat(
            timespec="milliseconds"
        )
        source = "arrival (the message has no time)" if reading.ts_from_arrival else "device"
        values = ", ".join(f"{k}={v:g}" for k, v in reading.values.items())
        typer.echo(f"reading {reading.device_id} at {when} ({reading.ts_ms}, {source}): {values}")
    for error in refused:
        typer.echo(f"refused: {error.reason}: {error.detail}")
    if not readings:
        if not refused:
            typer.echo("nothing to store: the message changes no mapped value")
        raise typer.Exit(code=1)


@app.command("import-discovery")
def import_discovery(
    park: ParkOption = None,
    config: ConfigOption = None,
    broker: BrokerOption = None,
    prefix: Annotated[str, typer.Option(help="Home Assistant's discovery prefix.")] = (
        "homeassistant"
    ),
    wait_s: Annotated[
        float, typer.Option("--wait", help="Stop reading after this many quiet seconds.", min=0.1)
    ] = 2.0,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the mappings here, not to stdout.")
    ] = None,
) -> None:
    """Write mappings for the sensors devices announce to Home Assistant (retained discovery).

    Reads every retained <prefix>/sensor/.../config message, translates state_topic, simple
    value_json templates, unit_of_measurement and state_class, and names each config it could
    not translate and why (on stderr). Paste the mappings into the park file and check them with
    check-config.
    """
    import yaml

    from collectors.mapping.discovery import Sensor, Skipped, read_config, to_mappings

    loaded, settings = _load(park, config, **_broker_overrides(broker))
    messages = asyncio.run(
        _retained(settings, [f"{prefix}/+/+/config", f"{prefix}/+/+/+/config"], wait_s)
    )
    read = [read_config(topic, payload, prefix) for topic, payload in messages]
    sensors = [r for r in read if isinstance(r, Sensor)]
    mappings, left_out = to_mappings(sensors, loaded if park is not None else None)
    skipped = [r for r in read if isinstance(r, Skipped)] + left_out
    text = yaml.safe_dump({"mappings": mappings}, allow_unicode=True, sort_keys=False)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=False)
    typer.echo(
        f"{len(messages)} discovery configs: {len(sensors)} sensors in {len(mappings)} mappings"
        f" (time: arrival), {len(skipped)} not translated",
        err=True,
    )
    for item in skipped:
        typer.echo(f"  not translated: {item.config_topic}: {item.reason}", err=True)


async def _retained(
    settings: Settings, filters: list[str], wait_s: float
) -> list[tuple[str, bytes]]:
    """The retained messages on ``filters``: read until ``wait_s`` pass without one."""
    import contextlib
    import uuid

    from parktwin.mqtt import make_client

    found: dict[str, bytes] = {}
    async with make_client(settings.mqtt, f"parktwin-import-{uuid.uuid4().hex[:8]}") as client:
        for filter_ in filters:
            await client.subscribe(filter_, qos=1)
        with contextlib.suppress(TimeoutError):
            while True:
                async with asyncio.timeout(wait_s):
                    message = await anext(aiter(client.messages))
                if isinstance(message.payload, bytes) and message.retain:
                    found[str(message.topic)] = message.payload
    return sorted(found.items())


@app.command("acl")
def acl_command(
    park: ParkOption = None,
    simulator: Annotated[
        bool, typer.Option(help="Add user simulator, publishing as each of the park's devices.")
    ] = True,
) -> None:
    """Print the mosquitto ACL for parktwin's topics (docs/access.md): devices as
    {park}/devices/{device}, the service accounts (with the park's mapped device topics), and
    the park's simulator."""
    from collectors.routing import MessageRouter
    from collectors.sparkplug.topic import node_command
    from parktwin.acl import mosquitto_acl
    from parktwin.contract import topics
    from parktwin.validation import Limits

    loaded, settings = _load(park, None)
    router = MessageRouter(loaded, Limits.from_settings(settings.collector))
    native = topics.telemetry_filter(loaded.park.id)
    mapped = [f for f in router.subscriptions() if f != native]
    commands = [node_command(group.group, "+") for group in loaded.sparkplug]
    typer.echo(
        mosquitto_acl(loaded, simulator=simulator, mapped_filters=mapped, command_topics=commands),
        nl=False,
    )


@app.command()
def collect(
    park: ParkOption = None,
    config: ConfigOption = None,
    broker: BrokerOption = None,
    influx_url: Annotated[str | None, typer.Option(help="InfluxDB URL.")] = None,
    influx_api: Annotated[str | None, typer.Option(help="v1 or v2.")] = None,
    database: Annotated[str | None, typer.Option(help="v1 database.")] = None,
    bucket: Annotated[str | None, typer.Option(help="v2 bucket.")] = None,
    org: Annotated[str | None, typer.Option(help="v2 organisation.")] = None,
    spool_dir: Annotated[Path | None, typer.Option(help="Folder of the on-disk spool.")] = None,
    client_id: Annotated[str | None, typer.Option(help="MQTT client id (session).")] = None,
    shared_group: Annotated[
        str | None, typer.Option(help="MQTT v5 shared subscription group.")
    ] = None,
    max_future_s: Annotated[
        float | None, typer.Option(help="Accept event times this far ahead of now.")
    ] = None,
    duration: DurationOption = None,
    log_level: LogLevelOption = "INFO",
) -> None:
    """Collect telemetry from MQTT into InfluxDB until stopped (Ctrl-C) or --duration ends.

    The InfluxDB v2 token comes from PARKTWIN_INFLUX__TOKEN or a token_file, never a flag.
    """
    from collectors.service import Collector

    _setup_logging(log_level)
    loaded, settings = _load(
        park,
        config,
        **_broker_overrides(broker),
        influx__url=influx_url,
        influx__api=influx_api,
        influx__database=database,
        influx__bucket=bucket,
        influx__org=org,
        spool__folder=spool_dir,
        mqtt__client_id=client_id,
        mqtt__shared_group=shared_group,
        collector__max_future_s=max_future_s,
    )
    collector = Collector(loaded, settings)
    from programs.lifecycle import run_until_stopped

    stats = asyncio.run(run_until_stopped(collector.run, duration))
    typer.echo(stats.summary(collector.spool_pending_lines))


@app.command()
def simulate(
    park: ParkOption = None,
    config: ConfigOption = None,
    broker: BrokerOption = None,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same readings.")] = 1,
    start: Annotated[
        datetime | None,
        typer.Option(help="Simulated start (ISO 8601); default: today's local midnight."),
    ] = None,
    speed: Annotated[
        float, typer.Option(help="Simulated seconds per wall second; 0 = as fast as allowed.")
    ] = 60.0,
    max_rate: Annotated[float | None, typer.Option(help="At most this many messages/s.")] = None,
    simulated_hours: Annotated[
        float | None, typer.Option(help="Stop after this much simulated time.")
    ] = None,
    senml_share: Annotated[float, typer.Option(help="Share of devices speaking SenML.")] = 0.0,
    device_formats: Annotated[
        bool,
        typer.Option(
            "--device-formats/--contract-only",
            help="Devices the park file maps publish as their firmware or gateway would "
            "(Tasmota, Shelly, Neuron...), its sparkplug: devices as Sparkplug B edge nodes; "
            "--contract-only: every device speaks the contract.",
        ),
    ] = True,
    dropout: Annotated[float, typer.Option(help="Probability a reading is not sent.")] = 0.0,
    duplicate: Annotated[float, typer.Option(help="Probability a message is sent twice.")] = 0.0,
    out_of_order: Annotated[float, typer.Option(help="Probability a message is delayed.")] = 0.0,
    malformed: Annotated[float, typer.Option(help="Probability a payload is broken.")] = 0.0,
    spike: Annotated[
        float, typer.Option(help="Probability a gauge spikes within its range.")
    ] = 0.0,
    spike_out_of_range: Annotated[
        float, typer.Option(help="Probability a gauge spikes beyond its range.")
    ] = 0.0,
    stuck: Annotated[float, typer.Option(help="Probability a sensor gets stuck.")] = 0.0,
    state_file: Annotated[
        Path | None, typer.Option(help="Continue simulated time and counters from this file.")
    ] = None,
    ledger: Annotated[
        Path | None, typer.Option(help="Write device_id,ts_ms of every valid reading sent.")
    ] = None,
    duration: DurationOption = None,
    log_level: LogLevelOption = "INFO",
) -> None:
    """Simulate the park's devices and publish their telemetry over MQTT."""
    from collectors.mapping.encode import wire_formats
    from simulators.faults import FaultOptions
    from simulators.run import SimulatorOptions, run_simulator

    _setup_logging(log_level)
    loaded, settings = _load(park, config, **_broker_overrides(broker))
    options = SimulatorOptions(
        park=loaded,
        mqtt=settings.mqtt,
        seed=seed,
        start=start,
        speed=speed,
        duration_s=duration,
        max_rate=max_rate,
        faults=FaultOptions(
            dropout=dropout,
            duplicate=duplicate,
            out_of_order=out_of_order,
            malformed=malformed,
            spike=spike,
            spike_out_of_range=spike_out_of_range,
            stuck=stuck,
        ),
        senml_share=senml_share,
        device_formats=wire_formats(loaded) if device_formats else {},
        sparkplug=device_formats,
        state_file=state_file,
        ledger_file=ledger,
        simulated_duration_s=simulated_hours * 3600 if simulated_hours is not None else None,
    )
    from programs.lifecycle import run_until_stopped

    report = asyncio.run(run_until_stopped(lambda stop: run_simulator(options, stop), duration))
    faults = ", ".join(f"{k} {v}" for k, v in vars(report.by_fault).items() if v)
    typer.echo(
        f"messages published {report.messages_published}, valid readings "
        f"{report.readings_published}, meter resets {report.meter_resets}"
        + (f"\nfaults: {faults}" if faults else "")
        + f"\nsimulated {report.simulated_start.isoformat()} .. {report.simulated_end.isoformat()}"
        f" in {report.wall_s:.1f} s ({report.rate_msg_s:.0f} messages/s)"
    )


@app.command("inputs")
def inputs_command(
    files: Annotated[list[Path], typer.Argument(help="JSON files, one month each.")],
    park: ParkOption = None,
    config: ConfigOption = None,
    broker: BrokerOption = None,
) -> None:
    """Validate monthly inputs (waste, water reuse, products, green power, finances) and publish
    each, retained, on parks/{park}/inputs/monthly/{YYYY-MM} for the twin."""
    import orjson

    from parktwin.contract import topics
    from parktwin.mqtt import make_client
    from twin.model.inputs import MonthlyInputsError, parse_monthly_inputs

    loaded, settings = _load(park, config, **_broker_overrides(broker))
    documents = []
    for file in files:
        try:
            inputs = parse_monthly_inputs(file.read_bytes())
        except OSError as exc:
            raise _fail(f"{file}: cannot read: {exc.strerror}") from None
        except MonthlyInputsError as exc:
            raise _fail("\n".join(f"{file}: {problem}" for problem in exc.problems)) from None
        if inputs.park not in (None, loaded.park.id):
            raise _fail(f"{file}: park: {inputs.park!r} is not {loaded.park.id!r}")
        documents.append((topics.monthly_inputs(loaded.park.id, inputs.month), inputs))

    async def publish() -> None:
        async with make_client(settings.mqtt, None) as client:
            for topic, inputs in documents:
                body = orjson.dumps(inputs.model_dump(mode="json", exclude_none=True))
                await client.publish(topic, body, qos=1, retain=True)
                typer.echo(f"published {topic}")

    asyncio.run(publish())


ApiPortOption = Annotated[
    int | None, typer.Option("--api-port", help="Port of the twin's HTTP API (0: any free port).")
]
CheckpointOption = Annotated[
    Path | None, typer.Option("--checkpoint-dir", help="Folder of the twin's checkpoints.")
]
InfluxUrlOption = Annotated[str | None, typer.Option("--influx-url", help="InfluxDB URL.")]
DatabaseOption = Annotated[str | None, typer.Option("--database", help="v1 database.")]


def _service_setup(
    park: Path | None,
    config: Path | None,
    broker: str | None,
    influx_url: str | None,
    database: str | None,
    api_port: int | None,
    checkpoint_dir: Path | None,
    log_level: str,
) -> tuple[Park, Settings]:
    """Logging, park and settings for the long-running twin and run commands."""
    _setup_logging(log_level)
    return _load(
        park,
        config,
        **_broker_overrides(broker),
        influx__url=influx_url,
        influx__database=database,
        api__port=api_port,
        twin__checkpoint_folder=checkpoint_dir,
    )


@app.command("bill")
def bill_command(
    month: Annotated[str, typer.Option("--month", help="The month to bill, YYYY-MM.")],
    park: ParkOption = None,
    config: ConfigOption = None,
    checkpoint_dir: CheckpointOption = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write; default: stdout (JSON).")
    ] = None,
    file_format: Annotated[
        str | None, typer.Option("--format", help="json, csv or xlsx; default: from --output.")
    ] = None,
) -> None:
    """Tenant bills of a month from the twin's checkpoint, with the invoice they add up to."""
    import re

    import orjson

    from tariffs.bill_files import write_csv, write_xlsx
    from twin.state.snapshot import plain
    from twin.state.twin import Twin

    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise _fail(f"--month: expected YYYY-MM, got {month!r}")
    loaded, settings = _load(park, config, twin__checkpoint_folder=checkpoint_dir)
    if loaded.tariffs is None:
        raise _fail("the park file has no tariffs section: nothing to bill")
    path = settings.twin.checkpoint_folder / f"{loaded.park.id}.twin"
    try:
        twin = Twin.restore(loaded, None, path.read_bytes())
    except OSError as exc:
        raise _fail(f"no twin checkpoint to bill from ({exc}); run the twin first") from None
    bills = twin.bills(month)
    if bills is None:
        raise _fail(f"the twin's checkpoint keeps no cost of {month}")
    kind = file_format or (output.suffix.lstrip(".") if output else "json")
    if kind == "json":
        body = orjson.dumps(plain(bills), option=orjson.OPT_INDENT_2)
        if output is None:
            sys.stdout.buffer.write(body + b"\n")
        else:
            output.write_bytes(body)
    elif kind in ("csv", "xlsx") and output is not None:
        (write_csv if kind == "csv" else write_xlsx)(bills, output)
    else:
        raise _fail(f"--format {kind}: json, or csv/xlsx with --output")
    if output is not None:
        r = bills.reconciliation
        typer.echo(
            f"{len(bills.bills)} bills for {month} to {output}"
            f"{'' if bills.complete else ' (the month is not over)'}; invoice "
            f"{r.invoice_total_yuan:,.2f} {bills.currency}, difference {r.difference_yuan:,.2f}"
        )


@app.command("twin")
def twin_command(
    park: ParkOption = None,
    config: ConfigOption = None,
    broker: BrokerOption = None,
    influx_url: InfluxUrlOption = None,
    database: DatabaseOption = None,
    api_port: ApiPortOption = None,
    checkpoint_dir: CheckpointOption = None,
    duration: DurationOption = None,
    log_level: LogLevelOption = "INFO",
) -> None:
    """Run the park's digital twin: state and KPIs to InfluxDB, MQTT and the HTTP API."""
    from programs.lifecycle import run_until_stopped
    from programs.wiring import park_twin

    loaded, settings = _service_setup(
        park, config, broker, influx_url, database, api_port, checkpoint_dir, log_level
    )
    service, _ = park_twin(loaded, settings)
    stats = asyncio.run(run_until_stopped(service.run, duration))
    typer.echo(
        f"twin: messages {stats.messages_received}, readings ingested {stats.readings_ingested},"
        f" rejected {stats.messages_rejected}, ticks {stats.ticks},"
        f" checkpoints {stats.checkpoints}, KPI points written {stats.kpi_points_written}"
    )


@app.command("run")
def run_command(
    park: ParkOption = None,
    config: ConfigOption = None,
    broker: BrokerOption = None,
    influx_url: InfluxUrlOption = None,
    database: DatabaseOption = None,
    api_port: ApiPortOption = None,
    checkpoint_dir: CheckpointOption = None,
    duration: DurationOption = None,
    log_level: LogLevelOption = "INFO",
) -> None:
    """Run the collectors and the twin in one process (the default deployment)."""
    from collectors.metrics import CollectorMetrics
    from collectors.service import Collector
    from parktwin.metrics import IntakeMetrics
    from programs.lifecycle import run_until_stopped
    from programs.wiring import park_twin

    loaded, settings = _service_setup(
        park, config, broker, influx_url, database, api_port, checkpoint_dir, log_level
    )
    collector = Collector(loaded, settings)
    service, _ = park_twin(loaded, settings)
    service.registry.register(
        CollectorMetrics(collector.stats, lambda: collector.spool_pending_lines)
    )
    service.registry.register(IntakeMetrics(collector.intake, "collector"))
    service.publishers["collector"] = collector.stats.mqtt

    async def both(stop: asyncio.Event) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(collector.run(stop))
            group.create_task(service.run(stop))

    asyncio.run(run_until_stopped(both, duration))
    typer.echo(collector.stats.summary(collector.spool_pending_lines))
    typer.echo(
        f"twin: readings ingested {service.stats.readings_ingested}, ticks {service.stats.ticks},"
        f" KPI points written {service.stats.kpi_points_written}"
    )


@app.command("report")
def report_command(
    period: Annotated[
        str, typer.Option("--period", help="A month (2026-11), a quarter (2026-Q4) or a year.")
    ],
    park: ParkOption = None,
    config: ConfigOption = None,
    enterprise: Annotated[
        str | None, typer.Option("--enterprise", help="An enterprise's own report (its id).")
    ] = None,
    lang: Annotated[
        list[str] | None, typer.Option("--lang", help="en or zh; repeat for both (default en).")
    ] = None,
    fmt: Annotated[
        list[str] | None,
        typer.Option("--format", help="xlsx or pdf; repeat for both (default both)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder of the files (default: settings).")
    ] = None,
    influx_url: InfluxUrlOption = None,
    database: DatabaseOption = None,
    checkpoint_dir: CheckpointOption = None,
    log_level: LogLevelOption = "WARNING",
) -> None:
    """Make a park's (or one enterprise's) report of a period from the twin's history, as XLSX
    and/or PDF, in English and/or Chinese. Figures: the stored readings replayed through the
    twin; monthly inputs: the twin's checkpoint."""
    import time

    from parktwin.influx.influxql import QueryError
    from reports.build import UnknownEnterpriseError
    from reports.fonts import FontError
    from reports.inputs import inputs_from_checkpoint
    from reports.make import FORMATS, LANGS, ReportFolderError, ReportRequest, make_report
    from reports.period import PeriodError
    from reports.replay import NoDataError

    _setup_logging(log_level)
    loaded, settings = _load(
        park,
        config,
        influx__url=influx_url,
        influx__database=database,
        twin__checkpoint_folder=checkpoint_dir,
    )
    langs = tuple(lang or ["en"])
    formats = tuple(fmt or FORMATS)
    for item in langs:
        if item not in LANGS:
            raise _fail(f"--lang {item!r}: expected one of {', '.join(LANGS)}")
    for item in formats:
        if item not in FORMATS:
            raise _fail(f"--format {item!r}: expected one of {', '.join(FORMATS)}")
    monthly, source = inputs_from_checkpoint(loaded, settings.twin.checkpoint_folder)
    request = ReportRequest(period, enterprise, langs, formats)  # type: ignore[arg-type]
    folder = out or settings.reports.folder
    try:
        paths = asyncio.run(
            make_report(
                settings.influx,
                loaded,
                request,
                folder,
                monthly,
                source,
                int(time.time() * 1000),
            )
        )
    except (
        PeriodError,
        UnknownEnterpriseError,
        NoDataError,
        ReportFolderError,
        FontError,
    ) as exc:
        raise _fail(f"report: {exc}") from None
    except QueryError as exc:
        raise _fail(f"report: InfluxDB at {settings.influx.url}: {exc}") from None
    for path in paths:
        typer.echo(str(path))


@app.command("demo")
def demo_command(
    park: ParkOption = None,
    config: ConfigOption = None,
    broker: Annotated[
        str | None,
        typer.Option("--broker", help="Use this MQTT v5 broker (host:port), not mosquitto."),
    ] = None,
    speed: Annotated[
        float, typer.Option(help="Simulated seconds per wall second.", min=0.1)
    ] = 60.0,
    state_dir: Annotated[
        Path, typer.Option("--state-dir", help="Where the demo keeps its state between runs.")
    ] = Path("var/demo"),
    api_port: Annotated[
        int, typer.Option("--api-port", help="Port of the twin view (busy: any free port).")
    ] = 8080,
    refresh_s: Annotated[float, typer.Option(help="Seconds between summary refreshes.")] = 3.0,
    influx_url: Annotated[
        str | None,
        typer.Option(
            "--influx-url",
            help="Store in this InfluxDB (it must answer); default: the configured one when it "
            "answers, else an embedded influxd with its data in the state folder.",
        ),
    ] = None,
    history: Annotated[
        str | None,
        typer.Option(help="Start a fresh state folder with this much past history (e.g. 90d, 2w)."),
    ] = None,
    history_resolution_s: Annotated[
        float, typer.Option(help="History's reporting period at least (0: device intervals).")
    ] = DEFAULT_RESOLUTION_S,
    duration: DurationOption = None,
    log_level: LogLevelOption = "WARNING",
) -> None:
    """The whole park in one process: an embedded broker and InfluxDB, the simulator at a time
    warp, the collectors, the twin and the alerts, with a live summary and the twin view."""
    from programs.demo.broker import BrokerError
    from programs.demo.database import DatabaseError
    from programs.demo.run import DemoInterrupted, DemoOptions, run_demo
    from programs.history import parse_span_days
    from programs.lifecycle import run_until_stopped

    _setup_logging(log_level)
    loaded, settings = _load(park, config)
    history_days = parse_span_days(history) if history else 0.0
    named = _broker_overrides(broker)
    options = DemoOptions(
        park=loaded,
        settings=settings,
        broker=(named["mqtt__host"], named["mqtt__port"]) if named else None,
        speed=speed,
        state_folder=state_dir,
        api_port=api_port,
        refresh_s=refresh_s,
        influx_url=influx_url,
        history_days=history_days,
        history_resolution_s=history_resolution_s,
    )
    try:
        report = asyncio.run(run_until_stopped(lambda stop: run_demo(options, stop), duration))
    except (BrokerError, DatabaseError) as exc:
        raise _fail(f"demo: {exc}") from None
    except DemoInterrupted as exc:
        typer.echo(f"demo: {exc}", err=True)
        raise typer.Exit(code=130) from None
    simulated = report.simulation
    typer.echo(
        f"demo: simulated {simulated.simulated_start.isoformat()} .. "
        f"{simulated.simulated_end.isoformat()}; readings published "
        f"{simulated.readings_published}, received {report.readings_received}, "
        + (
            f"stored {report.readings_stored} in {report.storage}"
            if report.stored
            else "not stored (no InfluxDB)"
        )
        + (
            f" ({report.readings_spooled} spooled: stored at the next start)"
            if report.readings_spooled
            else ""
        )
    )


@app.command("what-if")
def what_if(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario files (YAML).")],
    park: ParkOption = None,
    config: ConfigOption = None,
    influx_url: Annotated[str | None, typer.Option(help="InfluxDB URL.")] = None,
    database: Annotated[str | None, typer.Option(help="v1 database.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write JSON here.")] = None,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Write CSV here.")] = None,
    step_min: Annotated[
        int, typer.Option("--step-min", help="Step in minutes: 60, 30 or 15.")
    ] = 60,
) -> None:
    """Run what-if scenarios over the park's stored history and compare them with it.

    Results are estimates: nothing is written to InfluxDB or to the live twin.
    """
    from programs.whatif import run_what_if

    if step_min not in (15, 30, 60):
        raise _fail("--step-min: 15, 30 or 60")
    loaded, settings = _load(park, config, influx__url=influx_url, influx__database=database)
    run_what_if(loaded, settings, scenarios, json_out, csv_out, step_min)


app.command("backfill")(backfill_command)
app.command("import-csv")(import_csv_command)
app.command("demo-db")(demo_db_command)


def main() -> None:
    """Entry point of the ``parktwin`` console script."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
