"""Service settings from flags and environment variables (MEETINGS_*)."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from server.tokens import MIN_SECRET_BYTES
from store.database import DEFAULT_URL, PoolOptions

Clock = Callable[[], datetime]
log = logging.getLogger("meetings")

DEFAULT_GRPC_ADDRESS = "127.0.0.1:50051"
DEFAULT_HTTP_ADDRESS = "127.0.0.1:8080"
# Peers whose X-Forwarded-For is believed: the gateway of `meetings serve` and `--workers`
# reaches its gRPC servers over loopback or unix sockets.
DEFAULT_TRUSTED_PROXIES = ("127.0.0.0/8", "::1/128", "unix")
# MEETINGS_ENV values that turn the production checks on.
PRODUCTION_NAMES = frozenset({"production", "prod"})


def utc_now() -> datetime:
    return datetime.now(UTC)


# Set for every worker of a `--workers N` group (cli.workers): the directory where they all
# write their metrics (prometheus-client's multiprocess mode), which each gateway reads.
MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


@dataclass(frozen=True)
class Settings:
    """Everything the server and gateway are configured with."""

    database_url: str = DEFAULT_URL
    grpc_address: str = DEFAULT_GRPC_ADDRESS
    http_address: str = DEFAULT_HTTP_ADDRESS
    jwt_secret: str = ""
    token_ttl: timedelta = timedelta(hours=24)
    # Threads per gRPC server process.
    grpc_workers: int = 16
    grace_seconds: float = 10.0
    # Processes per tier (`--workers`).
    workers: int = 1
    # `serve`: both tiers in the one process that was started, instead of a process each.
    one_process: bool = False
    # The gRPC servers a gateway balances over (host:port, or unix:/path).
    upstreams: tuple[str, ...] = (DEFAULT_GRPC_ADDRESS,)
    db_pool_size: int = PoolOptions.size
    db_stale_timeout: float = PoolOptions.stale_timeout
    db_pool_timeout: float = PoolOptions.wait_timeout
    # MEETINGS_ENV=production: refuse to start with a signing secret under 32 bytes.
    production: bool = False
    # Failed Authenticate calls one client may make in a burst (0: no limit), and the seconds
    # after which it may try once more.
    auth_failure_limit: int = 10
    auth_failure_period: float = 6.0
    # Networks (CIDR, or "unix") whose X-Forwarded-For names the client (see server.peers).
    trusted_proxies: tuple[str, ...] = DEFAULT_TRUSTED_PROXIES
    # The deadline of a unary RPC whose caller set none; streams get none by default.
    unary_timeout: float = 30.0
    # Seconds to wait for a new PostgreSQL connection (libpq counts at least 2).
    db_connect_timeout: int = 2
    # Seconds between the health service's database probes (0: no probe).
    db_probe_interval: float = 1.0
    # MEETINGS_STORE_CACHES=off: the store counts every total afresh (store.caches).
    store_caches: bool = True
    clock: Clock = field(default=utc_now, compare=False)

    @property
    def pool(self) -> PoolOptions:
        return PoolOptions(self.db_pool_size, self.db_stale_timeout, self.db_pool_timeout)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from MEETINGS_* variables; explicit overrides (flags) win when not None.

        Raises SettingsError naming the variable when a value is not usable.
        """
        env = os.environ
        values: dict[str, object] = {
            "database_url": env.get("MEETINGS_DATABASE_URL", DEFAULT_URL),
            "grpc_address": env.get("MEETINGS_GRPC_ADDRESS", DEFAULT_GRPC_ADDRESS),
            "http_address": env.get("MEETINGS_HTTP_ADDRESS", DEFAULT_HTTP_ADDRESS),
            "jwt_secret": env.get("MEETINGS_JWT_SECRET", ""),
            "grpc_workers": _number(env, "MEETINGS_GRPC_WORKERS", int, 16, minimum=1),
            "grace_seconds": _number(env, "MEETINGS_GRACE_SECONDS", float, 10.0, minimum=0),
            "workers": _number(env, "MEETINGS_WORKERS", int, 1, minimum=1),
            "one_process": _switch(env, "MEETINGS_ONE_PROCESS"),
            "upstreams": split_upstreams(env.get("MEETINGS_UPSTREAM", ""))
            or (DEFAULT_GRPC_ADDRESS,),
            "db_pool_size": _number(env, "MEETINGS_DB_POOL_SIZE", int, PoolOptions.size),
            "db_stale_timeout": _number(
                env, "MEETINGS_DB_STALE_TIMEOUT", float, PoolOptions.stale_timeout
            ),
            "db_pool_timeout": _number(
                env, "MEETINGS_DB_POOL_TIMEOUT", float, PoolOptions.wait_timeout
            ),
            "production": is_production(env.get("MEETINGS_ENV", "")),
            "auth_failure_limit": _number(env, "MEETINGS_AUTH_FAILURE_LIMIT", int, 10),
            "auth_failure_period": _number(env, "MEETINGS_AUTH_FAILURE_PERIOD", float, 6.0),
            "trusted_proxies": _networks(env, "MEETINGS_TRUSTED_PROXIES"),
            "unary_timeout": _number(env, "MEETINGS_RPC_TIMEOUT", float, 30.0, minimum=0.001),
            "db_connect_timeout": _number(env, "MEETINGS_DB_CONNECT_TIMEOUT", int, 2, minimum=1),
            "db_probe_interval": _number(env, "MEETINGS_DB_PROBE_INTERVAL", float, 1.0),
            "store_caches": _switch(env, "MEETINGS_STORE_CACHES", default=True),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.jwt_secret:
            check_secret(settings.jwt_secret, settings.production, "MEETINGS_JWT_SECRET")
        return settings


def is_production(value: str) -> bool:
    """Whether MEETINGS_ENV names production."""
    return value.strip().lower() in PRODUCTION_NAMES


def _networks(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return DEFAULT_TRUSTED_PROXIES
    values = tuple(part for part in re.split(r"[,\s]+", raw) if part)
    for value in values:
        if value == "unix":
            continue
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise SettingsError(f"{name}: {value!r} is not a network (CIDR) or unix") from None
    return values


def check_secret(secret: str, production: bool, source: str) -> None:
    """Refuse (production) or warn about a signing secret too short for HS256.

    Raises SettingsError in production mode.
    """
    if len(secret.encode("utf-8")) >= MIN_SECRET_BYTES:
        return
    message = (
        f"the JWT signing secret from {source} is {len(secret.encode())} bytes; HS256 needs "
        f"at least {MIN_SECRET_BYTES}"
    )
    if production:
        raise SettingsError(message + " (MEETINGS_ENV=production refuses to start)")
    log.warning("%s; production mode would refuse it", message)


_ON = frozenset({"1", "true", "yes", "on"})
_OFF = frozenset({"", "0", "false", "no", "off"})


def _switch(env: Mapping[str, str], name: str, *, default: bool = False) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in _ON | _OFF:
        raise SettingsError(f"{name} must be one of 1, true, yes, on, 0, false, no, off")
    return raw in _ON


def _number(
    env: Mapping[str, str],
    name: str,
    kind: type[int] | type[float],
    default: float,
    minimum: float = 0,
) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        noun = "an integer" if kind is int else "a number"
        raise SettingsError(f"{name} must be {noun}, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum:g}, not {raw!r}")
    return value


def split_upstreams(value: str) -> tuple[str, ...]:
    """`MEETINGS_UPSTREAM`: addresses separated by commas or whitespace."""
    return tuple(part for part in re.split(r"[,\s]+", value) if part)


def secret_file_for(database_url: str) -> Path:
    """Where the generated signing secret is kept: beside a SQLite file, else in the cwd."""
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        db_path = Path(database_url.removeprefix("sqlite:///"))
        return db_path.with_name(db_path.name + ".jwt-secret")
    override = os.environ.get("MEETINGS_JWT_SECRET_FILE")
    return Path(override) if override else Path("meetings.jwt-secret")


def resolve_jwt_secret(settings: Settings) -> str:
    """The configured secret, or one generated once and kept, so tokens survive a restart.

    Safe when several server processes start together: the file appears complete or not at
    all (written aside, then hard-linked into place), and the first process to link wins.
    """
    if settings.jwt_secret:
        check_secret(settings.jwt_secret, settings.production, "MEETINGS_JWT_SECRET")
        return settings.jwt_secret
    path = secret_file_for(settings.database_url)
    if not settings.database_url.startswith("sqlite"):
        # Several machines over one database each keep their own file: tokens minted by one
        # server would be refused by the others.
        log.warning(
            "MEETINGS_JWT_SECRET is not set: signing with the secret kept in %s; every server "
            "must share one secret",
            path,
        )
    if path.exists():
        kept = path.read_text().strip()
        check_secret(kept, settings.production, str(path))
        return kept
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file with mode 0600.
    fd, scratch = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        # When another process linked its secret first, use that one.
        with contextlib.suppress(FileExistsError):
            os.link(scratch, path)
    finally:
        os.unlink(scratch)
    return path.read_text().strip()
