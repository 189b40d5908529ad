"""Demo data: an EAP organization and its HPC organization with realistic meetings, leaders,
registrations (with when they were made) and SSO members, generated from a seed and written
through the fixture loader."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import peewee
from tqdm import tqdm

from store.database import database_proxy
from store.keys import generate_access_key
from store.loader import load_fixture
from store.models import Meeting, MeetingSeries, Organization, User
from store.session import transaction

DEMO_ORGANIZATION = "Heypeers Demo"
HPC_ORGANIZATION = "HeyPeers Counseling"
TIME_ZONE = "America/New_York"
PAST_DAYS = 548  # about 18 months
FUTURE_DAYS = 92  # about 3 months
USER_COUNT = 50
LEADER_COUNT = 12
HPC_SHARE = 0.15

# (topic, word used in meeting names, what the meeting is about)
_TOPICS = (
    ("Grief & Loss", "Grief", "grief and loss"),
    ("Anxiety", "Anxiety", "anxiety and worry"),
    ("Depression", "Depression", "living with depression"),
    ("Addiction Recovery", "Recovery", "recovery from addiction"),
    ("Parenting", "Parents", "the ups and downs of parenting"),
    ("Caregiving", "Caregiver", "caring for a loved one"),
    ("Chronic Illness", "Chronic Illness", "living with chronic illness"),
    ("LGBTQ+", "LGBTQ+", "LGBTQ+ life and identity"),
    ("Veterans", "Veterans", "life during and after service"),
    ("Workplace Stress", "Burnout", "stress and burnout at work"),
    ("Divorce & Separation", "Divorce", "divorce and separation"),
    ("Mindfulness", "Mindfulness", "building a mindfulness practice"),
)
_FORMATS = ("Support Circle", "Peer Group", "Check-In", "Sharing Circle", "Workshop")
_SPECIAL_FOCUSES = ("Young Adults", "Seniors", "Women", "Men", "Spanish Speaking", "BIPOC")
_HOSTS = ("HeyPeers", "HeyPeers", "Heypeers Demo", "Community Partner")
_FIRST_NAMES = (
    "Jane", "Marcus", "Aisha", "Diego", "Emily", "Kenji", "Fatima", "Liam", "Sofia", "Noah",
    "Priya", "Samuel", "Grace", "Mateo", "Hannah", "Omar", "Chloe", "Ethan", "Zara", "Lucas",
    "Maya", "Isaac", "Leah", "Andre", "Nora", "Tomas", "Ruth", "Kwame", "Ivy", "Daniel",
)  # fmt: skip
_LAST_NAMES = (
    "Doe", "Johnson", "Okafor", "Martinez", "Chen", "Tanaka", "Haddad", "Murphy", "Rossi",
    "Williams", "Patel", "Cohen", "Kim", "Garcia", "Schmidt", "Ali", "Dubois", "Brown",
    "Nguyen", "Silva", "Mensah", "Kowalski", "Reyes", "Novak",
)  # fmt: skip
_DURATIONS = ((30, 2), (45, 2), (60, 6), (90, 3), (120, 1))
# Every demo user is a member of the demo organization under an identity-provider id of this
# form (1-based position of the user), leaders also of the HPC organization under another.
MEMBER_IDP_ID = "auth0|demo-member-{:03d}"
HPC_IDP_ID = "hpc-sso/counselor-{:03d}"
# The member `meetings demo` prints to try: the first user, whose id does not depend on the seed.
DEMO_MEMBER_IDP_ID = MEMBER_IDP_ID.format(1)
# Share of registrations made before registration times were recorded (registered_at null).
UNRECORDED_SHARE = 0.1


@dataclass(frozen=True)
class _Series:
    id: int
    organization_id: int
    topic: tuple[str, str, str]
    format: str
    leader_id: int | None
    weekday: int
    start: time
    duration: int


def create_demo(
    n_meetings: int = 5000,
    *,
    seed: int = 7,
    progress: bool = True,
    now: datetime | None = None,
) -> tuple[int, str]:
    """Create the demo organizations, users, meetings and registrations in one transaction.

    Returns the demo organization's id and its access key (the HPC organization's key is not
    kept; rotate it to use it). The same seed and `now` give the same data.
    """
    if n_meetings < 0:
        raise ValueError("the number of meetings must not be negative")
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    access_key = generate_access_key()
    with transaction():
        first_ids = _reserve_ids()
        document = _DemoBuilder(random.Random(seed), now, first_ids).build(n_meetings, access_key)
        total = sum(len(records) for records in document.values())
        with tqdm(total=total, desc="Demo data", unit=" records", disable=not progress) as bar:
            load_fixture(document, progress=bar.update)
    return first_ids["organizations"], access_key


def database_is_empty() -> bool:
    """Whether the database holds no organization yet."""
    with transaction():
        return not Organization.select().exists()


def _reserve_ids() -> dict[str, int]:
    """The first free id of each table; the demo's records are numbered from there."""
    if isinstance(database_proxy.obj, peewee.PostgresqlDatabase):
        # Holds off other writers (not readers) until commit, so nobody takes these ids.
        tables = ", ".join(
            f'"{model._meta.table_name}"' for model in (Organization, User, MeetingSeries, Meeting)
        )
        database_proxy.execute_sql(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
    fields = {
        "organizations": Organization.id,
        "users": User.id,
        "meeting_series": MeetingSeries.id,
        "meetings": Meeting.id,
    }
    return {
        name: (field.model.select(peewee.fn.MAX(field)).scalar() or 0) + 1
        for name, field in fields.items()
    }


class _DemoBuilder:
    """Builds the fixture document of the demo from a random generator."""

    def __init__(self, rng: random.Random, now: datetime, first_ids: dict[str, int]) -> None:
        self.rng = rng
        self.now = now
        self.zone = ZoneInfo(TIME_ZONE)
        self.today = now.astimezone(self.zone).date()
        self.first_ids = first_ids
        self.demo_id = first_ids["organizations"]
        self.hpc_id = self.demo_id + 1

    def build(self, n_meetings: int, access_key: str) -> dict[str, list[dict[str, Any]]]:
        users = self._users()
        leader_ids = [user["id"] for user in self.rng.sample(users, LEADER_COUNT)]
        series = self._series(leader_ids)
        meetings = self._meetings(n_meetings, leader_ids, series)
        registrations = self._registrations(meetings, [user["id"] for user in users])
        return {
            "organizations": self._organizations(access_key),
            "users": users,
            "meeting_series": [
                {"id": one.id, "organization_id": one.organization_id} for one in series
            ],
            "meetings": meetings,
            "registrations": registrations,
            "memberships": self._memberships(users, leader_ids),
        }

    def _organizations(self, access_key: str) -> list[dict[str, Any]]:
        demo = {
            "id": self.demo_id,
            "name": DEMO_ORGANIZATION,
            "access_key": access_key,
            "time_zone": TIME_ZONE,
            "eap": True,
            "hpc_organization_id": self.hpc_id,
        }
        hpc = {
            "id": self.hpc_id,
            "name": HPC_ORGANIZATION,
            "access_key": generate_access_key(),
            "time_zone": TIME_ZONE,
            "eap": False,
            "hpc_organization_id": None,
        }
        return [demo, hpc]

    def _users(self) -> list[dict[str, Any]]:
        users = []
        for offset in range(USER_COUNT):
            user_id = self.first_ids["users"] + offset
            has_avatar = self.rng.random() >= 0.25
            users.append(
                {
                    "id": user_id,
                    "first_name": self.rng.choice(_FIRST_NAMES),
                    "last_name": self.rng.choice(_LAST_NAMES)
                    if self.rng.random() >= 0.12
                    else None,
                    "avatar_url": (
                        f"https://assets.example.org/users/avatars/thumb/{user_id}.png"
                        if has_avatar
                        else None
                    ),
                }
            )
        return users

    def _memberships(
        self, users: list[dict[str, Any]], leader_ids: list[int]
    ) -> list[dict[str, Any]]:
        members = [
            {"organization_id": self.demo_id, "user_id": user["id"], "idp_id": MEMBER_IDP_ID}
            for user in users
        ]
        counselors = [
            {"organization_id": self.hpc_id, "user_id": user["id"], "idp_id": HPC_IDP_ID}
            for user in users
            if user["id"] in leader_ids
        ]
        return [
            {**record, "idp_id": record["idp_id"].format(position)}
            for group in (members, counselors)
            for position, record in enumerate(group, start=1)
        ]

    def _registered_at(self, starts_at: datetime) -> str | None:
        """A sign-up a few hours to a month before the meeting, never after `now`."""
        if self.rng.random() < UNRECORDED_SHARE:
            return None
        ahead = timedelta(minutes=self.rng.randrange(60, 30 * 24 * 60))
        moment = min(starts_at - ahead, self.now - timedelta(minutes=self.rng.randrange(1, 600)))
        return moment.astimezone(UTC).replace(microsecond=0).isoformat()

    def _series(self, leader_ids: list[int]) -> list[_Series]:
        organizations = [self.demo_id] * 16 + [self.hpc_id] * 4
        return [
            _Series(
                id=self.first_ids["meeting_series"] + offset,
                organization_id=organization_id,
                topic=self.rng.choice(_TOPICS),
                format=self.rng.choice(_FORMATS),
                leader_id=self.rng.choice(leader_ids),
                weekday=self.rng.randrange(7),
                start=self._time_of_day(),
                duration=self._duration(),
            )
            for offset, organization_id in enumerate(organizations)
        ]

    def _time_of_day(self) -> time:
        return time(self.rng.randrange(8, 21), self.rng.choice((0, 0, 15, 30, 30, 45)))

    def _duration(self) -> int:
        values, weights = zip(*_DURATIONS, strict=True)
        return self.rng.choices(values, weights)[0]

    def _meetings(
        self, count: int, leader_ids: list[int], series: list[_Series]
    ) -> list[dict[str, Any]]:
        hpc_count = round(count * HPC_SHARE)
        meetings = [
            self._meeting(self.hpc_id if index < hpc_count else self.demo_id, leader_ids, series)
            for index in range(count)
        ]
        # Ids grow with start time, as they would have on the platform.
        meetings.sort(key=lambda meeting: datetime.fromisoformat(meeting["start_time"]))
        for offset, meeting in enumerate(meetings):
            meeting["id"] = self.first_ids["meetings"] + offset
        return meetings

    def _meeting(
        self, organization_id: int, leader_ids: list[int], all_series: list[_Series]
    ) -> dict[str, Any]:
        rng = self.rng
        day = self.today + timedelta(days=rng.randrange(-PAST_DAYS, FUTURE_DAYS))
        one_to_one = rng.random() < 0.12
        series = None
        leader_id: int | None
        if not one_to_one and rng.random() < 0.4:
            series = rng.choice([s for s in all_series if s.organization_id == organization_id])
        if series is not None:
            topic, format_, leader_id = series.topic, series.format, series.leader_id
            day += timedelta(days=(series.weekday - day.weekday()) % 7)
            start, duration = series.start, series.duration
        else:
            topic, format_ = rng.choice(_TOPICS), rng.choice(_FORMATS)
            leader_id = rng.choice(leader_ids) if rng.random() < 0.9 else None
            start, duration = self._time_of_day(), self._duration()
        starts_at = datetime.combine(day, start, self.zone)
        max_attendees: int | None
        if one_to_one:
            name, max_attendees, duration = f"One-on-One {topic[1]} Session", 1, 45
        else:
            name = f"{_part_of_day(start)} {topic[1]} {format_}"
            max_attendees = rng.choice((8, 10, 12, 12, 15, 20, 25, None))
        price = rng.choices((None, 10, 12.5), (8, 1, 1))[0]
        return {
            "id": 0,  # numbered once sorted
            "organization_id": organization_id,
            "name": name,
            "meeting_type": "OneToOne" if one_to_one else "Group",
            "start_time": starts_at.isoformat(),
            "duration": duration,
            "status": self._status(starts_at + timedelta(minutes=duration)),
            "topic": topic[0],
            "special_focus": rng.choice(_SPECIAL_FOCUSES) if rng.random() < 0.2 else None,
            "host": rng.choice(_HOSTS),
            "location": "heypeers" if rng.random() < 0.8 else "zoom",
            "price": price,
            "max_attendees": max_attendees,
            "meeting_description": (
                f"A supportive space for {topic[2]}. Share, listen and learn from peers "
                "who understand."
            ),
            "group_leader_id": leader_id,
            "privacy": rng.random() < 0.1,
            "eap": rng.random() < (0.5 if organization_id == self.hpc_id else 0.2),
            "allow_meeting_donation": price is None and rng.random() < 0.25,
            "invitation_only": rng.random() < 0.05,
            "wait_list": rng.random() < 0.2,
            "meeting_series_id": series.id if series is not None else None,
        }

    def _status(self, ends_at: datetime) -> str:
        if ends_at <= self.now:
            return self.rng.choices(("scheduled", "complete", "cancel"), (55, 35, 10))[0]
        return self.rng.choices(("scheduled", "cancel"), (94, 6))[0]

    def _registrations(
        self, meetings: list[dict[str, Any]], user_ids: list[int]
    ) -> list[dict[str, Any]]:
        rng = self.rng
        registrations = []
        for meeting in meetings:
            leader_id = meeting["group_leader_id"]
            candidates = [user_id for user_id in user_ids if user_id != leader_id]
            capacity = meeting["max_attendees"] or 14
            attendees = rng.sample(candidates, rng.randint(0, min(capacity, 14)))
            # Leaders often register for their own meetings; the API must not count them.
            if leader_id is not None and rng.random() < 0.3:
                attendees.append(leader_id)
            for user_id in attendees:
                if meeting["status"] == "cancel":
                    status = "cancelled"
                else:
                    status = rng.choices(("registered", "waitlisted", "cancelled"), (78, 8, 14))[0]
                registered_at = self._registered_at(datetime.fromisoformat(meeting["start_time"]))
                registrations.append(
                    {
                        "meeting_id": meeting["id"],
                        "user_id": user_id,
                        "status": status,
                        "registered_at": registered_at,
                    }
                )
        return registrations


def _part_of_day(start: time) -> str:
    if start.hour < 12:
        return "Morning"
    if start.hour < 17:
        return "Afternoon"
    return "Evening"
