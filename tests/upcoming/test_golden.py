"""The Upcoming Meetings page's example, byte for byte, from data loaded by the fixture loader.

The page's example body is not self-consistent: it says `total_items: 8` and `items: 20` yet
lists two meetings, and its request filters on series 412 while the second meeting has no
series. So each test here builds data for which the body it compares is the honest answer:
the page's two meeting objects exactly as printed, with top-level numbers that are true.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from tests.upcoming.conftest import (
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

# Copied verbatim from seeds/001_187674754d1827a6.txt ("Success Response").
PAGE_EXAMPLE = """{ "current_page": 1, "items": 20, "total_items": 8, "total_pages": 1, "meetings": [ { "id": 9123, "name": "Morning Grief Support Circle", "start_time": "2026-05-23T15:00:00.000Z", "end_time": "2026-05-23T16:00:00.000Z", "duration": "1 hour", "duration_in_minutes": 60, "topic": "Grief & Loss", "description": "A supportive space to share and process grief.", "location": "heypeers", "meeting_series_id": 412, "max_attendees": 12, "registered_attendees": 7, "group_leader": { "id": 4501, "name": "Jane D.", "avatar": "https://heypeers-assets.s3.amazonaws.com/users/avatars/thumb/4501.png" } }, { "id": 9124, "name": "Evening Recovery Check-in", "start_time": "2026-05-24T23:30:00.000Z", "end_time": "2026-05-25T00:30:00.000Z", "duration": "1 hour", "duration_in_minutes": 60, "topic": "Substance Use Recovery", "description": null, "location": "zoom", "meeting_series_id": null, "max_attendees": 20, "registered_attendees": 0, "group_leader": { "id": 4502, "name": "Sam L.", "avatar": "https://ssl.gstatic.com/accounts/ui/avatar_2x.png" } } ] }"""  # noqa: E501
EXAMPLE = orjson.loads(PAGE_EXAMPLE)
EXAMPLE_MEETINGS: list[dict[str, Any]] = EXAMPLE["meetings"]
ATTENDEES = list(range(4601, 4613))


def example_document(extra_upcoming: int = 0) -> Document:
    """The page's two meetings, with things the feed must leave out around them.

    9123 has 7 registered attendees, plus a waitlisted and a cancelled registration and its
    leader's own registration, none of which count. 9124 has only its leader registered and
    a waitlisted attendee: 0. `extra_upcoming` adds meetings starting after both.
    """
    users = [
        user(4501, "Jane", "Doe", "https://heypeers-assets.s3.amazonaws.com/users/avatars/thumb/4501.png"),
        user(4502, "Sam", "Lee", None),
        *(user(user_id) for user_id in ATTENDEES),
    ]  # fmt: skip
    grief = meeting(
        9123,
        "2026-05-23T15:00:00+00:00",
        name="Morning Grief Support Circle",
        topic="Grief & Loss",
        meeting_description="A supportive space to share and process grief.",
        location="heypeers",
        meeting_series_id=412,
        max_attendees=12,
        group_leader_id=4501,
    )
    recovery = meeting(
        9124,
        # The same instant as 23:30 UTC, written with an offset as partners' systems do.
        "2026-05-24T19:30:00-04:00",
        name="Evening Recovery Check-in",
        topic="Substance Use Recovery",
        meeting_description=None,
        location="zoom",
        meeting_series_id=None,
        max_attendees=20,
        group_leader_id=4502,
    )
    left_out = [
        meeting(9100, "2026-05-19T15:00:00+00:00", group_leader_id=4501),  # ended yesterday
        meeting(9101, "2026-05-23T16:00:00+00:00", status="cancel", meeting_series_id=412),
        meeting(9102, "2026-05-23T17:00:00+00:00", status="complete"),
        meeting(9200, "2026-05-23T15:00:00+00:00", organization_id=OTHER_ORG_ID),
    ]
    extra = [
        meeting(9300 + n, f"2026-06-{n + 1:02d}T15:00:00+00:00") for n in range(extra_upcoming)
    ]
    registrations = [
        *(registration(9123, user_id) for user_id in ATTENDEES[:7]),
        registration(9123, ATTENDEES[7], "waitlisted"),
        registration(9123, ATTENDEES[8], "cancelled"),
        registration(9123, 4501),  # the leader's own registration
        registration(9124, 4502),
        registration(9124, ATTENDEES[9], "waitlisted"),
        # Registered for meetings that are not listed, so they must not leak into the counts.
        *(registration(9101, user_id) for user_id in ATTENDEES[:3]),
        *(registration(9200, user_id) for user_id in ATTENDEES[:5]),
    ]
    return document(
        organizations=[organization(), organization(OTHER_ORG_ID, key=OTHER_ACCESS_KEY)],
        users=users,
        meeting_series=[series(412)],
        meetings=[recovery, *left_out, grief, *extra],
        registrations=registrations,
    )


def compact(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document)


async def test_the_page_example_body_byte_for_byte(
    load: Callable[[Document], None], feed: Feed
) -> None:
    load(example_document())
    response = await feed("page=1&items=20")
    assert response.status == 200
    assert response.content_type == "application/json"
    # Only these two meetings are upcoming here, so total_items is 2, not the page's 8.
    expected = {**EXAMPLE, "total_items": 2}
    assert await response.read() == compact(expected)


async def test_the_page_example_meetings_with_eight_upcoming_in_total(
    load: Callable[[Document], None], feed: Feed
) -> None:
    # Eight upcoming meetings genuinely: the page's two first, then six later ones.
    load(example_document(extra_upcoming=6))
    response = await feed("items=2")
    assert response.status == 200
    expected = {
        "current_page": 1,
        "items": 2,
        "total_items": 8,
        "total_pages": 4,
        "meetings": EXAMPLE_MEETINGS,
    }
    assert await response.read() == compact(expected)


async def test_the_page_example_request_filters_on_series_412(
    load: Callable[[Document], None], feed: Feed
) -> None:
    load(example_document(extra_upcoming=6))
    response = await feed("meeting_series_id=412&page=1&items=20")
    assert response.status == 200
    # The page's second meeting has no series, so the example request returns only the first.
    expected = {
        "current_page": 1,
        "items": 20,
        "total_items": 1,
        "total_pages": 1,
        "meetings": EXAMPLE_MEETINGS[:1],
    }
    assert await response.read() == compact(expected)


async def test_the_example_key_order_is_the_page_order(
    load: Callable[[Document], None], feed: Feed
) -> None:
    load(example_document())
    body = await (await feed()).json()
    assert list(body) == ["current_page", "items", "total_items", "total_pages", "meetings"]
    for got in body["meetings"]:
        assert list(got) == [
            "id", "name", "start_time", "end_time", "duration", "duration_in_minutes", "topic",
            "description", "location", "meeting_series_id", "max_attendees",
            "registered_attendees", "group_leader",
        ]  # fmt: skip
        assert list(got["group_leader"]) == ["id", "name", "avatar"]


async def test_the_other_organization_sees_only_its_own_meeting(
    load: Callable[[Document], None], feed: Feed
) -> None:
    load(example_document())
    body = await (await feed(org=OTHER_ORG_ID, key=OTHER_ACCESS_KEY)).json()
    assert [m["id"] for m in body["meetings"]] == [9200]
    assert body["meetings"][0]["registered_attendees"] == 5
