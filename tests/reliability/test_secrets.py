"""The signing secret and the access keys: long enough in production, compared in constant
time, looked up by digest."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import peewee
import pytest

from server import auth as server_auth
from server.app import create_server
from server.config import Settings, SettingsError, resolve_jwt_secret
from server.errors import Unauthenticated
from store.keys import digest_access_key
from store.models import Organization
from tests.processes import run_cli

SHORT = "x" * 31
LONG = "y" * 32


@pytest.mark.parametrize("env", ["production", "PRODUCTION", " prod "])
def test_production_refuses_a_short_secret_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    monkeypatch.setenv("MEETINGS_ENV", env)
    monkeypatch.setenv("MEETINGS_JWT_SECRET", SHORT)
    with pytest.raises(SettingsError, match="at least 32"):
        Settings.from_env()
    monkeypatch.setenv("MEETINGS_JWT_SECRET", LONG)
    assert Settings.from_env().production


def test_outside_production_a_short_secret_is_only_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("MEETINGS_ENV", raising=False)
    monkeypatch.setenv("MEETINGS_JWT_SECRET", SHORT)
    with caplog.at_level(logging.WARNING):
        assert not Settings.from_env().production
    assert "HS256 needs at least 32" in caplog.text


def test_the_server_will_not_start_in_production_with_a_short_secret(
    db: peewee.Database, settings: Settings
) -> None:
    with pytest.raises(SettingsError):
        create_server(
            "127.0.0.1:0", dataclasses.replace(settings, jwt_secret=SHORT, production=True), db
        )


def test_a_short_kept_secret_file_is_refused_in_production(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'meetings.db'}"
    generated = resolve_jwt_secret(Settings(database_url=url, production=True))
    assert len(generated.encode()) >= 32  # the generated default is long enough
    (tmp_path / "meetings.db.jwt-secret").write_text(SHORT)
    with pytest.raises(SettingsError):
        resolve_jwt_secret(Settings(database_url=url, production=True))


def test_meetings_serve_exits_with_a_message_in_production_with_a_short_secret(
    tmp_path: Path,
) -> None:
    result = run_cli(
        "serve",
        "--database",
        f"sqlite:///{tmp_path / 'meetings.db'}",
        "--grpc",
        "127.0.0.1:0",
        "--http",
        "127.0.0.1:0",
        env={"MEETINGS_ENV": "production", "MEETINGS_JWT_SECRET": SHORT},
        timeout=30,
    )
    assert result.returncode != 0
    assert "at least 32" in result.stderr


def test_keys_are_checked_in_constant_time_after_the_digest_lookup(
    db: peewee.Database,
    settings: Settings,
    acme: tuple[Organization, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, key = acme
    compared: list[tuple[str, str]] = []
    original = server_auth.access_key_matches

    def spy(candidate: str, digest: str) -> bool:
        compared.append((candidate, digest))
        return original(candidate, digest)

    monkeypatch.setattr(server_auth, "access_key_matches", spy)
    authenticator = server_auth.Authenticator(
        settings.jwt_secret, settings.token_ttl, settings.clock
    )
    with db.connection_context():
        assert authenticator.authenticate(key).organization_id == acme[0].id
        assert compared == [(key, digest_access_key(key))]
        # The digest itself is not a key.
        with pytest.raises(Unauthenticated):
            authenticator.authenticate(digest_access_key(key))
        # Absurdly long keys are refused without being hashed or looked up.
        compared.clear()
        with pytest.raises(Unauthenticated):
            authenticator.authenticate("k" * 100_000)
        assert compared == []
