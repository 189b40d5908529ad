"""The store's caches: one reset, one switch (MEETINGS_STORE_CACHES), and the same answers
with them off, every total then counted afresh."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import peewee
import pytest

from cli.process import open_store
from server.config import Settings, SettingsError
from store.caches import LatestCache, reset_caches, set_caches_enabled
from store.export import Column, ExportFilter, export_page
from store.loader import load_fixture
from tests.records import meeting_record, organization_record

# The one column these reads ask for, as the server names it.
NAME = [Column("name", "name")]

ORG_ID = 5
START = datetime(2026, 5, 20, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def caches_back_on() -> Iterator[None]:
    yield
    set_caches_enabled(True)


@pytest.fixture
def meetings(db: peewee.Database) -> ExportFilter:
    """Thirty meetings an hour apart from START; the filter of every one of them."""
    load_fixture(
        {
            "organizations": [
                organization_record(ORG_ID, name="Acme", access_key="caches-test-key-00000000")
            ],
            "meetings": [
                meeting_record(n, ORG_ID, (START + timedelta(hours=n)).isoformat())
                for n in range(1, 31)
            ],
        }
    )
    return ExportFilter((ORG_ID,), starts_from=START)


def pages(db: peewee.Database, selected: ExportFilter) -> list[tuple[int, list[str]]]:
    with db.connection_context():
        return [
            (total, [row[0] for row in rows])
            for total, rows in (
                export_page(selected, NAME, offset=offset, limit=7) for offset in range(0, 35, 7)
            )
        ]


def test_a_cache_keeps_values_until_reset(db: peewee.Database) -> None:
    cache: LatestCache[str, int] = LatestCache(4)
    cache.put(db, "total", "token", 30)
    assert cache.get(db, "total") == ("token", 30)
    reset_caches()
    assert cache.get(db, "total") is None


def test_switched_off_nothing_is_kept(db: peewee.Database) -> None:
    cache: LatestCache[str, int] = LatestCache(4)
    set_caches_enabled(False)
    cache.put(db, "total", "token", 31)
    assert cache.get(db, "total") is None
    set_caches_enabled(True)
    assert cache.get(db, "total") is None
    cache.put(db, "total", "token", 32)
    assert cache.get(db, "total") == ("token", 32)


def test_off_every_page_is_counted_and_the_pages_are_the_same(
    db: peewee.Database, meetings: ExportFilter, counted: list[ExportFilter]
) -> None:
    reset_caches()
    cached = pages(db, meetings)
    assert len(counted) == 1  # one snapshot: counted once, then kept
    set_caches_enabled(False)
    assert pages(db, meetings) == cached
    assert len(counted) == 1 + len(cached)
    assert [total for total, _ in cached] == [30] * 5


def test_the_setting_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEETINGS_STORE_CACHES", raising=False)
    assert Settings.from_env().store_caches
    for value, expected in (("off", False), ("0", False), ("on", True), ("TRUE", True)):
        monkeypatch.setenv("MEETINGS_STORE_CACHES", value)
        assert Settings.from_env().store_caches is expected, value
    monkeypatch.setenv("MEETINGS_STORE_CACHES", "sometimes")
    with pytest.raises(SettingsError, match="MEETINGS_STORE_CACHES"):
        Settings.from_env()


def test_the_served_store_applies_the_setting(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    database = open_store(Settings(database_url=url, store_caches=False))
    cache: LatestCache[str, int] = LatestCache(4)
    cache.put(database, "total", "token", 33)
    assert cache.get(database, "total") is None
    database.close()
