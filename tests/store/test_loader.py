from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import peewee
import pytest

import store.loader
from store.errors import FixtureError
from store.keys import digest_access_key
from store.loader import LoadSummary, load_fixture, load_fixture_file
from store.models import Meeting, MeetingSeries, Organization, Registration, User
from store.organizations import create_organization, find_by_access_key
from tests.store.documents import ACME_KEY, meeting, snapshot, spec_document

Document = dict[str, list[dict[str, Any]]]


def test_spec_example_loads_and_round_trips_its_values(db: peewee.Database) -> None:
    summary = load_fixture(spec_document())
    assert summary == LoadSummary(
        organizations=1, users=1, meeting_series=1, meetings=1, registrations=1
    )
    with db.connection_context():
        acme = Organization.get_by_id(5)
        jane = User.get_by_id(4501)
        series = MeetingSeries.get_by_id(412)
        stored = Meeting.get_by_id(9123)
        registration = Registration.get()
    assert (acme.name, acme.time_zone, acme.eap, acme.hpc_organization_id) == (
        "Acme",
        "America/New_York",
        False,
        None,
    )
    assert acme.access_key_digest == digest_access_key(ACME_KEY)
    assert acme.key_generation == 1
    assert (jane.first_name, jane.last_name, jane.avatar_url) == (
        "Jane",
        "Doe",
        "https://assets.example.org/users/avatars/thumb/4501.png",
    )
    assert series.organization_id == 5
    expected = {
        "organization": 5,
        "name": "Morning Grief Support Circle",
        "meeting_type": "Group",
        "start_time": datetime(2026, 5, 23, 15, 0),
        "duration": 60,
        "end_time": datetime(2026, 5, 23, 16, 0),
        "status": "scheduled",
        "topic": "Grief & Loss",
        "special_focus": None,
        "host": "HeyPeers",
        "location": "heypeers",
        "price": None,
        "max_attendees": 12,
        "meeting_description": "A supportive space.",
        "group_leader": 4501,
        "privacy": False,
        "eap": False,
        "allow_meeting_donation": False,
        "invitation_only": False,
        "wait_list": False,
        "meeting_series": 412,
    }
    assert {key: stored.__data__[key] for key in expected} == expected
    assert (registration.meeting_id, registration.user_id, registration.status) == (
        9123,
        4501,
        "registered",
    )


def test_access_key_is_stored_only_as_its_digest(db: peewee.Database) -> None:
    load_fixture(spec_document())
    assert find_by_access_key(ACME_KEY).id == 5  # type: ignore[union-attr]
    for rows in snapshot(db).values():
        assert all(ACME_KEY not in map(str, row.values()) for row in rows)


def test_prices_null_number_and_decimal_string_round_trip(db: peewee.Database) -> None:
    document = spec_document()
    document["meetings"] = [
        meeting(1, price=None),
        meeting(2, price=10),
        meeting(3, price="12.50"),
        meeting(4, price=12.5),
        meeting(5, price="0.99"),
    ]
    document["registrations"] = []
    load_fixture(document)
    with db.connection_context():
        prices = [m.price for m in Meeting.select().order_by(Meeting.id)]
    assert prices == [None, Decimal(10), Decimal("12.5"), Decimal("12.5"), Decimal("0.99")]


def test_offset_start_time_is_stored_as_naive_utc_with_its_end_time(db: peewee.Database) -> None:
    document = spec_document()
    document["meetings"] = [meeting(9123, start_time="2026-11-01T23:30:00-05:00", duration=90)]
    load_fixture(document)
    with db.connection_context():
        stored = Meeting.get_by_id(9123)
    assert stored.start_time == datetime(2026, 11, 2, 4, 30)
    assert stored.end_time == datetime(2026, 11, 2, 6, 0)


def test_loading_twice_leaves_identical_data_and_counts(db: peewee.Database) -> None:
    document = spec_document()
    document["meetings"].append(meeting(9124, price="12.50", meeting_series_id=None))
    document["registrations"].append({"meeting_id": 9124, "user_id": 4501, "status": "waitlisted"})
    first = load_fixture(document)
    after_first = snapshot(db)
    second = load_fixture(document)
    assert second == first
    assert snapshot(db) == after_first


def test_reloading_updates_records_matched_by_id(db: peewee.Database) -> None:
    load_fixture(spec_document())
    document = spec_document()
    document["organizations"][0]["name"] = "Acme Health"
    document["meetings"][0].update(duration=30, status="cancel", price="10")
    load_fixture(document)
    with db.connection_context():
        assert [o.name for o in Organization.select()] == ["Acme Health"]
        stored = Meeting.get_by_id(9123)
        assert Meeting.select().count() == 1
    assert (stored.duration, stored.end_time, stored.status, stored.price) == (
        30,
        datetime(2026, 5, 23, 15, 30),
        "cancel",
        Decimal(10),
    )


def test_registrations_are_upserted_by_meeting_and_user(db: peewee.Database) -> None:
    load_fixture(spec_document())
    with db.connection_context():
        (original,) = Registration.select()
    document = spec_document()
    document["registrations"][0]["status"] = "cancelled"
    load_fixture(document)
    with db.connection_context():
        (updated,) = Registration.select()
    assert updated.id == original.id
    assert updated.status == "cancelled"


def test_a_changed_access_key_bumps_the_key_generation(db: peewee.Database) -> None:
    load_fixture(spec_document())
    load_fixture(spec_document())
    with db.connection_context():
        assert Organization.get_by_id(5).key_generation == 1
    document = spec_document()
    new_key = "another-key-of-24-chars!"
    document["organizations"][0]["access_key"] = new_key
    load_fixture(document)
    with db.connection_context():
        acme = Organization.get_by_id(5)
    assert acme.key_generation == 2
    assert acme.access_key_digest == digest_access_key(new_key)
    assert find_by_access_key(ACME_KEY) is None


def _break(list_name: str, **changes: Any) -> Callable[[Document], None]:
    """Appends a second record to `list_name` (at index 1) with a bad value."""

    def mutate(document: Document) -> None:
        good = {
            "organizations": {**document["organizations"][0], "id": 6, "access_key": "b" * 24},
            "users": {**document["users"][0], "id": 4502},
            "meeting_series": {"id": 413, "organization_id": 5},
            "meetings": meeting(9124),
            "registrations": {"meeting_id": 9123, "user_id": 4502, "status": "registered"},
        }[list_name]
        document[list_name].append({**good, **changes})

    return mutate


@pytest.mark.parametrize(
    ("list_name", "mutate", "reason"),
    [
        ("organizations", _break("organizations", time_zone="Nowhere/Land"), "time_zone must be"),
        ("users", _break("users", first_name=12), "first_name must be a string or null"),
        ("meeting_series", _break("meeting_series", organization_id=77), "organization_id 77"),
        ("meetings", _break("meetings", duration=0), "duration must be a positive integer"),
        ("registrations", _break("registrations", user_id=999), "user_id 999 does not match"),
    ],
)
def test_a_bad_record_in_any_list_is_rejected_by_list_and_index_and_changes_nothing(
    db: peewee.Database, list_name: str, mutate: Callable[[Document], None], reason: str
) -> None:
    load_fixture(spec_document())
    before = snapshot(db)
    document = spec_document()
    # Every list before the bad record carries a change that must not be written either.
    document["organizations"][0]["name"] = "Renamed"
    document["users"][0]["first_name"] = "Janet"
    document["meetings"][0]["status"] = "complete"
    document["registrations"][0]["status"] = "cancelled"
    mutate(document)
    with pytest.raises(FixtureError) as raised:
        load_fixture(document)
    assert (raised.value.list_name, raised.value.index) == (list_name, 1)
    assert reason in raised.value.reason
    assert str(raised.value).startswith(f"{list_name}[1]: ")
    assert snapshot(db) == before


def test_a_failure_while_writing_rolls_back_the_lists_already_written(
    db: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    upsert = store.loader._upsert

    def fail_on_registrations(name: str, *args: Any) -> None:
        if name == "registrations":
            raise RuntimeError("disk full")
        upsert(name, *args)

    monkeypatch.setattr(store.loader, "_upsert", fail_on_registrations)
    with pytest.raises(RuntimeError):
        load_fixture(spec_document())
    assert all(rows == [] for rows in snapshot(db).values())


def test_the_first_bad_record_is_reported_even_when_a_later_one_is_also_bad(
    db: peewee.Database,
) -> None:
    document = spec_document()
    document["meetings"] = [
        meeting(1),
        meeting(2, group_leader_id=999),
        meeting(3, duration=-1),
    ]
    with pytest.raises(FixtureError, match=r"^meetings\[1\]: group_leader_id 999 does not match"):
        load_fixture(document)


def test_references_may_name_records_already_in_the_database(db: peewee.Database) -> None:
    document = spec_document()
    load_fixture({"organizations": document["organizations"], "users": document["users"]})
    load_fixture({"meeting_series": document["meeting_series"]})
    summary = load_fixture(
        {"meetings": document["meetings"], "registrations": document["registrations"]}
    )
    assert (summary.meetings, summary.registrations) == (1, 1)
    assert snapshot(db)["Registration"][0]["meeting"] == 9123


def test_an_organization_may_name_an_hpc_organization_listed_after_it(
    db: peewee.Database,
) -> None:
    document = spec_document()
    document["organizations"][0].update(eap=True, hpc_organization_id=7)
    document["organizations"].append(
        {
            "id": 7,
            "name": "HeyPeers Counseling",
            "access_key": "h" * 24,
            "time_zone": "UTC",
            "eap": False,
            "hpc_organization_id": None,
        }
    )
    load_fixture(document)
    load_fixture(document)
    with db.connection_context():
        assert Organization.get_by_id(5).hpc_organization_id == 7


def _meeting_in_a_series_of_another_organization(document: Document) -> None:
    other = {**document["organizations"][0], "id": 6, "access_key": "c" * 24}
    document["organizations"].append(other)
    document["meeting_series"].append({"id": 500, "organization_id": 6})
    document["meetings"][0]["meeting_series_id"] = 500


@pytest.mark.parametrize(
    ("document_change", "message"),
    [
        (
            lambda d: d["users"].append(dict(d["users"][0])),
            r"^users\[1\]: duplicate id 4501 \(first at index 0\)$",
        ),
        (
            lambda d: d["registrations"].append({**d["registrations"][0], "status": "waitlisted"}),
            r"^registrations\[1\]: duplicate meeting_id 9123 and user_id 4501",
        ),
        (
            lambda d: d["organizations"].append({**d["organizations"][0], "id": 6}),
            r"^organizations\[1\]: duplicate access_key \(first at index 0\)$",
        ),
        (
            lambda d: d["organizations"][0].update(hpc_organization_id=5),
            r"^organizations\[0\]: hpc_organization_id must name another organization$",
        ),
        (
            _meeting_in_a_series_of_another_organization,
            r"^meetings\[0\]: meeting_series_id 500 belongs to organization 6, not 5$",
        ),
    ],
)
def test_inconsistent_records_are_rejected(
    db: peewee.Database, document_change: Callable[[Document], object], message: str
) -> None:
    document = spec_document()
    document_change(document)
    with pytest.raises(FixtureError, match=message):
        load_fixture(document)


def test_an_access_key_of_another_organization_in_the_database_is_rejected(
    db: peewee.Database,
) -> None:
    other, key = create_organization("Other")
    document = spec_document()
    document["organizations"][0]["access_key"] = key
    with pytest.raises(
        FixtureError,
        match=rf"^organizations\[0\]: access_key is already the key of organization {other.id}$",
    ):
        load_fixture(document)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], r"^document\[0\]: must be a JSON object"),
        ({"meeting": []}, r"^document\[0\]: unknown key 'meeting'"),
        ({"meetings": {}}, r"^document\[0\]: meetings must be a list$"),
    ],
)
def test_a_malformed_document_is_rejected(
    db: peewee.Database, document: object, message: str
) -> None:
    with pytest.raises(FixtureError, match=message):
        load_fixture(document)


def test_absent_and_empty_lists_load_nothing(db: peewee.Database) -> None:
    assert load_fixture({}) == LoadSummary()
    assert load_fixture({"meetings": [], "users": []}) == LoadSummary()
    assert all(rows == [] for rows in snapshot(db).values())


def test_ids_generated_after_loading_explicit_ids_do_not_collide(db: peewee.Database) -> None:
    load_fixture(spec_document())
    created, _ = create_organization("Next")
    with db.connection_context():
        user = User.create(first_name="New")
        series = MeetingSeries.create(organization=5)
        new_meeting = Meeting.create(
            organization=5,
            start_time=datetime(2026, 1, 1),
            duration=30,
            end_time=datetime(2026, 1, 1, 0, 30),
        )
    assert (created.id, user.id, series.id, new_meeting.id) == (6, 4502, 413, 9124)


def test_many_batches_load_the_same_values_as_one(
    db: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three meetings per statement: full batches reuse one statement, the last one differs.
    monkeypatch.setattr(store.loader, "_MAX_PARAMETERS", 3 * len(store.loader._COLUMNS["meetings"]))
    document = spec_document()
    document["meetings"] = [
        meeting(100 + n, price=[None, 10, "12.50"][n % 3], duration=30 + n) for n in range(10)
    ]
    document["registrations"] = []
    summary = load_fixture(document)
    assert summary.meetings == 10
    with db.connection_context():
        stored = list(Meeting.select().order_by(Meeting.id))
    assert [m.id for m in stored] == list(range(100, 110))
    assert [m.duration for m in stored] == [30 + n for n in range(10)]
    assert [m.price for m in stored] == [
        [None, Decimal(10), Decimal("12.5")][n % 3] for n in range(10)
    ]
    assert all(m.end_time > m.start_time for m in stored)


def test_progress_is_told_every_record_written(db: peewee.Database) -> None:
    written: list[int] = []
    load_fixture(spec_document(), progress=written.append)
    assert sum(written) == 5


def test_load_fixture_file_loads_a_json_file(db: peewee.Database, tmp_path: Path) -> None:
    path = tmp_path / "fixture.json"
    path.write_text(json.dumps(spec_document()))
    assert load_fixture_file(path).meetings == 1
    with db.connection_context():
        assert Meeting.select().count() == 1


def test_load_fixture_file_reports_invalid_json_as_a_document_error(
    db: peewee.Database, tmp_path: Path
) -> None:
    path = tmp_path / "fixture.json"
    path.write_text('{"organizations": [')
    with pytest.raises(FixtureError, match=r"^document\[0\]: not valid JSON"):
        load_fixture_file(path)
