"""GET /api/v2/organizations/{id}/members/{idp_id}/upcoming_meetings through the gateway: the
legacy shape, which meetings are listed, paging, the 404/422/401s and percent-encoded ids.
The suite's clock reads 2026-05-20T12:00:00Z."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from tests.member_upcoming.conftest import (
    MEMBER,
    MEMBER_IDP,
    OTHER_ACCESS_KEY,
    OTHER_ORG_ID,
    Document,
    document,
    meeting,
    member_path,
    membership,
    registration,
    user,
)
from tests.upcoming.conftest import organization

Load = Callable[[Document], None]
Feed = Callable[..., Any]
LEADER = 4501
KEYS = [
    "id", "name", "start_time", "end_time", "duration", "duration_in_minutes", "topic",
    "description", "location", "max_attendees", "registered_attendees", "group_leader",
    "waiting_status", "registered", "registered_at",
]  # fmt: skip


def schedule_document() -> Document:
    """The member's registrations across every case of the selection rule."""
    leader = user(LEADER, "Jane", "Doe", "https://assets.example.org/4501.png")
    others = [user(n) for n in range(101, 105)]
    meetings = [
        meeting(1, "2026-05-23T15:00:00+00:00", group_leader_id=LEADER),
        meeting(2, "2026-05-24T15:00:00+00:00", duration=90, max_attendees=None),
        meeting(3, "2026-05-25T15:00:00+00:00"),  # the member cancelled
        meeting(4, "2026-05-19T15:00:00+00:00"),  # ended
        meeting(5, "2026-05-20T11:30:00+00:00"),  # in progress: listed
        meeting(6, "2026-05-26T15:00:00+00:00", status="cancel"),
        meeting(7, "2026-05-27T15:00:00+00:00", status="complete"),
        meeting(8, "2026-05-28T15:00:00+00:00"),  # someone else's registration only
        meeting(9, "2026-05-23T15:00:00+00:00"),  # the same start as 1: by id
    ]
    registrations = [
        registration(1, registered_at="2026-05-10T18:42:11.987654+00:00"),
        registration(1, 101),
        registration(1, 102),
        registration(1, 103, "waitlisted"),
        registration(1, 104, "cancelled"),
        registration(1, LEADER),  # the leader is not an attendee
        registration(2, status="waitlisted"),
        registration(3, status="cancelled"),
        *(registration(n, registered_at="2026-05-01T08:00:00-04:00") for n in (4, 5, 6, 7, 9)),
        registration(8, 101),
    ]
    return document(
        users=[user(MEMBER), leader, *others],
        meetings=meetings,
        registrations=registrations,
    )


async def listed(feed: Feed, query: str = "", **kwargs: Any) -> list[int]:
    response = await feed(query, **kwargs)
    assert response.status == 200, await response.text()
    return [m["id"] for m in (await response.json())["meetings"]]


async def test_the_members_upcoming_registrations_in_start_order(
    load: Load, member_feed: Feed
) -> None:
    load(schedule_document())
    assert await listed(member_feed) == [5, 1, 9, 2]


async def test_the_page_has_exactly_the_legacy_keys_and_values(
    load: Load, member_feed: Feed
) -> None:
    load(schedule_document())
    response = await member_feed()
    assert response.status == 200
    assert response.content_type == "application/json"
    body = await response.json()
    assert list(body) == ["current_page", "items", "total_items", "total_pages", "meetings"]
    assert (body["current_page"], body["items"], body["total_items"], body["total_pages"]) == (
        1,
        10,
        4,
        1,
    )
    assert all(list(m) == KEYS for m in body["meetings"])
    first = body["meetings"][1]
    assert first == {
        "id": 1,
        "name": "Meeting 1",
        "start_time": "2026-05-23T15:00:00.000Z",
        "end_time": "2026-05-23T16:00:00.000Z",
        "duration": "1 hour",
        "duration_in_minutes": 60,
        "topic": "Peer Support",
        "description": "A supportive space.",
        "location": "heypeers",
        "max_attendees": 12,
        "registered_attendees": 3,
        "group_leader": {
            "id": LEADER,
            "name": "Jane D.",
            "avatar": "https://assets.example.org/4501.png",
        },
        "waiting_status": None,
        "registered": True,
        # Truncated to milliseconds, never rounded.
        "registered_at": "2026-05-10T18:42:11.987Z",
    }
    waitlisted = body["meetings"][3]
    assert (waitlisted["id"], waitlisted["duration"], waitlisted["max_attendees"]) == (
        2,
        "1 hour 30 minutes",
        None,
    )
    assert (waitlisted["waiting_status"], waitlisted["registered"]) == ("waitlisted", False)
    assert waitlisted["registered_at"] is None and waitlisted["group_leader"] is None
    # An offset in the file is stored and shown in UTC.
    assert body["meetings"][0]["registered_at"] == "2026-05-01T12:00:00.000Z"


async def test_nothing_upcoming_is_zero_pages(load: Load, member_feed: Feed) -> None:
    load(
        document(
            meetings=[meeting(1, "2026-05-01T15:00:00+00:00")], registrations=[registration(1)]
        )
    )
    response = await member_feed()
    assert await response.read() == (
        b'{"current_page":1,"items":10,"total_items":0,"total_pages":0,"meetings":[]}'
    )


async def test_hpc_meetings_are_in_an_eap_organizations_scope(
    load: Load, member_feed: Feed
) -> None:
    hpc = organization(OTHER_ORG_ID, key=OTHER_ACCESS_KEY, name="HPC")
    hpc_meeting = {**meeting(2, "2026-05-22T15:00:00+00:00"), "organization_id": OTHER_ORG_ID}
    load(
        document(
            organizations=[organization(eap=True, hpc=OTHER_ORG_ID), hpc],
            meetings=[meeting(1), hpc_meeting],
            registrations=[registration(1), registration(2)],
        )
    )
    assert await listed(member_feed) == [2, 1]


async def test_another_organizations_meetings_are_not_in_scope(
    load: Load, member_feed: Feed
) -> None:
    other = organization(OTHER_ORG_ID, key=OTHER_ACCESS_KEY, name="Other")
    theirs = {**meeting(2, "2026-05-22T15:00:00+00:00"), "organization_id": OTHER_ORG_ID}
    load(
        document(
            organizations=[organization(), other],
            meetings=[meeting(1), theirs],
            registrations=[registration(1), registration(2)],
            memberships=[membership(MEMBER, MEMBER_IDP), membership(MEMBER, "x", OTHER_ORG_ID)],
        )
    )
    assert await listed(member_feed) == [1]
    assert await listed(member_feed, idp="x", org=OTHER_ORG_ID, key=OTHER_ACCESS_KEY) == [2]


# --- paging ---------------------------------------------------------------------------------

PAGED = 25
PAGED_IDS = [3001 + n for n in range(PAGED)]


def paged_document() -> Document:
    return document(
        meetings=[
            meeting(meeting_id, f"2026-06-{n // 12 + 1:02d}T{n % 12:02d}:00:00+00:00")
            for n, meeting_id in enumerate(PAGED_IDS)
        ],
        registrations=[registration(meeting_id) for meeting_id in PAGED_IDS],
    )


@pytest.mark.parametrize(
    ("query", "current_page", "items", "total_pages", "ids"),
    [
        ("", 1, 10, 3, PAGED_IDS[:10]),
        ("page=&items=", 1, 10, 3, PAGED_IDS[:10]),
        ("page=2", 2, 10, 3, PAGED_IDS[10:20]),
        ("page=3", 3, 10, 3, PAGED_IDS[20:]),
        ("page=4", 4, 10, 3, []),
        ("page=0", 1, 10, 3, PAGED_IDS[:10]),
        ("page=-7", 1, 10, 3, PAGED_IDS[:10]),
        ("page=99999999999", 2**31 - 1, 10, 3, []),
        ("page=1&page=2", 2, 10, 3, PAGED_IDS[10:20]),
        ("items=0", 1, 1, 25, PAGED_IDS[:1]),
        ("items=-5", 1, 1, 25, PAGED_IDS[:1]),
        ("items=1&page=25", 25, 1, 25, PAGED_IDS[24:]),
        ("items=20", 1, 20, 2, PAGED_IDS[:20]),
        ("items=20&page=2", 2, 20, 2, PAGED_IDS[20:]),
        ("items=101", 1, 100, 1, PAGED_IDS),
        ("items=+5&page=+2", 2, 5, 5, PAGED_IDS[5:10]),
    ],
)
async def test_paging(
    load: Load,
    member_feed: Feed,
    query: str,
    current_page: int,
    items: int,
    total_pages: int,
    ids: list[int],
) -> None:
    load(paged_document())
    body = await (await member_feed(query)).json()
    assert (body["current_page"], body["items"], body["total_items"], body["total_pages"]) == (
        current_page,
        items,
        PAGED,
        total_pages,
    )
    assert [m["id"] for m in body["meetings"]] == ids


@pytest.mark.parametrize(
    ("query", "name"),
    [("page=one", "page"), ("page=1.5", "page"), ("items=1e3", "items"), ("items=ten", "items")],
)
async def test_a_non_integer_page_or_items_is_a_422_naming_it(
    load: Load, member_feed: Feed, query: str, name: str
) -> None:
    load(paged_document())
    response = await member_feed(query)
    assert response.status == 422
    assert await response.json() == {"error": f"Parameter {name} must be an integer"}


# --- who may ask, and for whom --------------------------------------------------------------


async def test_an_unknown_idp_id_is_a_404(load: Load, member_feed: Feed) -> None:
    load(document())
    response = await member_feed(idp="nobody")
    assert response.status == 404
    assert await response.read() == b'{"error":"Member not found"}'


async def test_the_idp_id_is_matched_case_sensitively(load: Load, member_feed: Feed) -> None:
    load(document())
    assert (await member_feed(idp=MEMBER_IDP.upper())).status == 404


async def test_a_member_of_another_organization_is_not_found_here(
    load: Load, member_feed: Feed
) -> None:
    other = organization(OTHER_ORG_ID, key=OTHER_ACCESS_KEY, name="Other")
    load(
        document(
            organizations=[organization(), other],
            memberships=[membership(MEMBER, "elsewhere", OTHER_ORG_ID)],
        )
    )
    response = await member_feed(idp="elsewhere")
    assert (response.status, await response.json()) == (404, {"error": "Member not found"})


async def test_a_token_of_another_organization_is_not_authorized(
    load: Load, member_feed: Feed
) -> None:
    other = organization(OTHER_ORG_ID, key=OTHER_ACCESS_KEY, name="Other")
    load(document(organizations=[organization(), other]))
    response = await member_feed(key=OTHER_ACCESS_KEY)
    assert (response.status, await response.json()) == (401, {"error": "Not Authorized"})


async def test_no_token_is_unauthorized_access(load: Load, gateway: Any) -> None:
    load(document())
    response = await gateway.get(member_path(MEMBER_IDP))
    assert (response.status, await response.json()) == (401, {"error": "Unauthorized Access"})


# --- percent-encoded idp_ids ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("idp_id", "path_segment"),
    [
        ("a/b", "a%2Fb"),
        ("a/b", "a%2fb"),
        ("a b", "a%20b"),
        ("é", "%C3%A9"),
        ("José María/ñ", "Jos%C3%A9%20Mar%C3%ADa%2F%C3%B1"),
        ("100%", "100%25"),
        ("%2F", "%252F"),
        ("a+b", "a+b"),
        ("auth0|123", "auth0%7C123"),
        ("x" * 255, "x" * 255),
    ],
)
async def test_a_percent_encoded_idp_id_names_its_member(
    load: Load, member_feed: Feed, idp_id: str, path_segment: str
) -> None:
    load(
        document(
            meetings=[meeting(1)],
            registrations=[registration(1)],
            memberships=[membership(MEMBER, idp_id)],
        )
    )
    response = await member_feed(
        path=f"/api/v2/organizations/5/members/{path_segment}/upcoming_meetings"
    )
    assert response.status == 200, await response.text()
    assert [m["id"] for m in (await response.json())["meetings"]] == [1]


async def test_an_unencoded_slash_is_no_route(load: Load, member_feed: Feed) -> None:
    load(document(memberships=[membership(MEMBER, "a/b")]))
    response = await member_feed(path="/api/v2/organizations/5/members/a/b/upcoming_meetings")
    assert (response.status, await response.json()) == (404, {"error": "Not Found"})


async def test_an_idp_id_past_255_characters_is_a_422(load: Load, member_feed: Feed) -> None:
    load(document())
    response = await member_feed(idp="x" * 256)
    assert response.status == 422
    assert await response.json() == {"error": "Parameter idp_id must be 1 to 255 characters"}


@pytest.mark.parametrize("segment", ["%00", "a%00b"])
async def test_an_idp_id_with_nul_is_not_found(load: Load, member_feed: Feed, segment: str) -> None:
    load(document())
    response = await member_feed(
        path=f"/api/v2/organizations/5/members/{segment}/upcoming_meetings"
    )
    assert (response.status, await response.json()) == (404, {"error": "Member not found"})


async def test_the_body_is_the_legacy_compact_json(load: Load, member_feed: Feed) -> None:
    load(schedule_document())
    response = await member_feed("items=1")
    raw = await response.read()
    assert raw == orjson.dumps(orjson.loads(raw))
    assert raw.startswith(b'{"current_page":1,"items":1,"total_items":4,"total_pages":4,')


async def test_an_empty_idp_id_is_no_route(load: Load, member_feed: Feed) -> None:
    load(document())
    response = await member_feed(path="/api/v2/organizations/5/members//upcoming_meetings")
    assert (response.status, await response.json()) == (404, {"error": "Not Found"})


async def test_a_bad_page_is_reported_before_the_token(load: Load, gateway: Any) -> None:
    load(document())
    response = await gateway.get(member_path(MEMBER_IDP) + "?page=x")
    assert (response.status, await response.json()) == (
        422,
        {"error": "Parameter page must be an integer"},
    )
