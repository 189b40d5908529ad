"""Service settings from flags and environment variables (MEETINGS_*)."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from store.database import DEFAULT_URL, PoolOptions

Clock = Callable[[], datetime]
log = logging.getLogger("meetings")

DEFAULT_GRPC_ADDRESS = "127.0.0.1:50051"
DEFAULT_HTTP_ADDRESS = "127.0.0.1:8080"


def utc_now() -> datetime:
    return datetime.now(UTC)


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
    # The gRPC servers a gateway balances over (host:port, or unix:/path).
    upstreams: tuple[str, ...] = (DEFAULT_GRPC_ADDRESS,)
    db_pool_size: int = PoolOptions.size
    db_stale_timeout: float = PoolOptions.stale_timeout
    db_pool_timeout: float = PoolOptions.wait_timeout
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
            "upstreams": split_upstreams(env.get("MEETINGS_UPSTREAM", ""))
            or (DEFAULT_GRPC_ADDRESS,),
            "db_pool_size": _number(env, "MEETINGS_DB_POOL_SIZE", int, PoolOptions.size),
            "db_stale_timeout": _number(
                env, "MEETINGS_DB_STALE_TIMEOUT", float, PoolOptions.stale_timeout
            ),
            "db_pool_timeout": _number(
                env, "MEETINGS_DB_POOL_TIMEOUT", float, PoolOptions.wait_timeout
            ),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


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
        return path.read_text().strip()
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
