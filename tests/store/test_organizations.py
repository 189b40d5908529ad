from __future__ import annotations

import peewee
import pytest

from store.errors import NotFound
from store.keys import digest_access_key
from store.models import Organization
from store.organizations import (
    create_organization,
    find_by_access_key,
    get_organization,
    organization_scope,
    rotate_access_key,
)


def test_create_organization_returns_its_key_and_stores_only_the_digest(
    db: peewee.Database,
) -> None:
    created, key = create_organization("Acme", time_zone="America/New_York")
    assert len(key) == 24
    with db.connection_context():
        stored = Organization.get_by_id(created.id)
    assert stored.name == "Acme"
    assert stored.time_zone == "America/New_York"
    assert stored.access_key_digest == digest_access_key(key)
    assert key not in {stored.name, stored.access_key_digest}
    assert stored.key_generation == 1
    assert not stored.eap


def test_create_organization_defaults_to_utc(db: peewee.Database) -> None:
    created, _ = create_organization("Acme")
    assert created.time_zone == "UTC"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "america/new_york", "", "EST 5"])
def test_create_organization_rejects_a_name_that_is_not_an_iana_zone(
    db: peewee.Database, zone: str
) -> None:
    with pytest.raises(ValueError, match="IANA time zone"):
        create_organization("Acme", time_zone=zone)
    with db.connection_context():
        assert Organization.select().count() == 0


def test_create_organization_rejects_a_blank_name(db: peewee.Database) -> None:
    with pytest.raises(ValueError, match="blank"):
        create_organization("  ")


def test_create_organization_rejects_a_missing_hpc_organization(db: peewee.Database) -> None:
    with pytest.raises(ValueError, match="HPC organization 99 does not exist"):
        create_organization("Acme", eap=True, hpc_organization_id=99)


def test_create_organization_links_an_existing_hpc_organization(db: peewee.Database) -> None:
    hpc, _ = create_organization("HeyPeers Counseling")
    created, _ = create_organization("Acme", eap=True, hpc_organization_id=hpc.id)
    assert get_organization(created.id).hpc_organization_id == hpc.id  # type: ignore[union-attr]


def test_find_by_access_key_finds_the_organization_of_the_key(db: peewee.Database) -> None:
    acme, acme_key = create_organization("Acme")
    other, other_key = create_organization("Other")
    assert find_by_access_key(acme_key).id == acme.id  # type: ignore[union-attr]
    assert find_by_access_key(other_key).id == other.id  # type: ignore[union-attr]


@pytest.mark.parametrize("key", ["", "x" * 24, "not-a-key"])
def test_find_by_access_key_returns_none_for_an_unknown_key(db: peewee.Database, key: str) -> None:
    create_organization("Acme")
    assert find_by_access_key(key) is None


def test_rotation_changes_the_digest_bumps_the_generation_and_retires_the_old_key(
    db: peewee.Database,
) -> None:
    created, old_key = create_organization("Acme")
    new_key = rotate_access_key(created.id)
    assert new_key != old_key
    assert len(new_key) == 24
    rotated = get_organization(created.id)
    assert rotated is not None
    assert rotated.access_key_digest == digest_access_key(new_key)
    assert rotated.key_generation == created.key_generation + 1
    assert find_by_access_key(old_key) is None
    assert find_by_access_key(new_key).id == created.id  # type: ignore[union-attr]


def test_rotating_the_key_of_a_missing_organization_raises_not_found(
    db: peewee.Database,
) -> None:
    with pytest.raises(NotFound):
        rotate_access_key(12345)


def test_get_organization_returns_none_when_absent(db: peewee.Database) -> None:
    assert get_organization(12345) is None


def test_scope_of_an_eap_organization_includes_its_hpc_organization(
    db: peewee.Database,
) -> None:
    hpc, _ = create_organization("HeyPeers Counseling")
    eap, _ = create_organization("Acme", eap=True, hpc_organization_id=hpc.id)
    assert organization_scope(eap) == [eap.id, hpc.id]


def test_scope_without_an_eap_is_the_organization_alone(db: peewee.Database) -> None:
    hpc, _ = create_organization("HeyPeers Counseling")
    linked_without_eap, _ = create_organization("Acme", hpc_organization_id=hpc.id)
    eap_without_hpc, _ = create_organization("Solo", eap=True)
    assert organization_scope(linked_without_eap) == [linked_without_eap.id]
    assert organization_scope(eap_without_hpc) == [eap_without_hpc.id]
    assert organization_scope(hpc) == [hpc.id]


def test_store_functions_leave_open_a_connection_the_caller_holds(db: peewee.Database) -> None:
    db.connect()
    _, key = create_organization("Acme")
    assert find_by_access_key(key) is not None
    assert not db.is_closed()
    db.close()


def test_store_functions_join_the_callers_transaction(db: peewee.Database) -> None:
    with db.connection_context():
        with db.atomic() as transaction:
            create_organization("Acme")
            transaction.rollback()
        assert Organization.select().count() == 0
