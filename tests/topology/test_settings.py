"""Settings for several processes: pool and worker variables, upstream lists, and one
signing secret even when several servers start together."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from server.config import Settings, SettingsError, resolve_jwt_secret, split_upstreams
from store.database import PoolOptions


def test_pool_and_worker_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEETINGS_DB_POOL_SIZE", "8")
    monkeypatch.setenv("MEETINGS_DB_STALE_TIMEOUT", "60")
    monkeypatch.setenv("MEETINGS_DB_POOL_TIMEOUT", "2.5")
    monkeypatch.setenv("MEETINGS_WORKERS", "3")
    monkeypatch.setenv("MEETINGS_UPSTREAM", "10.0.0.1:50051, 10.0.0.2:50051")
    settings = Settings.from_env()
    assert settings.pool == PoolOptions(size=8, stale_timeout=60, wait_timeout=2.5)
    assert settings.workers == 3
    assert settings.upstreams == ("10.0.0.1:50051", "10.0.0.2:50051")


def test_flags_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEETINGS_DB_POOL_SIZE", "8")
    monkeypatch.setenv("MEETINGS_WORKERS", "3")
    settings = Settings.from_env(db_pool_size=4, workers=None)
    assert (settings.db_pool_size, settings.workers) == (4, 3)


def test_defaults_without_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MEETINGS_DB_POOL_SIZE", "MEETINGS_WORKERS", "MEETINGS_UPSTREAM"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert settings.pool == PoolOptions()
    assert settings.workers == 1
    assert settings.upstreams == ("127.0.0.1:50051",)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MEETINGS_DB_POOL_SIZE", "many", "MEETINGS_DB_POOL_SIZE must be an integer"),
        ("MEETINGS_DB_POOL_SIZE", "-1", "MEETINGS_DB_POOL_SIZE must be at least 0"),
        ("MEETINGS_WORKERS", "0", "MEETINGS_WORKERS must be at least 1"),
        ("MEETINGS_DB_POOL_TIMEOUT", "soon", "MEETINGS_DB_POOL_TIMEOUT must be a number"),
    ],
)
def test_an_unusable_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        Settings.from_env()


def test_upstreams_split_on_commas_and_spaces() -> None:
    assert split_upstreams(" a:1,b:2  c:3 ,") == ("a:1", "b:2", "c:3")
    assert split_upstreams("") == ()


def test_servers_starting_together_keep_one_generated_secret(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'shared.db'}", jwt_secret="")
    with ThreadPoolExecutor(max_workers=8) as pool:
        secrets = set(pool.map(lambda _: resolve_jwt_secret(settings), range(32)))
    kept = tmp_path / "shared.db.jwt-secret"
    assert secrets == {kept.read_text().strip()}
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.db.jwt-secret"]
