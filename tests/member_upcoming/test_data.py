"""The data behind a member's schedule: the loader's two optional additions (memberships and
registered_at), documents of the old form loading unchanged, migration 5 and the demo."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import peewee
import pytest

from store.demo import DEMO_MEMBER_IDP_ID, create_demo
from store.errors import FixtureError
from store.loader import LoadSummary, load_fixture
from store.member_upcoming import member_upcoming_meetings_page
from store.models import Membership, Registration
from store.organizations import get_organization, organization_scope
from store.schema import CURRENT_VERSION, migrate
from tests.store.documents import snapshot, spec_document

SSO = {"organization_id": 5, "user_id": 4501, "idp_id": "sso-user-abc123"}


def _registrations(db: peewee.Database) -> list[tuple[Any, ...]]:
    with db.connection_context():
        query = Registration.select(Registration.status, Registration.registered_at)
        return list(query.tuples())


def _memberships(db: peewee.Database) -> list[tuple[Any, ...]]:
    with db.connection_context():
        query = Membership.select(Membership.organization, Membership.user, Membership.idp_id)
        return list(query.order_by(Membership.id).tuples())


def test_a_document_of_the_old_form_loads_unchanged(db: peewee.Database) -> None:
    old = spec_document()  # the spec's example: no memberships, no registered_at
    assert "memberships" not in old and "registered_at" not in old["registrations"][0]
    assert load_fixture(copy.deepcopy(old)) == LoadSummary(
        organizations=1, users=1, meeting_series=1, meetings=1, registrations=1
    )
    assert _registrations(db) == [("registered", None)]
    assert _memberships(db) == []
    first = snapshot(db)
    load_fixture(old)
    assert snapshot(db) == first


def test_the_two_additions_load_and_reload_to_the_same_data(db: peewee.Database) -> None:
    document = spec_document()
    document["registrations"][0]["registered_at"] = "2026-05-20T14:42:11.250-04:00"
    document["memberships"] = [SSO]
    assert load_fixture(copy.deepcopy(document)).memberships == 1
    assert _registrations(db) == [("registered", datetime(2026, 5, 20, 18, 42, 11, 250000))]
    assert _memberships(db) == [(5, 4501, "sso-user-abc123")]
    load_fixture(copy.deepcopy(document))
    assert _memberships(db) == [(5, 4501, "sso-user-abc123")]
    # Matched by organization and user: a new idp_id replaces the old one.
    document["memberships"] = [{**SSO, "idp_id": "renamed"}]
    load_fixture(document)
    assert _memberships(db) == [(5, 4501, "renamed")]


def _other_user(document: dict[str, Any]) -> None:
    document["users"].append({**document["users"][0], "id": 4502})


@pytest.mark.parametrize(
    ("memberships", "reason"),
    [
        ([{**SSO, "idp_id": ""}], "idp_id must be a string of 1 to 255 characters, without NUL"),
        ([{**SSO, "idp_id": "x" * 256}], "idp_id must be a string of 1 to 255 characters"),
        ([{**SSO, "idp_id": "a\0b"}], "without NUL"),
        ([{**SSO, "idp_id": 7}], "idp_id must be a string"),
        ([{"organization_id": 5, "user_id": 4501}], "missing key 'idp_id'"),
        ([{**SSO, "role": "admin"}], "unknown key 'role'"),
        ([{**SSO, "user_id": 9}], "user_id 9 does not match any user"),
        ([{**SSO, "organization_id": 9}], "organization_id 9 does not match any organization"),
        ([SSO, {**SSO, "idp_id": "again"}], "duplicate organization_id 5 and user_id 4501"),
        ([SSO, {**SSO, "user_id": 4502}], "duplicate organization_id 5 and idp_id sso-user-abc123"),
    ],
)
def test_a_bad_membership_is_rejected_with_its_index_and_reason(
    db: peewee.Database, memberships: list[dict[str, Any]], reason: str
) -> None:
    document = spec_document()
    _other_user(document)
    document["memberships"] = memberships
    with pytest.raises(FixtureError) as caught:
        load_fixture(document)
    assert caught.value.list_name == "memberships"
    assert caught.value.index == len(memberships) - 1
    assert reason in caught.value.reason
    assert _memberships(db) == []


def test_an_idp_id_held_by_another_user_in_the_database_is_rejected(db: peewee.Database) -> None:
    document = spec_document()
    _other_user(document)
    document["memberships"] = [SSO]
    load_fixture(copy.deepcopy(document))
    document["memberships"] = [{**SSO, "user_id": 4502}]
    with pytest.raises(FixtureError, match="already the idp_id of user 4501 in organization 5"):
        load_fixture(document)


@pytest.mark.parametrize("value", ["2026-05-20T14:42:11", "yesterday", 1747000000])
def test_a_registered_at_without_an_offset_is_rejected(db: peewee.Database, value: Any) -> None:
    document = spec_document()
    document["registrations"][0]["registered_at"] = value
    with pytest.raises(FixtureError, match=r"registrations\[0\]: registered_at must be an ISO"):
        load_fixture(document)


def test_a_version_4_database_gains_memberships_and_registration_times(
    db: peewee.Database,
) -> None:
    load_fixture(spec_document())
    with db.connection_context():
        db.execute_sql('DROP TABLE "membership"')
        db.execute_sql('DROP INDEX "registration_user_id_status_meeting_id"')
        db.execute_sql('ALTER TABLE "registration" DROP COLUMN "registered_at"')
        db.execute_sql("UPDATE schema_version SET version = 4")
    assert migrate(db) == CURRENT_VERSION == 6
    with db.connection_context():
        indexes = {index.name for index in db.get_indexes("registration")}
        assert "registration_user_id_status_meeting_id" in indexes
        assert db.table_exists("membership")
    assert _registrations(db) == [("registered", None)]


def test_the_demo_has_members_registration_times_and_the_printed_members_schedule(
    db: peewee.Database,
) -> None:
    now = datetime(2026, 5, 20, 12, tzinfo=UTC)
    organization_id, _ = create_demo(800, progress=False, now=now)
    times = [at for _, at in _registrations(db)]
    assert any(at is None for at in times) and sum(at is not None for at in times) > len(times) / 2
    assert all(at is None or at <= now.replace(tzinfo=None) for at in times)
    members = _memberships(db)
    assert (organization_id, DEMO_MEMBER_IDP_ID) in {(org, idp) for org, _, idp in members}
    with db.connection_context():
        organization = get_organization(organization_id)
        assert organization is not None
        page = member_upcoming_meetings_page(
            organization_id,
            DEMO_MEMBER_IDP_ID,
            organization_scope(organization),
            now,
            offset=0,
            limit=100,
        )
    assert page.total > 0
    assert {row.registration_status for row in page.rows} <= {"registered", "waitlisted"}
