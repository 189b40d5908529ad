"""The legacy page's example, end to end through the REST gateway: its two meetings in, its
example response out, byte for byte (compact JSON, keys in the page's order)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from tests.export.conftest import EXPORT_URL, document, meeting, organization, rest_headers, user

# The page's "Default (unpaginated)" example response.
PAGE_EXAMPLE = """
{ "success": true, "meetings": [ { "name": "Morning Grief Support Circle", "meeting_type": "Group",
"start_time": "2026-05-23T15:00:00.000Z", "status": "scheduled", "group_leader": 4501, "price": 0 },
{ "name": "Evening Recovery Check-in", "meeting_type": "Group",
"start_time": "2026-05-24T23:30:00.000Z", "status": "scheduled", "group_leader": 4502,
"price": 10 } ] }
"""
# The page's "Paginated" example response.
PAGE_PAGINATED_EXAMPLE = """
{ "success": true, "metadata": { "page": 1, "per_page": 100, "total_pages": 3, "total_count": 250 },
"meetings": [ { "name": "Morning Grief Support Circle", "meeting_type": "Group",
"start_time": "2026-05-23T15:00:00.000Z", "status": "scheduled", "group_leader": 4501,
"price": 0 } ] }
"""
# The page's example request: GET ...?reporting_days=all_upcoming&column[]=name&...
EXAMPLE_QUERY = [
    ("reporting_days", "all_upcoming"),
    ("column[]", "name"),
    ("column[]", "meeting_type"),
    ("column[]", "start_time"),
    ("column[]", "status"),
    ("column[]", "group_leader_id"),
    ("column[]", "price"),
]

EXAMPLE_MEETINGS = [
    meeting(
        9123,
        "2026-05-23T15:00:00+00:00",
        name="Morning Grief Support Circle",
        topic="Grief & Loss",
        meeting_description="A supportive space.",
        group_leader_id=4501,
        price=None,
    ),
    meeting(
        9124,
        "2026-05-24T23:30:00+00:00",
        name="Evening Recovery Check-in",
        group_leader_id=4502,
        price=10,
    ),
]


def compact(page_json: str) -> bytes:
    return orjson.dumps(orjson.loads(page_json))


def example_document(extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return document(
        EXAMPLE_MEETINGS + (extra or []),
        organizations=[organization()],
        users=[user(4501), user(4502)],
    )


async def test_the_page_example_request_returns_the_page_example_response(
    gateway: Any, load: Callable[[dict[str, Any]], None]
) -> None:
    load(example_document())
    headers = await rest_headers(gateway)
    response = await gateway.get(EXPORT_URL, params=EXAMPLE_QUERY, headers=headers)
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.read() == compact(PAGE_EXAMPLE)


async def test_the_page_example_as_a_legacy_post_returns_the_same_bytes(
    gateway: Any, load: Callable[[dict[str, Any]], None]
) -> None:
    load(example_document())
    headers = await rest_headers(gateway)
    body = {
        "reporting_days": "all_upcoming",
        "column": ["name", "meeting_type", "start_time", "status", "group_leader_id", "price"],
    }
    response = await gateway.post(EXPORT_URL, json=body, headers=headers)
    assert response.status == 200
    assert await response.read() == compact(PAGE_EXAMPLE)


async def test_the_paginated_example_has_the_page_shape_and_metadata(
    gateway: Any, load: Callable[[dict[str, Any]], None]
) -> None:
    # 248 later meetings make the 250 of the page's example; page 1 starts with its meeting.
    later = [
        meeting(10_000 + n, f"2026-06-{1 + n % 28:02d}T12:00:00+00:00", group_leader_id=4501)
        for n in range(248)
    ]
    load(example_document(later))
    headers = await rest_headers(gateway)
    response = await gateway.get(
        EXPORT_URL, params=[*EXAMPLE_QUERY, ("page", "1")], headers=headers
    )
    assert response.status == 200
    body = orjson.loads(await response.read())
    expected = orjson.loads(PAGE_PAGINATED_EXAMPLE)
    assert list(body) == ["success", "metadata", "meetings"]
    assert body["metadata"] == expected["metadata"]
    assert len(body["meetings"]) == 100
    assert body["meetings"][0] == expected["meetings"][0]
    assert list(body["meetings"][0]) == list(expected["meetings"][0])


async def test_the_two_example_meetings_paginated(
    gateway: Any, load: Callable[[dict[str, Any]], None]
) -> None:
    load(example_document())
    headers = await rest_headers(gateway)
    response = await gateway.get(
        EXPORT_URL, params=[*EXAMPLE_QUERY, ("page", "1"), ("per_page", "100")], headers=headers
    )
    meetings = orjson.loads(compact(PAGE_EXAMPLE))["meetings"]
    metadata = {"page": 1, "per_page": 100, "total_pages": 1, "total_count": 2}
    assert await response.read() == orjson.dumps(
        {"success": True, "metadata": metadata, "meetings": meetings}
    )
