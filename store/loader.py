"""The fixture loader: one JSON document of organizations, users, meeting series, meetings,
registrations and memberships, validated and then upserted in one transaction (see SPEC.md,
"Data")."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import orjson
import peewee

from store.database import database_proxy
from store.errors import FixtureError
from store.fixture_records import LIST_NAMES, InvalidValue, parse_record
from store.keys import digest_access_key
from store.models import Meeting, MeetingSeries, Membership, Organization, Registration, User
from store.sequences import reset_id_sequences
from store.session import transaction

Row = dict[str, Any]
Progress = Callable[[int], None]

# The references each list makes: (key, list it names, what a reader calls that record).
_REFERENCES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "organizations": (("hpc_organization_id", "organizations", "organization"),),
    "users": (),
    "meeting_series": (("organization_id", "organizations", "organization"),),
    "meetings": (
        ("organization_id", "organizations", "organization"),
        ("group_leader_id", "users", "user"),
        ("meeting_series_id", "meeting_series", "meeting series"),
    ),
    "registrations": (("meeting_id", "meetings", "meeting"), ("user_id", "users", "user")),
    "memberships": (
        ("organization_id", "organizations", "organization"),
        ("user_id", "users", "user"),
    ),
}
# Keys no two records of a list may share; registrations are matched by meeting and user.
_UNIQUE_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "organizations": (("id",), ("access_key",)),
    "users": (("id",),),
    "meeting_series": (("id",),),
    "meetings": (("id",),),
    "registrations": (("meeting_id", "user_id"),),
    # Memberships are matched by organization and user; an idp_id names one member.
    "memberships": (("organization_id", "user_id"), ("organization_id", "idp_id")),
}
_MODELS: dict[str, type[peewee.Model]] = {
    "organizations": Organization,
    "users": User,
    "meeting_series": MeetingSeries,
    "meetings": Meeting,
}
_ID_FIELDS: dict[str, peewee.Field] = {
    "organizations": Organization.id,
    "users": User.id,
    "meeting_series": MeetingSeries.id,
    "meetings": Meeting.id,
}
# Stored columns of each list, in insert order, with the record key each one comes from.
_COLUMNS: dict[str, tuple[tuple[peewee.Field, str], ...]] = {
    "organizations": (
        (Organization.id, "id"),
        (Organization.name, "name"),
        (Organization.time_zone, "time_zone"),
        (Organization.access_key_digest, "access_key_digest"),
        (Organization.key_generation, "key_generation"),
        (Organization.eap, "eap"),
        (Organization.hpc_organization, "hpc_organization_id"),
    ),
    "users": (
        (User.id, "id"),
        (User.first_name, "first_name"),
        (User.last_name, "last_name"),
        (User.avatar_url, "avatar_url"),
    ),
    "meeting_series": (
        (MeetingSeries.id, "id"),
        (MeetingSeries.organization, "organization_id"),
    ),
    "meetings": (
        (Meeting.id, "id"),
        (Meeting.organization, "organization_id"),
        (Meeting.name, "name"),
        (Meeting.meeting_type, "meeting_type"),
        (Meeting.start_time, "start_time"),
        (Meeting.duration, "duration"),
        (Meeting.end_time, "end_time"),
        (Meeting.status, "status"),
        (Meeting.topic, "topic"),
        (Meeting.special_focus, "special_focus"),
        (Meeting.host, "host"),
        (Meeting.location, "location"),
        (Meeting.price, "price"),
        (Meeting.max_attendees, "max_attendees"),
        (Meeting.meeting_description, "meeting_description"),
        (Meeting.group_leader, "group_leader_id"),
        (Meeting.privacy, "privacy"),
        (Meeting.eap, "eap"),
        (Meeting.allow_meeting_donation, "allow_meeting_donation"),
        (Meeting.invitation_only, "invitation_only"),
        (Meeting.wait_list, "wait_list"),
        (Meeting.meeting_series, "meeting_series_id"),
    ),
    "registrations": (
        (Registration.meeting, "meeting_id"),
        (Registration.user, "user_id"),
        (Registration.status, "status"),
        (Registration.registered_at, "registered_at"),
    ),
    "memberships": (
        (Membership.organization, "organization_id"),
        (Membership.user, "user_id"),
        (Membership.idp_id, "idp_id"),
    ),
}
# Bound parameters per statement: under PostgreSQL's 65535, and under SQLite's own limit
# (32766 since 3.32, 999 before), which is read from the connection.
_MAX_PARAMETERS = 30_000
# Ids per existence lookup.
_LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class LoadSummary:
    """How many records of each list a document held (all of them were loaded)."""

    organizations: int = 0
    users: int = 0
    meeting_series: int = 0
    meetings: int = 0
    registrations: int = 0
    memberships: int = 0

    @property
    def total(self) -> int:
        return (
            self.organizations
            + self.users
            + self.meeting_series
            + self.meetings
            + self.registrations
            + self.memberships
        )


def load_fixture_file(
    path: str | os.PathLike[str], *, progress: Progress | None = None
) -> LoadSummary:
    """Load a fixture file; invalid JSON is a FixtureError on the "document" (OSError passes)."""
    with open(path, "rb") as file:
        data = file.read()
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise FixtureError("document", 0, f"not valid JSON: {exc}") from None
    return load_fixture(document, progress=progress)


def load_fixture(document: object, *, progress: Progress | None = None) -> LoadSummary:
    """Validate a fixture document and upsert it, all or nothing.

    Records are matched by id (registrations by meeting and user), so loading the same
    document twice leaves the same data. The first bad record raises FixtureError and nothing
    is written. `progress` is called with the number of records written after each batch.
    """
    lists = _lists_of(document)
    with transaction():
        rows = _Validator().validate(lists)
        _write(rows, progress)
        reset_id_sequences(_MODELS[name] for name in _MODELS if rows[name])
    return LoadSummary(**{name: len(rows[name]) for name in LIST_NAMES})


def _lists_of(document: object) -> dict[str, list[object]]:
    if not isinstance(document, dict):
        raise FixtureError(
            "document", 0, f"must be a JSON object with the lists {', '.join(LIST_NAMES)}"
        )
    for key in document:
        if key not in LIST_NAMES:
            raise FixtureError(
                "document", 0, f"unknown key {key!r}; the lists are {', '.join(LIST_NAMES)}"
            )
    lists: dict[str, list[object]] = {}
    for name in LIST_NAMES:
        records = document.get(name, [])
        if not isinstance(records, list):
            raise FixtureError("document", 0, f"{name} must be a list")
        lists[name] = records
    return lists


def _describe_duplicate(keys: tuple[str, ...], row: Row) -> str:
    if keys == ("access_key",):
        return "access_key"  # A secret: never echoed.
    return " and ".join(f"{key} {row[key]}" for key in keys)


class _Validator:
    """Checks the lists in document order and stops at the first bad record.

    A reference may name a record of the file (an earlier list, or its own list for an
    organization's HPC) or one already in the database.
    """

    def __init__(self) -> None:
        self._in_file: dict[str, set[int]] = {name: set() for name in _MODELS}
        self._in_database: dict[str, set[int]] = {name: set() for name in _MODELS}
        # The organization of each meeting series, the file's word over the database's.
        self._series_organization: dict[int, int] = {}

    def validate(self, lists: dict[str, list[object]]) -> dict[str, list[Row]]:
        return {name: self._validate_list(name, lists[name]) for name in LIST_NAMES}

    def _validate_list(self, name: str, records: list[object]) -> list[Row]:
        if name in self._in_file:
            # Every id the list declares, so an organization may name an HPC listed after it.
            self._in_file[name] = {
                record["id"]
                for record in records
                if isinstance(record, dict)
                and isinstance(record.get("id"), int)
                and not isinstance(record["id"], bool)
            }
        rows, failure = self._parse_until_failure(name, records)
        # A bad reference before the first malformed record is the first bad record.
        self._look_up_references(name, rows)
        key_owners = self._access_key_owners(rows) if name == "organizations" else {}
        idp_owners = _idp_id_owners(rows) if name == "memberships" else {}
        for index, row in enumerate(rows):
            reason = self._reference_problem(name, row, key_owners)
            if reason is None and name == "memberships":
                reason = _idp_id_problem(row, idp_owners)
            if reason is not None:
                raise FixtureError(name, index, reason)
        if failure is not None:
            raise failure
        if name == "meeting_series":
            self._series_organization.update((row["id"], row["organization_id"]) for row in rows)
        return rows

    def _parse_until_failure(
        self, name: str, records: list[object]
    ) -> tuple[list[Row], FixtureError | None]:
        rows: list[Row] = []
        first_seen: dict[tuple[tuple[str, ...], tuple[object, ...]], int] = {}
        for index, record in enumerate(records):
            try:
                row = parse_record(name, record)
                for keys in _UNIQUE_KEYS[name]:
                    value = (keys, tuple(row[key] for key in keys))
                    if value in first_seen:
                        raise InvalidValue(
                            f"duplicate {_describe_duplicate(keys, row)}"
                            f" (first at index {first_seen[value]})"
                        )
                    first_seen[value] = index
            except InvalidValue as exc:
                return rows, FixtureError(name, index, exc.reason)
            if name == "organizations":
                row["access_key_digest"] = digest_access_key(row.pop("access_key"))
                row["key_generation"] = 1
            rows.append(row)
        return rows, None

    def _look_up_references(self, name: str, rows: list[Row]) -> None:
        for key, target, _ in _REFERENCES[name]:
            known = self._in_file[target] | self._in_database[target]
            wanted = {row[key] for row in rows if row[key] is not None} - known
            if target == "meeting_series":
                self._in_database[target].update(self._stored_series(wanted))
            else:
                self._in_database[target].update(_stored_ids(_ID_FIELDS[target], wanted))

    def _stored_series(self, ids: set[int]) -> set[int]:
        found: set[int] = set()
        for chunk in peewee.chunked(sorted(ids), _LOOKUP_CHUNK):
            query = MeetingSeries.select(MeetingSeries.id, MeetingSeries.organization)
            for series_id, organization_id in _tuples(query.where(MeetingSeries.id.in_(chunk))):
                found.add(series_id)
                self._series_organization.setdefault(series_id, organization_id)
        return found

    @staticmethod
    def _access_key_owners(rows: list[Row]) -> dict[str, int]:
        digests = [row["access_key_digest"] for row in rows]
        owners: dict[str, int] = {}
        for chunk in peewee.chunked(digests, _LOOKUP_CHUNK):
            query = Organization.select(Organization.access_key_digest, Organization.id)
            owners.update(_tuples(query.where(Organization.access_key_digest.in_(chunk))))
        return owners

    def _reference_problem(self, name: str, row: Row, key_owners: dict[str, int]) -> str | None:
        for key, target, noun in _REFERENCES[name]:
            value = row[key]
            if value is None or value in self._in_file[target]:
                continue
            if value not in self._in_database[target]:
                return f"{key} {value} does not match any {noun} in the file or the database"
        if name == "organizations":
            if row["hpc_organization_id"] == row["id"]:
                return "hpc_organization_id must name another organization"
            owner = key_owners.get(row["access_key_digest"], row["id"])
            if owner != row["id"]:
                return f"access_key is already the key of organization {owner}"
        if name == "meetings" and row["meeting_series_id"] is not None:
            series_organization = self._series_organization[row["meeting_series_id"]]
            if series_organization != row["organization_id"]:
                return (
                    f"meeting_series_id {row['meeting_series_id']} belongs to organization"
                    f" {series_organization}, not {row['organization_id']}"
                )
        return None


def _idp_id_owners(rows: list[Row]) -> dict[tuple[int, str], int]:
    """The user already holding each (organization, idp_id) of `rows` in the database."""
    owners: dict[tuple[int, str], int] = {}
    for chunk in peewee.chunked(rows, _LOOKUP_CHUNK):
        wanted = peewee.Tuple(Membership.organization, Membership.idp_id).in_(
            [(row["organization_id"], row["idp_id"]) for row in chunk]
        )
        query = Membership.select(Membership.organization, Membership.idp_id, Membership.user)
        owners.update(((org, idp), user) for org, idp, user in _tuples(query.where(wanted)))
    return owners


def _idp_id_problem(row: Row, owners: dict[tuple[int, str], int]) -> str | None:
    owner = owners.get((row["organization_id"], row["idp_id"]), row["user_id"])
    if owner == row["user_id"]:
        return None
    return (
        f"idp_id {row['idp_id']!r} is already the idp_id of user {owner} in organization"
        f" {row['organization_id']}"
    )


def _tuples(query: peewee.ModelSelect[Any]) -> Iterator[tuple[Any, ...]]:
    # The stubs type every select as yielding model instances, whatever .tuples() asks for.
    return cast(Iterator[tuple[Any, ...]], iter(query.tuples()))


def _stored_ids(id_field: peewee.Field, ids: set[int]) -> set[int]:
    found: set[int] = set()
    for chunk in peewee.chunked(sorted(ids), _LOOKUP_CHUNK):
        query = id_field.model.select(id_field).where(id_field.in_(chunk))
        found.update(row[0] for row in _tuples(query))
    return found


def _rows_per_statement(columns: int) -> int:
    limit = _MAX_PARAMETERS
    connection = database_proxy.connection()
    if isinstance(connection, sqlite3.Connection):
        limit = min(limit, connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return max(1, limit // columns)


def _upsert(
    name: str,
    rows: Sequence[Row],
    conflict_target: Sequence[peewee.Field],
    update: dict[peewee.Field, Any],
    progress: Progress | None,
) -> None:
    """Insert the rows of a list in batches, updating the records that already exist."""
    columns = _COLUMNS[name]
    fields = [field for field, _ in columns]
    converters: list[tuple[Callable[[Any], Any], str]] = [
        (field.db_value, key) for field, key in columns
    ]
    model = fields[0].model
    # Building the SQL of a large multi-row insert costs peewee far more than running it, so
    # the text is built once per batch size and reused with the next batches' parameters.
    statements: dict[int, tuple[str, list[Any]]] = {}
    for batch in peewee.chunked(rows, _rows_per_statement(len(fields))):
        params = [convert(row[key]) for row in batch for convert, key in converters]
        statement = statements.get(len(batch))
        if statement is None:
            values = [tuple(row[key] for _, key in columns) for row in batch]
            query = model.insert_many(values, fields=fields)
            sql, query_params = query.on_conflict(
                conflict_target=conflict_target, update=update
            ).sql()
            # Reusable only if the rows' values lead the parameters, in order; any others
            # (from the conflict clause) follow them.
            if query_params[: len(params)] == params:
                statements[len(batch)] = (sql, query_params[len(params) :])
            database_proxy.execute_sql(sql, query_params)
        else:
            sql, trailing = statement
            database_proxy.execute_sql(sql, params + trailing)
        if progress is not None:
            progress(len(batch))


def _preserve(name: str, conflict_target: Iterable[peewee.Field]) -> dict[peewee.Field, Any]:
    """Every column but the conflict target takes the value from the file."""
    targets = {field.name for field in conflict_target}
    return {
        field: peewee.EXCLUDED[field.column_name]
        for field, _ in _COLUMNS[name]
        if field.name not in targets
    }


def _write(rows: dict[str, list[Row]], progress: Progress | None) -> None:
    organizations = rows["organizations"]
    # An organization may name an HPC that comes later in the file (or that names it back),
    # so the links are written once every organization exists.
    unlinked = [{**row, "hpc_organization_id": None} for row in organizations]
    organization_update = _preserve("organizations", [Organization.id, Organization.key_generation])
    # A new key invalidates the tokens minted from the old one, exactly as a rotation does.
    organization_update[Organization.key_generation] = peewee.Case(
        None,
        [
            (
                Organization.access_key_digest != peewee.EXCLUDED.access_key_digest,
                Organization.key_generation + 1,
            )
        ],
        Organization.key_generation,
    )
    del organization_update[Organization.hpc_organization]
    _upsert("organizations", unlinked, [Organization.id], organization_update, progress)
    linked = [row for row in organizations if row["hpc_organization_id"] is not None]
    hpc_update: dict[peewee.Field, Any] = {
        Organization.hpc_organization: peewee.EXCLUDED.hpc_organization_id
    }
    _upsert("organizations", linked, [Organization.id], hpc_update, None)

    for name in ("users", "meeting_series", "meetings"):
        id_field = _ID_FIELDS[name]
        _upsert(name, rows[name], [id_field], _preserve(name, [id_field]), progress)
    registration_key: list[peewee.Field] = [Registration.meeting, Registration.user]
    _upsert(
        "registrations",
        rows["registrations"],
        registration_key,
        _preserve("registrations", registration_key),
        progress,
    )
    membership_key: list[peewee.Field] = [Membership.organization, Membership.user]
    _upsert(
        "memberships",
        rows["memberships"],
        membership_key,
        _preserve("memberships", membership_key),
        progress,
    )
