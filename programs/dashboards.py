"""``parktwin dashboards``: export the JSON and provisioning files, push to a running Grafana."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dashboards.i18n import LANGUAGES

dashboards_app = typer.Typer(
    help="Grafana dashboards: export files, push to Grafana.", no_args_is_help=True
)

LangOption = Annotated[str, typer.Option("--lang", help="en, zh or all.")]


def _languages(lang: str) -> tuple[str, ...]:
    if lang == "all":
        return LANGUAGES
    if lang not in LANGUAGES:
        typer.echo(f"--lang: expected en, zh or all, got {lang!r}", err=True)
        raise typer.Exit(code=2)
    return (lang,)


@dashboards_app.command("export")
def export_command(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for json/ and provisioning/; default: the package's."),
    ] = None,
    lang: LangOption = "all",
) -> None:
    """Write the dashboards as JSON (json/<lang>/) and the provisioning files."""
    from dashboards.export import PACKAGE_DIR, write

    changed = write(out or PACKAGE_DIR, _languages(lang))
    for path in changed:
        typer.echo(f"wrote {path}")
    typer.echo(f"{len(changed)} file(s) changed")


@dashboards_app.command("push")
def push_command(
    url: Annotated[str, typer.Option("--url", help="Grafana's address.")] = "http://127.0.0.1:3000",
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="GRAFANA_TOKEN", help="Service-account token."),
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="Basic-auth user.")] = None,
    password: Annotated[
        str | None, typer.Option("--password", envvar="GRAFANA_PASSWORD", help="Its password.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="parktwin settings (TOML) for the datasource.")
    ] = None,
    influx_url: Annotated[
        str | None, typer.Option("--influx-url", help="InfluxDB as Grafana reaches it.")
    ] = None,
    lang: LangOption = "all",
) -> None:
    """Create or update the folders, the datasource and the dashboards of a running Grafana.

    The datasource comes from parktwin's settings (PARKTWIN_INFLUX__*): v2 sends the token as an
    Authorization header and uses the bucket as the InfluxQL database. Running it twice changes
    nothing the second time.
    """
    from grafana_client import GrafanaApi

    from dashboards.catalogue import dashboards
    from dashboards.datasource import datasource_body
    from dashboards.push import PushError, push
    from parktwin.config import ConfigError, load_settings

    if token is None and (user is None or password is None):
        typer.echo("give --token, or --user and --password", err=True)
        raise typer.Exit(code=2)
    try:
        settings = load_settings(config, influx__url=influx_url)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from None
    credential: str | tuple[str, str] = token if token is not None else (user or "", password or "")
    api = GrafanaApi.from_url(url, credential=credential)
    try:
        report = push(api, datasource_body(settings.influx), dashboards(_languages(lang)))
    except PushError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from None
    for line in report.lines():
        typer.echo(line)
    typer.echo(f"{report.writes} write(s)")
