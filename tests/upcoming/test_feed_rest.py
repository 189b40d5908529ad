"""GET /api/v2/organizations/{id}/upcoming_meetings through the gateway: selection, scope,
paging, the 422s and each meeting's fields. The suite's clock reads 2026-05-20T12:00:00Z."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson
import pytest

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from server.display import DEFAULT_AVATAR_URL
from tests.conftest import FakeClock
from tests.upcoming.conftest import (
    ACCESS_KEY,
    ORG_ID,
    OTHER_ACCESS_KEY,
    OTHER_ORG_ID,
    Document,
    Feed,
    document,
    meeting,
    organization,
    registration,
    series,
    user,
)

Load = Callable[[Document], None]
SERIES_ERROR = b'{"error":"Parameter meeting_series_id must be a positive integer"}'


async def listed(feed: Feed, query: str = "", **kwargs: Any) -> list[int]:
    response = await feed(query, **kwargs)
    assert response.status == 200, await response.text()
    return [m["id"] for m in (await response.json())["meetings"]]


# --- paging ---------------------------------------------------------------------------------

PAGED = 45
PAGED_IDS = [2001 + n for n in range(PAGED)]


def paged_document() -> Document:
    return document(
        meetings=[
            meeting(meeting_id, f"2026-06-01T{n // 4:02d}:{n % 4 * 15:02d}:00+00:00")
            for n, meeting_id in enumerate(PAGED_IDS)
        ]
    )


@pytest.mark.parametrize(
    ("query", "current_page", "items", "total_pages", "ids"),
    [
        ("", 1, 20, 3, PAGED_IDS[:20]),
        ("page=&items=", 1, 20, 3, PAGED_IDS[:20]),
        ("page=1&items=20", 1, 20, 3, PAGED_IDS[:20]),
        ("page=2", 2, 20, 3, PAGED_IDS[20:40]),
        ("page=3", 3, 20, 3, PAGED_IDS[40:]),
        ("page=4", 4, 20, 3, []),
        ("page=0", 1, 20, 3, PAGED_IDS[:20]),
        ("page=-7", 1, 20, 3, PAGED_IDS[:20]),
        ("page=99999999999", 2**31 - 1, 20, 3, []),
        ("page=1&page=2", 2, 20, 3, PAGED_IDS[20:40]),  # the last value wins, as in Rails
        ("items=0", 1, 1, 45, PAGED_IDS[:1]),
        ("items=-5", 1, 1, 45, PAGED_IDS[:1]),
        ("items=1&page=45", 45, 1, 45, PAGED_IDS[44:]),
        ("items=1&page=46", 46, 1, 45, []),
        ("items=15", 1, 15, 3, PAGED_IDS[:15]),
        ("items=15&page=3", 3, 15, 3, PAGED_IDS[30:]),
        ("items=44", 1, 44, 2, PAGED_IDS[:44]),
        ("items=44&page=2", 2, 44, 2, PAGED_IDS[44:]),
        ("items=45", 1, 45, 1, PAGED_IDS),
        ("items=100", 1, 100, 1, PAGED_IDS),
        ("items=101", 1, 100, 1, PAGED_IDS),
        ("items=99999999999", 1, 100, 1, PAGED_IDS),
        ("items=+10&page=+2", 2, 10, 5, PAGED_IDS[10:20]),
    ],
)
async def test_paging(
    load: Load,
    feed: Feed,
    query: str,
    current_page: int,
    items: int,
    total_pages: int,
    ids: list[int],
) -> None:
    load(paged_document())
    response = await feed(query)
    assert response.status == 200
    body = await response.json()
    assert (body["current_page"], body["items"], body["total_items"], body["total_pages"]) == (
        current_page,
        items,
        PAGED,
        total_pages,
    )
    assert [m["id"] for m in body["meetings"]] == ids


async def test_nothing_upcoming_is_zero_pages(load: Load, feed: Feed) -> None:
    load(document(meetings=[meeting(1, "2026-05-01T15:00:00+00:00")]))
    response = await feed()
    assert await response.read() == (
        b'{"current_page":1,"items":20,"total_items":0,"total_pages":0,"meetings":[]}'
    )


# --- the 422s -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["abc", "0", "-3", "1.5", "-0", "12abc", "0x1F", "1e3", "%C2%BD", "true"]
)
async def test_a_bad_meeting_series_id_is_the_pages_422(load: Load, feed: Feed, value: str) -> None:
    load(document(meeting_series=[series(412)], meetings=[meeting(1, meeting_series_id=412)]))
    response = await feed(f"meeting_series_id={value}")
    assert response.status == 422
    assert response.content_type == "application/json"
    assert await response.read() == SERIES_ERROR


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("page=x", "Parameter page must be an integer"),
        ("page=1.5", "Parameter page must be an integer"),
        ("page=2.0", "Parameter page must be an integer"),
        ("items=x", "Parameter items must be an integer"),
        ("items=2.5", "Parameter items must be an integer"),
        ("items=ten&page=1", "Parameter items must be an integer"),
    ],
)
async def test_a_non_integer_page_or_items_is_a_422_naming_it(
    load: Load, feed: Feed, query: str, error: str
) -> None:
    load(document(meetings=[meeting(1)]))
    response = await feed(query)
    assert response.status == 422
    assert await response.json() == {"error": error}


async def test_a_bad_series_id_is_reported_before_a_bad_page(load: Load, feed: Feed) -> None:
    load(document())
    response = await feed("meeting_series_id=abc&page=x")
    assert (response.status, await response.read()) == (422, SERIES_ERROR)


async def test_another_organizations_token_is_not_authorized(load: Load, feed: Feed) -> None:
    load(document(organizations=[organization(), organization(OTHER_ORG_ID, key=OTHER_ACCESS_KEY)]))
    response = await feed(org=ORG_ID, key=OTHER_ACCESS_KEY)
    assert response.status == 401
    assert await response.json() == {"error": "Not Authorized"}


# --- the series filter ----------------------------------------------------------------------

EAP_ID, HPC_ID = 7, 8
EAP_KEY, HPC_KEY = "upcoming-feed-test-eap-7", "upcoming-feed-test-hpc-8"


def series_document() -> Document:
    return document(
        organizations=[
            organization(),
            organization(OTHER_ORG_ID, key=OTHER_ACCESS_KEY),
            organization(EAP_ID, key=EAP_KEY, eap=True, hpc=HPC_ID),
            organization(HPC_ID, key=HPC_KEY),
        ],
        meeting_series=[
            series(412),
            series(413),
            series(612, OTHER_ORG_ID),
            series(712, EAP_ID),
            series(812, HPC_ID),
        ],
        meetings=[
            meeting(1, "2026-05-21T15:00:00+00:00", meeting_series_id=412),
            meeting(2, "2026-05-22T15:00:00+00:00", meeting_series_id=413),
            meeting(3, "2026-05-23T15:00:00+00:00", meeting_series_id=412),
            meeting(4, "2026-05-24T15:00:00+00:00"),
            meeting(5, "2026-05-19T15:00:00+00:00", meeting_series_id=412),  # ended
            meeting(6, organization_id=OTHER_ORG_ID, meeting_series_id=612),
            meeting(7, organization_id=EAP_ID, meeting_series_id=712),
            meeting(8, "2026-05-22T09:00:00+00:00", organization_id=HPC_ID, meeting_series_id=812),
            meeting(9, "2026-05-24T15:00:00+00:00", organization_id=HPC_ID),
        ],
    )


@pytest.mark.parametrize(
    ("query", "key", "org", "ids"),
    [
        ("meeting_series_id=412", ACCESS_KEY, ORG_ID, [1, 3]),
        ("meeting_series_id=413", ACCESS_KEY, ORG_ID, [2]),
        ("meeting_series_id=", ACCESS_KEY, ORG_ID, [1, 2, 3, 4]),
        ("meeting_series_id=%20", ACCESS_KEY, ORG_ID, [1, 2, 3, 4]),
        ("", ACCESS_KEY, ORG_ID, [1, 2, 3, 4]),
        # Another organization's series, or none at all: an empty list, never their meetings.
        ("meeting_series_id=612", ACCESS_KEY, ORG_ID, []),
        ("meeting_series_id=812", ACCESS_KEY, ORG_ID, []),
        ("meeting_series_id=99999", ACCESS_KEY, ORG_ID, []),
        ("meeting_series_id=99999999999999999999999", ACCESS_KEY, ORG_ID, []),
        ("meeting_series_id=412", OTHER_ACCESS_KEY, OTHER_ORG_ID, []),
        # An EAP organization's feed holds its HPC's meetings, so their series filter too.
        ("", EAP_KEY, EAP_ID, [8, 7, 9]),
        ("meeting_series_id=712", EAP_KEY, EAP_ID, [7]),
        ("meeting_series_id=812", EAP_KEY, EAP_ID, [8]),
        # The HPC organization does not see its EAP partner's meetings or series.
        ("", HPC_KEY, HPC_ID, [8, 9]),
        ("meeting_series_id=712", HPC_KEY, HPC_ID, []),
    ],
)
async def test_the_series_filter_is_scoped_to_the_organization(
    load: Load, feed: Feed, query: str, key: str, org: int, ids: list[int]
) -> None:
    load(series_document())
    response = await feed(query, org=org, key=key)
    assert response.status == 200
    body = await response.json()
    assert [m["id"] for m in body["meetings"]] == ids
    assert body["total_items"] == len(ids)


@pytest.mark.parametrize("series_id", [412, 2**62, 2**63 - 1])
async def test_rest_and_grpc_agree_on_any_int64_series_id(
    load: Load, feed: Feed, grpc_feed: Callable[..., Any], series_id: int
) -> None:
    load(series_document())
    rest = await listed(feed, f"meeting_series_id={series_id}")
    typed = grpc_feed(
        pb.ListUpcomingMeetingsRequest(organization_id=ORG_ID, meeting_series_id=series_id)
    )
    assert rest == [m.id for m in typed.meetings] == ([1, 3] if series_id == 412 else [])


# --- which meetings are listed, in which order ----------------------------------------------


async def test_only_meetings_not_ended_and_neither_cancelled_nor_complete(
    load: Load, feed: Feed
) -> None:
    load(
        document(
            meetings=[
                meeting(1, "2026-05-20T11:30:00+00:00"),  # in progress: listed
                meeting(2, "2026-05-20T11:00:00+00:00"),  # ended exactly now
                meeting(3, "2026-05-20T10:59:00+00:00"),  # ended a minute ago
                meeting(4, "2026-05-21T15:00:00+00:00", status="cancel"),
                meeting(5, "2026-05-21T15:00:00+00:00", status="complete"),
                meeting(6, "2026-05-20T11:30:00+00:00", status="complete"),  # in progress
                meeting(7, "2026-05-20T11:30:00+00:00", status="cancel"),  # in progress
                meeting(8, "2026-05-20T12:00:00+00:00"),  # starts now
                meeting(9, "2026-05-20T11:59:00+00:00", duration=1),  # ends now
                meeting(10, "2026-05-20T11:59:00+00:00", duration=2),  # ends in a minute
                meeting(11, "2030-01-01T00:00:00+00:00"),
            ]
        )
    )
    assert await listed(feed) == [1, 10, 8, 11]


async def test_a_meeting_leaves_the_feed_once_it_ends(
    load: Load, feed: Feed, clock: FakeClock
) -> None:
    load(document(meetings=[meeting(1, "2026-05-20T12:30:00+00:00", duration=30)]))
    assert await listed(feed) == [1]
    clock.advance(timedelta(minutes=45))  # in progress
    assert await listed(feed) == [1]
    clock.advance(timedelta(minutes=15))  # ended exactly now
    assert await listed(feed) == []


async def test_ordered_by_start_time_then_id(load: Load, feed: Feed) -> None:
    load(
        document(
            meetings=[
                meeting(30, "2026-05-22T15:00:00+00:00"),
                meeting(12, "2026-05-23T15:00:00+00:00"),
                meeting(11, "2026-05-23T15:00:00+00:00"),
                meeting(40, "2026-05-21T23:00:00-04:00"),  # 2026-05-22T03:00Z
                meeting(10, "2026-05-23T15:00:00.001+00:00"),
            ]
        )
    )
    assert await listed(feed) == [40, 30, 11, 12, 10]


async def test_an_organization_with_an_hpc_but_no_eap_sees_only_its_own(
    load: Load, feed: Feed
) -> None:
    load(
        document(
            organizations=[organization(hpc=HPC_ID), organization(HPC_ID, key=HPC_KEY)],
            meetings=[meeting(1), meeting(2, organization_id=HPC_ID)],
        )
    )
    assert await listed(feed) == [1]


# --- each meeting's fields ------------------------------------------------------------------


async def test_unset_fields_are_null_and_zero_is_a_value(load: Load, feed: Feed) -> None:
    load(
        document(
            meetings=[
                meeting(
                    1,
                    name=None,
                    topic=None,
                    meeting_description=None,
                    location=None,
                    max_attendees=None,
                ),
                meeting(2, "2026-05-24T15:00:00+00:00", max_attendees=0, name="", topic=""),
            ]
        )
    )
    body = await (await feed()).json()
    first, second = body["meetings"]
    assert first == {
        "id": 1,
        "name": None,
        "start_time": "2026-05-23T15:00:00.000Z",
        "end_time": "2026-05-23T16:00:00.000Z",
        "duration": "1 hour",
        "duration_in_minutes": 60,
        "topic": None,
        "description": None,
        "location": None,
        "meeting_series_id": None,
        "max_attendees": None,
        "registered_attendees": 0,
        "group_leader": None,
    }
    assert (second["max_attendees"], second["name"], second["topic"]) == (0, "", "")


@pytest.mark.parametrize(
    ("minutes", "words", "end_time"),
    [
        (1, "1 minute", "2026-05-23T15:01:00.000Z"),
        (30, "30 minutes", "2026-05-23T15:30:00.000Z"),
        (60, "1 hour", "2026-05-23T16:00:00.000Z"),
        (90, "1 hour 30 minutes", "2026-05-23T16:30:00.000Z"),
        (120, "2 hours", "2026-05-23T17:00:00.000Z"),
        (45, "45 minutes", "2026-05-23T15:45:00.000Z"),
        (600, "10 hours", "2026-05-24T01:00:00.000Z"),  # ends the next day
    ],
)
async def test_durations(load: Load, feed: Feed, minutes: int, words: str, end_time: str) -> None:
    load(document(meetings=[meeting(1, "2026-05-23T15:00:00+00:00", duration=minutes)]))
    (got,) = (await (await feed()).json())["meetings"]
    assert (got["start_time"], got["end_time"]) == ("2026-05-23T15:00:00.000Z", end_time)
    assert (got["duration"], got["duration_in_minutes"]) == (words, minutes)


@pytest.mark.parametrize(
    ("start", "start_time", "end_time"),
    [
        ("2026-05-23T11:00:00-04:00", "2026-05-23T15:00:00.000Z", "2026-05-23T16:30:00.000Z"),
        ("2026-05-23T15:00:30.250+00:00", "2026-05-23T15:00:30.250Z", "2026-05-23T16:30:30.250Z"),
        ("2026-05-24T01:00:00+09:00", "2026-05-23T16:00:00.000Z", "2026-05-23T17:30:00.000Z"),
    ],
)
async def test_times_are_utc_with_milliseconds(
    load: Load, feed: Feed, start: str, start_time: str, end_time: str
) -> None:
    load(document(meetings=[meeting(1, start, duration=90)]))
    (got,) = (await (await feed()).json())["meetings"]
    assert (got["start_time"], got["end_time"]) == (start_time, end_time)


AVATAR = "https://assets.example.org/users/avatars/thumb/31.png"


@pytest.mark.parametrize(
    ("first", "last", "avatar", "leader"),
    [
        ("Jane", "Doe", AVATAR, {"id": 31, "name": "Jane D.", "avatar": AVATAR}),
        ("Jane", None, None, {"id": 31, "name": "Jane", "avatar": DEFAULT_AVATAR_URL}),
        ("Jane", "", "", {"id": 31, "name": "Jane", "avatar": DEFAULT_AVATAR_URL}),
        ("Sam", "lee", None, {"id": 31, "name": "Sam L.", "avatar": DEFAULT_AVATAR_URL}),
        (None, "Doe", AVATAR, {"id": 31, "name": "D.", "avatar": AVATAR}),
        (None, None, None, {"id": 31, "name": "", "avatar": DEFAULT_AVATAR_URL}),
    ],
)
async def test_leader_profiles(
    load: Load,
    feed: Feed,
    first: str | None,
    last: str | None,
    avatar: str | None,
    leader: dict[str, Any],
) -> None:
    load(
        document(
            users=[user(31, first, last, avatar)],
            meetings=[meeting(1, group_leader_id=31)],
        )
    )
    (got,) = (await (await feed()).json())["meetings"]
    assert got["group_leader"] == leader
    assert list(got["group_leader"]) == ["id", "name", "avatar"]


async def test_registered_attendees(load: Load, feed: Feed) -> None:
    users = [user(user_id) for user_id in range(1, 9)]
    load(
        document(
            users=users,
            meetings=[
                meeting(101, "2026-05-21T15:00:00+00:00", group_leader_id=1),
                meeting(102, "2026-05-22T15:00:00+00:00"),  # no leader: everyone counts
                meeting(103, "2026-05-23T15:00:00+00:00", group_leader_id=2),
                meeting(104, "2026-05-24T15:00:00+00:00", group_leader_id=3),
            ],
            registrations=[
                registration(101, 1),  # its own leader: not counted
                registration(101, 2),  # the leader of another meeting attends this one
                registration(101, 3),
                registration(101, 4, "waitlisted"),
                registration(101, 5, "cancelled"),
                registration(102, 1),
                registration(102, 2),
                registration(102, 3),
                registration(103, 4, "waitlisted"),
                registration(103, 5, "cancelled"),
                registration(103, 2),  # only the leader registered
            ],
        )
    )
    body = await (await feed()).json()
    counts = {m["id"]: m["registered_attendees"] for m in body["meetings"]}
    assert counts == {101: 2, 102: 3, 103: 0, 104: 0}


async def test_the_gateway_answers_compact_json(load: Load, feed: Feed) -> None:
    load(document(meetings=[meeting(1)]))
    raw = await (await feed()).read()
    assert raw == orjson.dumps(orjson.loads(raw))


async def test_a_polled_page_shows_every_change_to_its_meetings(load: Load, feed: Feed) -> None:
    # The server keeps the typed meetings it built and the gateway the bodies it rendered:
    # a meeting renamed, registered for or given a leader must still show on the next poll.
    load(document(users=[user(1), user(2)], meetings=[meeting(1, name="Morning Circle")]))
    first = await (await feed()).json()
    assert (await (await feed()).json()) == first
    load(
        document(
            users=[user(1), user(2)],
            meetings=[meeting(1, name="Evening Circle", group_leader_id=1)],
            registrations=[registration(1, 2)],
        )
    )
    (changed,) = (await (await feed()).json())["meetings"]
    assert changed["name"] == "Evening Circle"
    assert changed["registered_attendees"] == 1
    assert changed["group_leader"]["id"] == 1
    assert first["meetings"][0]["name"] == "Morning Circle"
    assert first["meetings"][0]["group_leader"] is None
