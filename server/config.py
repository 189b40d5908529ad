"""Service settings from flags and environment variables (MEETINGS_*)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from store.database import DEFAULT_URL

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Settings:
    """Everything the server and gateway are configured with."""

    database_url: str = DEFAULT_URL
    grpc_address: str = "127.0.0.1:50051"
    http_address: str = "127.0.0.1:8080"
    jwt_secret: str = ""
    token_ttl: timedelta = timedelta(hours=24)
    grpc_workers: int = 16
    grace_seconds: float = 10.0
    clock: Clock = field(default=utc_now, compare=False)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from MEETINGS_* variables; explicit overrides (flags) win when not None."""
        env = os.environ
        values: dict[str, object] = {
            "database_url": env.get("MEETINGS_DATABASE_URL", DEFAULT_URL),
            "grpc_address": env.get("MEETINGS_GRPC_ADDRESS", "127.0.0.1:50051"),
            "http_address": env.get("MEETINGS_HTTP_ADDRESS", "127.0.0.1:8080"),
            "jwt_secret": env.get("MEETINGS_JWT_SECRET", ""),
            "grpc_workers": int(env.get("MEETINGS_GRPC_WORKERS", "16")),
            "grace_seconds": float(env.get("MEETINGS_GRACE_SECONDS", "10")),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def secret_file_for(database_url: str) -> Path:
    """Where the generated signing secret is kept: beside a SQLite file, else in the cwd."""
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        db_path = Path(database_url.removeprefix("sqlite:///"))
        return db_path.with_name(db_path.name + ".jwt-secret")
    override = os.environ.get("MEETINGS_JWT_SECRET_FILE")
    return Path(override) if override else Path("meetings.jwt-secret")


def resolve_jwt_secret(settings: Settings) -> str:
    """The configured secret, or one generated once and kept, so tokens survive a restart."""
    if settings.jwt_secret:
        return settings.jwt_secret
    path = secret_file_for(settings.database_url)
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret
