"""The `meetings` command: serve, grpc-server, gateway, health, load, demo, org."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import click

from cli.process import open_migrated
from server.config import (
    DEFAULT_GRPC_ADDRESS,
    DEFAULT_HTTP_ADDRESS,
    Settings,
    SettingsError,
    split_upstreams,
)
from store.database import DEFAULT_URL

DATABASE_OPTION = click.option(
    "--database",
    "database_url",
    envvar="MEETINGS_DATABASE_URL",
    default=DEFAULT_URL,
    show_default=True,
    help="Database URL: sqlite:///file.db or postgresql://user@host/db (pooled).",
)

# The ready banner of `serve --banner` (`make run`). `{http}` and `{grpc}` are filled in once the
# ports are known; every command in it works pasted into a shell at the repository root.
BANNER = """
Meetings API is ready.{demo}
  Home    http://{{http}}/         links to all of the below
  Docs    http://{{http}}/docs     the REST API reference
  Export  http://{{http}}/export   the export tool
  gRPC    {{grpc}}  (reflection on)
{try_it}
Stop with Ctrl-C.
"""
DEMO_COMMANDS = """Try it, in another shell at the repository root:
    TOKEN=$(curl -s -X POST http://{{http}}/api/v2/authenticate \\
      -H 'Content-Type: application/json' -d '{{{{"access_key": "{key}"}}}}' | jq -r .token)
    curl -s -H "Authorization: Bearer $TOKEN" \\
      'http://{{http}}/api/v2/organizations/{org}/upcoming_meetings?items=5'
    curl -s -g -H "Authorization: Bearer $TOKEN" \\
      'http://{{http}}/api/v2/organizations/{org}/export_meetings?reporting_days=all_upcoming&column[]=name&column[]=start_time&page=1&per_page=5'
    .venv/bin/grpcurl -plaintext {{grpc}} list
    .venv/bin/grpcurl -plaintext -H "authorization: Bearer $TOKEN" \\
      -d '{{{{"organization_id": {org}, "page_size": 5}}}}' {{grpc}} \\
      heypeers.meetings.v1.MeetingsService/ListUpcomingMeetings"""
NO_DEMO = """No demo organization in this database: README.md, "Calling the REST API", shows the
calls with an organization's id and access key."""


def banner_template(demo_key: Path | None) -> str:
    """The banner's template for a database whose demo organization (if it has one made by
    `meetings demo`) is recorded in `demo_key`."""
    if demo_key is None or not demo_key.exists():
        return BANNER.format(demo="", try_it=NO_DEMO)
    org, key = demo_key.read_text().split()
    try_it = DEMO_COMMANDS.format(key=key, org=org)
    return BANNER.format(demo=f" Demo organization {org}.", try_it=try_it)


def demo_key_file(database_url: str) -> Path | None:
    """Where `demo` keeps the demo organization's id and key for `make run` (SQLite only)."""
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        return Path(database_url.removeprefix("sqlite:///") + ".demo-key")
    return None


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(verbose: bool) -> None:
    """Meetings API: the gRPC service, its REST gateway, and data tools."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )


GRPC_OPTION = click.option(
    "--grpc",
    "grpc_address",
    envvar="MEETINGS_GRPC_ADDRESS",
    default=DEFAULT_GRPC_ADDRESS,
    show_default=True,
    help="gRPC listen address.",
)
HTTP_OPTION = click.option(
    "--http",
    "http_address",
    envvar="MEETINGS_HTTP_ADDRESS",
    default=DEFAULT_HTTP_ADDRESS,
    show_default=True,
    help="HTTP listen address.",
)
WORKERS_OPTION = click.option(
    "--workers",
    type=click.IntRange(1),
    default=None,
    help="Processes per tier, sharing the port (env MEETINGS_WORKERS; default 1).",
)


def pool_options(command: Callable[..., None]) -> Callable[..., None]:
    """The PostgreSQL connection pool flags (SQLite does not pool)."""
    for option in reversed(
        [
            click.option(
                "--db-pool-size",
                type=click.IntRange(0),
                default=None,
                help="PostgreSQL connections per process; 0 turns pooling off "
                "(env MEETINGS_DB_POOL_SIZE; default 20).",
            ),
            click.option(
                "--db-stale-timeout",
                type=click.FloatRange(0),
                default=None,
                help="Seconds before a pooled connection is replaced; 0 never "
                "(env MEETINGS_DB_STALE_TIMEOUT; default 300).",
            ),
            click.option(
                "--db-pool-timeout",
                type=click.FloatRange(0),
                default=None,
                help="Seconds an RPC waits for a free connection before UNAVAILABLE; 0 fails "
                "at once (env MEETINGS_DB_POOL_TIMEOUT; default 10).",
            ),
        ]
    ):
        command = option(command)
    return command


# Set by a `--workers` parent on the processes it runs; not for people.
REUSE_PORT_OPTION = click.option("--reuse-port", is_flag=True, hidden=True)
SUPERVISOR_OPTION = click.option("--supervisor-pid", type=int, default=None, hidden=True)


def load_settings(**flags: object) -> Settings:
    """Settings from the environment and the given flags; a bad variable is a usage error."""
    try:
        return Settings.from_env(**flags)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc


def verbose_flag() -> bool:
    return bool(click.get_current_context().find_root().params.get("verbose"))


@main.command()
@DATABASE_OPTION
@GRPC_OPTION
@HTTP_OPTION
@WORKERS_OPTION
@pool_options
@click.option(
    "--one-process",
    is_flag=True,
    default=None,
    help="Run both tiers in this one process instead of a process each: less memory, about "
    "half the requests a second under load (env MEETINGS_ONE_PROCESS).",
)
@click.option("--banner", is_flag=True, help="Print how to call the service with demo data.")
def serve(
    database_url: str,
    grpc_address: str,
    http_address: str,
    workers: int | None,
    db_pool_size: int | None,
    db_stale_timeout: float | None,
    db_pool_timeout: float | None,
    one_process: bool | None,
    banner: bool,
) -> None:
    """Serve the gRPC API and the REST gateway until SIGTERM/SIGINT.

    The gRPC server and the gateway run as two processes under this one (more with
    --workers), so that each has an interpreter of its own; --one-process keeps both here.
    """
    settings = load_settings(
        database_url=database_url,
        grpc_address=grpc_address,
        http_address=http_address,
        workers=workers,
        db_pool_size=db_pool_size,
        db_stale_timeout=db_stale_timeout,
        db_pool_timeout=db_pool_timeout,
        one_process=one_process,
    )
    if settings.one_process and settings.workers > 1:
        raise click.UsageError("--one-process runs one process; it cannot take --workers above 1")
    text = banner_template(demo_key_file(database_url)) if banner else None
    if settings.one_process:
        from cli.serve import serve as run

        asyncio.run(run(settings, text))
        return
    # The parent of the group loads neither tier (see cli.process).
    from cli.workers import serve_workers

    sys.exit(asyncio.run(serve_workers(settings, text, verbose_flag())))


@main.command("grpc-server")
@DATABASE_OPTION
@GRPC_OPTION
@WORKERS_OPTION
@pool_options
@REUSE_PORT_OPTION
@click.option(
    "--also-listen", "extra_addresses", multiple=True, hidden=True, help="A further address."
)
@SUPERVISOR_OPTION
def grpc_server(
    database_url: str,
    grpc_address: str,
    workers: int | None,
    db_pool_size: int | None,
    db_stale_timeout: float | None,
    db_pool_timeout: float | None,
    reuse_port: bool,
    extra_addresses: tuple[str, ...],
    supervisor_pid: int | None,
) -> None:
    """Serve the gRPC API alone (scale it apart from the gateway) until SIGTERM/SIGINT.

    Prints "meetings: gRPC on HOST:PORT" when it accepts RPCs.
    """
    settings = load_settings(
        database_url=database_url,
        grpc_address=grpc_address,
        workers=workers,
        db_pool_size=db_pool_size,
        db_stale_timeout=db_stale_timeout,
        db_pool_timeout=db_pool_timeout,
    )
    if settings.workers == 1:
        from cli.serve import serve_grpc

        asyncio.run(
            serve_grpc(
                settings,
                reuse_port=reuse_port,
                extra_addresses=extra_addresses,
                supervisor_pid=supervisor_pid,
            )
        )
        return
    from cli.workers import grpc_server_workers

    sys.exit(asyncio.run(grpc_server_workers(settings, verbose_flag())))


@main.command()
@click.option(
    "--upstream",
    "upstreams",
    multiple=True,
    help="A gRPC server to balance over, HOST:PORT (repeat, or separate with commas; "
    f"env MEETINGS_UPSTREAM; default {DEFAULT_GRPC_ADDRESS}). One host name stands for every "
    "address it resolves to.",
)
@HTTP_OPTION
@WORKERS_OPTION
@REUSE_PORT_OPTION
@SUPERVISOR_OPTION
def gateway(
    upstreams: tuple[str, ...],
    http_address: str,
    workers: int | None,
    reuse_port: bool,
    supervisor_pid: int | None,
) -> None:
    """Serve the REST gateway alone, in front of gRPC servers, until SIGTERM/SIGINT.

    Prints "meetings: HTTP on http://HOST:PORT, upstream ADDRESS[,ADDRESS...]" when it
    accepts requests. It never touches the database.
    """
    from gateway.channel import UpstreamError, channel_target

    settings = load_settings(
        http_address=http_address,
        workers=workers,
        upstreams=tuple(a for value in upstreams for a in split_upstreams(value)) or None,
    )
    try:
        channel_target(settings.upstreams)
    except UpstreamError as exc:
        raise click.BadParameter(str(exc), param_hint="'--upstream'") from exc
    if settings.workers == 1:
        from cli.serve import serve_gateway

        asyncio.run(serve_gateway(settings, reuse_port=reuse_port, supervisor_pid=supervisor_pid))
        return
    from cli.workers import gateway_server_workers

    sys.exit(asyncio.run(gateway_server_workers(settings, verbose_flag())))


@main.command()
@click.option("--grpc", "grpc_address", default=None, help="Probe the gRPC health service here.")
@click.option("--http", "http_address", default=None, help="Probe the gateway's health URL here.")
@click.option("--ready", is_flag=True, help="HTTP: ask /readyz (a backend serves), not /healthz.")
@click.option("--timeout", default=2.0, show_default=True, type=click.FloatRange(0.1))
def health(grpc_address: str | None, http_address: str | None, ready: bool, timeout: float) -> None:
    """Exit 0 when the service here is healthy: for container health checks.

    Without --grpc or --http, probes MEETINGS_GRPC_ADDRESS and MEETINGS_HTTP_ADDRESS and
    judges those that listen, so one check fits serve, grpc-server and gateway.
    """
    from cli.health import run_probes

    explicit = bool(grpc_address or http_address)
    if not explicit:
        settings = load_settings()
        grpc_address, http_address = settings.grpc_address, settings.http_address
    ok, results = run_probes(
        grpc_address, http_address, only_listening=not explicit, ready=ready, timeout=timeout
    )
    for result in results:
        click.echo(f"{result.target}: {result.detail}")
    sys.exit(0 if ok else 1)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@DATABASE_OPTION
def load(file: Path, database_url: str) -> None:
    """Load a fixture file: all or nothing, idempotent."""
    from store.errors import FixtureError
    from store.loader import load_fixture_file

    open_migrated(database_url)
    try:
        summary = load_fixture_file(file)
    except FixtureError as exc:
        raise click.ClickException(f"nothing was loaded: {exc}") from exc
    click.echo(f"loaded {summary}")


@main.command()
@DATABASE_OPTION
@click.option("--meetings", "n_meetings", default=5000, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=7, show_default=True, help="Random seed (same seed, same data).")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has organizations.")
def demo(database_url: str, n_meetings: int, seed: int, if_empty: bool) -> None:
    """Create a demo organization with realistic meetings; print its id and access key, and
    the idp_id of a member whose upcoming meetings to try."""
    from store.demo import DEMO_MEMBER_IDP_ID, create_demo, database_is_empty

    open_migrated(database_url)
    if if_empty and not database_is_empty():
        click.echo("demo: the database already has data; nothing created")
        return
    org_id, key = create_demo(n_meetings, seed=seed, progress=sys.stderr.isatty())
    key_file = demo_key_file(database_url)
    if key_file is not None:
        key_file.write_text(f"{org_id} {key}\n")
        key_file.chmod(0o600)
    click.echo(f"organization_id: {org_id}")
    click.echo(f"access_key: {key}")
    click.echo(f"member_idp_id: {DEMO_MEMBER_IDP_ID}")


@main.group()
def org() -> None:
    """Create organizations and rotate their access keys."""


@org.command("create")
@click.argument("name")
@DATABASE_OPTION
@click.option("--time-zone", default="UTC", show_default=True, help="IANA time zone name.")
@click.option("--eap", is_flag=True, help="The organization runs an EAP.")
@click.option(
    "--hpc-organization-id",
    type=int,
    default=None,
    help="The associated HeyPeers Counseling organization.",
)
def org_create(
    name: str, database_url: str, time_zone: str, eap: bool, hpc_organization_id: int | None
) -> None:
    """Create an organization; prints its id and access key (shown only once)."""
    from store.organizations import create_organization

    open_migrated(database_url)
    try:
        created, key = create_organization(
            name, time_zone=time_zone, eap=eap, hpc_organization_id=hpc_organization_id
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"organization_id: {created.id}")
    click.echo(f"access_key: {key}")


@org.command("rotate-key")
@click.argument("organization_id", type=int)
@DATABASE_OPTION
def org_rotate_key(organization_id: int, database_url: str) -> None:
    """Replace an organization's access key; tokens from the old key stop working."""
    from store.errors import NotFound
    from store.organizations import rotate_access_key

    open_migrated(database_url)
    try:
        key = rotate_access_key(organization_id)
    except NotFound as exc:
        raise click.ClickException(f"no organization {organization_id}") from exc
    click.echo(f"access_key: {key}")


if __name__ == "__main__":
    main()
