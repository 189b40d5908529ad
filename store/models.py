"""Peewee models of the spec's data section; times are naive UTC."""

from __future__ import annotations

import peewee

from store.database import database_proxy

MEETING_STATUSES = ("scheduled", "complete", "cancel")
REGISTRATION_STATUSES = ("registered", "waitlisted", "cancelled")
# A member's identity-provider id: 1..255 characters (Membership.idp_id).
MAX_IDP_ID_LENGTH = 255


class BaseModel(peewee.Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class Organization(BaseModel):
    # Foreign-key id attributes peewee adds at run time, declared for type checkers.
    hpc_organization_id: int | None

    id = peewee.BigAutoField()
    name = peewee.TextField()
    time_zone = peewee.TextField(default="UTC")
    # sha256 hex digest of the access key; the key itself is never stored.
    access_key_digest = peewee.CharField(max_length=64, null=True, unique=True)
    # Incremented on every key rotation; tokens carry it, so older tokens stop working.
    key_generation = peewee.IntegerField(default=1)
    eap = peewee.BooleanField(default=False)
    hpc_organization = peewee.ForeignKeyField(
        "self", null=True, backref="eap_organizations", on_delete="SET NULL"
    )


class User(BaseModel):
    id = peewee.BigAutoField()
    first_name = peewee.TextField(null=True)
    last_name = peewee.TextField(null=True)
    avatar_url = peewee.TextField(null=True)


class MeetingSeries(BaseModel):
    organization_id: int

    id = peewee.BigAutoField()
    organization = peewee.ForeignKeyField(Organization, backref="meeting_series")


class Meeting(BaseModel):
    organization_id: int
    group_leader_id: int | None
    meeting_series_id: int | None

    id = peewee.BigAutoField()
    organization = peewee.ForeignKeyField(Organization, backref="meetings")
    name = peewee.TextField(null=True)
    meeting_type = peewee.TextField(null=True)
    start_time = peewee.DateTimeField()
    # Minutes.
    duration = peewee.IntegerField()
    # start_time + duration, stored so "has it ended" is an indexed comparison.
    end_time = peewee.DateTimeField()
    status = peewee.CharField(
        max_length=16,
        default="scheduled",
        constraints=[peewee.Check("status IN ('scheduled', 'complete', 'cancel')")],
    )
    topic = peewee.TextField(null=True)
    special_focus = peewee.TextField(null=True)
    host = peewee.TextField(null=True)
    location = peewee.TextField(null=True)
    price = peewee.DecimalField(max_digits=12, decimal_places=2, null=True)
    max_attendees = peewee.IntegerField(null=True)
    meeting_description = peewee.TextField(null=True)
    group_leader = peewee.ForeignKeyField(User, null=True, backref="led_meetings")
    privacy = peewee.BooleanField(default=False)
    eap = peewee.BooleanField(default=False)
    allow_meeting_donation = peewee.BooleanField(default=False)
    invitation_only = peewee.BooleanField(default=False)
    wait_list = peewee.BooleanField(default=False)
    meeting_series = peewee.ForeignKeyField(
        MeetingSeries, null=True, backref="meetings", on_delete="SET NULL"
    )

    class Meta:
        indexes = (
            (("organization", "start_time", "id"), False),
            # Serves the upcoming feed's filter, count and order without touching the table.
            (("organization", "end_time", "status", "start_time"), False),
            (("meeting_series", "start_time"), False),
            # The longest meeting of an organization, read by the upcoming feed to start its
            # page at `now` less that (see store.upcoming).
            (("organization", "duration"), False),
        )


class Registration(BaseModel):
    meeting_id: int
    user_id: int

    id = peewee.BigAutoField()
    meeting = peewee.ForeignKeyField(Meeting, backref="registrations", on_delete="CASCADE")
    user = peewee.ForeignKeyField(User, backref="registrations")
    status = peewee.CharField(
        max_length=16,
        default="registered",
        constraints=[peewee.Check("status IN ('registered', 'waitlisted', 'cancelled')")],
    )
    # When the registration was made (naive UTC); null when not recorded.
    registered_at = peewee.DateTimeField(null=True)

    class Meta:
        indexes = (
            (("meeting", "user"), True),
            (("meeting", "status"), False),
            # A member's schedule (store.member_upcoming): one user's live registrations and
            # their meetings, read from the index alone.
            (("user", "status", "meeting"), False),
        )


class Membership(BaseModel):
    """A user's membership in an organization, under the id its identity provider gave them."""

    organization_id: int
    user_id: int

    id = peewee.BigAutoField()
    organization = peewee.ForeignKeyField(Organization, backref="memberships", on_delete="CASCADE")
    user = peewee.ForeignKeyField(User, backref="memberships")
    # The member's identity-provider (SSO) id: 1..255 characters, unique in the organization,
    # matched exactly (case included).
    idp_id = peewee.CharField(max_length=MAX_IDP_ID_LENGTH)

    class Meta:
        indexes = (
            # Serves the lookup of a member by (organization, idp_id).
            (("organization", "idp_id"), True),
            # One membership per user and organization; the loader matches records by it.
            (("organization", "user"), True),
        )


class SchemaVersion(BaseModel):
    """One row: the schema version this database was migrated to."""

    version = peewee.IntegerField()


ALL_MODELS: list[type[BaseModel]] = [
    Organization,
    User,
    MeetingSeries,
    Meeting,
    Registration,
    Membership,
    SchemaVersion,
]
