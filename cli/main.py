"""The `meetings` command: serve, load, demo, org."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import click

from server.config import Settings
from store.database import DEFAULT_URL, open_database
from store.schema import migrate

DATABASE_OPTION = click.option(
    "--database",
    "database_url",
    envvar="MEETINGS_DATABASE_URL",
    default=DEFAULT_URL,
    show_default=True,
    help="Database URL: sqlite:///file.db or postgresql://user@host/db.",
)

BANNER = """
Meetings API is ready.{demo}
  REST  http://{{http}}   gRPC  {{grpc}} (reflection on)
  Get a token:
    curl -s -X POST http://{{http}}/api/v2/authenticate \\
         -H 'Content-Type: application/json' -d '{{{{"access_key": "{key}"}}}}'
  Then (TOKEN=...):
    curl -s -H "Authorization: Bearer $TOKEN" \\
      'http://{{http}}/api/v2/organizations/{org}/upcoming_meetings?items=5'
    curl -s -H "Authorization: Bearer $TOKEN" \\
      'http://{{http}}/api/v2/organizations/{org}/export_meetings?reporting_days=all_upcoming&column[]=name&column[]=start_time&page=1&per_page=5'
    .venv/bin/grpcurl -plaintext {{grpc}} list
    .venv/bin/grpcurl -plaintext -H "authorization: Bearer $TOKEN" \\
      -d '{{{{"organization_id": {org}, "page_size": 5}}}}' {{grpc}} \\
      heypeers.meetings.v1.MeetingsService/ListUpcomingMeetings
Stop with Ctrl-C.
"""


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


@main.command()
@DATABASE_OPTION
@click.option(
    "--grpc",
    "grpc_address",
    envvar="MEETINGS_GRPC_ADDRESS",
    default="127.0.0.1:50051",
    show_default=True,
    help="gRPC listen address.",
)
@click.option(
    "--http",
    "http_address",
    envvar="MEETINGS_HTTP_ADDRESS",
    default="127.0.0.1:8080",
    show_default=True,
    help="HTTP listen address.",
)
@click.option("--banner", is_flag=True, help="Print how to call the service with demo data.")
def serve(database_url: str, grpc_address: str, http_address: str, banner: bool) -> None:
    """Serve the gRPC API and the REST gateway until SIGTERM/SIGINT."""
    from cli.serve import serve as run

    settings = Settings.from_env(
        database_url=database_url, grpc_address=grpc_address, http_address=http_address
    )
    text = None
    key_file = demo_key_file(database_url)
    if banner and key_file is not None and key_file.exists():
        org, key = key_file.read_text().split()
        text = BANNER.format(demo=f" Demo organization {org}.", key=key, org=org)
    elif banner:
        text = BANNER.format(demo="", key="<your access key>", org="<organization id>")
    asyncio.run(run(settings, text))


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@DATABASE_OPTION
def load(file: Path, database_url: str) -> None:
    """Load a fixture file: all or nothing, idempotent."""
    from store.errors import FixtureError
    from store.loader import load_fixture_file

    migrate(open_database(database_url))
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
    """Create a demo organization with realistic meetings; print its id and access key."""
    from store.demo import create_demo, database_is_empty

    migrate(open_database(database_url))
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

    migrate(open_database(database_url))
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

    migrate(open_database(database_url))
    try:
        key = rotate_access_key(organization_id)
    except NotFound as exc:
        raise click.ClickException(f"no organization {organization_id}") from exc
    click.echo(f"access_key: {key}")


if __name__ == "__main__":
    main()
