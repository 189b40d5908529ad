"""Legacy parameters through the REST gateway: GET query (column[]= and column=), POST JSON and
POST form give the same bytes; numbers as numbers or strings; columns in the requested order,
each once, unknown keys ignored; and the exact JSON value types of the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from tests.export.conftest import (
    ALL_COLUMNS,
    EXPORT_URL,
    document,
    meeting,
    organization,
    rest_headers,
    user,
)

MEETINGS = [
    meeting(
        1,
        "2026-05-01T12:00:00.250000+00:00",
        name='Grief "Circle" ✓',
        meeting_type="OneToOne",
        duration=90,
        status="complete",
        topic="Grief & Loss",
        special_focus=None,
        host="HeyPeers",
        location="zoom",
        price="12.5",
        max_attendees=None,
        meeting_description="Line one\nline two",
        group_leader_id=4501,
        privacy=True,
        eap=True,
        allow_meeting_donation=False,
        invitation_only=True,
        wait_list=False,
    ),
    meeting(2, "2026-05-02T12:00:00+00:00", price=10, group_leader_id=None),
    meeting(3, "2026-05-03T12:00:00+00:00", price=None),
    meeting(4, "2026-05-03T12:00:00+00:00", price="0.1"),
]


@pytest.fixture
async def headers(gateway: Any, load: Callable[[dict[str, Any]], None]) -> dict[str, str]:
    load(document(MEETINGS, organizations=[organization()], users=[user(4501)]))
    return await rest_headers(gateway)


async def body_of(gateway: Any, method: str, headers: dict[str, str], **kwargs: Any) -> bytes:
    response = await gateway.request(method, EXPORT_URL, headers=headers, **kwargs)
    assert response.status == 200, await response.text()
    return bytes(await response.read())


async def test_every_column_has_the_page_value_type(gateway: Any, headers: dict[str, str]) -> None:
    query = [("column[]", column) for column in ALL_COLUMNS]
    body = await body_of(gateway, "GET", headers, params=query)
    first = orjson.loads(body)["meetings"][0]
    assert first == {
        "name": 'Grief "Circle" ✓',
        "meeting_type": "OneToOne",
        "start_time": "2026-05-01T12:00:00.250Z",
        "duration": 90,
        "status": "complete",
        "topic": "Grief & Loss",
        "special_focus": None,
        "host": "HeyPeers",
        "location": "zoom",
        "price": 12.5,
        "max_attendees": None,
        "meeting_description": "Line one\nline two",
        "group_leader": 4501,
        "privacy": True,
        "eap": True,
        "allow_meeting_donation": False,
        "invitation_only": True,
        "wait_list": False,
    }
    assert list(first) == [c.replace("group_leader_id", "group_leader") for c in ALL_COLUMNS]
    # The raw text: integers stay integers, flags are JSON booleans.
    assert b'"duration":90,' in body and b'"privacy":true,' in body and b'"price":12.5,' in body


async def test_prices_are_numbers_zero_when_unset_and_whole_without_decimals(
    gateway: Any, headers: dict[str, str]
) -> None:
    body = await body_of(gateway, "GET", headers, params=[("column[]", "price")])
    assert body == (
        b'{"success":true,"meetings":[{"price":12.5},{"price":10},{"price":0},{"price":0.1}]}'
    )


async def test_columns_come_in_the_requested_order_each_once_unknown_ignored(
    gateway: Any, headers: dict[str, str]
) -> None:
    query = [
        ("column[]", "status"),
        ("column[]", "attendees"),
        ("column[]", "group_leader_id"),
        ("column[]", "status"),
        ("column[]", "id"),
        ("column[]", "name"),
        ("column[]", "group_leader"),
    ]
    body = orjson.loads(await body_of(gateway, "GET", headers, params=query))
    assert [list(row) for row in body["meetings"]] == [["status", "group_leader", "name"]] * 4


@pytest.mark.parametrize(
    "query",
    [
        [],
        [("column[]", "")],
        [("column[]", "unknown"), ("column", "nope")],
        [("page", "1")],
        [("per_page", "5"), ("column[]", "bogus")],
    ],
)
async def test_no_known_column_is_success_with_no_meetings_even_paginated(
    gateway: Any, headers: dict[str, str], query: list[tuple[str, str]]
) -> None:
    body = await body_of(gateway, "GET", headers, params=query)
    assert body == b'{"success":true,"meetings":[]}'


async def test_plain_repeated_column_works_like_column_brackets(
    gateway: Any, headers: dict[str, str]
) -> None:
    brackets = [("column[]", "name"), ("column[]", "price")]
    plain = [("column", "name"), ("column", "price")]
    mixed = [("column", "name"), ("column[]", "price")]
    bodies = [await body_of(gateway, "GET", headers, params=q) for q in (brackets, plain, mixed)]
    assert bodies[0] == bodies[1] == bodies[2]
    assert orjson.loads(bodies[0])["meetings"][1] == {"name": "Meeting 2", "price": 10}


@pytest.mark.parametrize("paginated", [False, True])
async def test_get_post_json_and_post_form_give_byte_identical_bodies(
    gateway: Any, headers: dict[str, str], paginated: bool
) -> None:
    columns = ["start_time", "name", "price", "group_leader_id", "eap"]
    common = [("reporting_days", "custom"), ("start_time", "05/01/2026 08:00 AM")]
    common += [("end_time", "05/03/2026 08:00 AM"), ("report_type", "all_meetings")]
    pages = [("page", "1"), ("per_page", "2")] if paginated else []
    query = [*common, *pages, *[("column[]", c) for c in columns]]
    json_body: dict[str, Any] = {**dict(common), "column": columns}
    if paginated:
        json_body.update(page=1, per_page="2")  # a number and a string
    get = await body_of(gateway, "GET", headers, params=query)
    post_json = await body_of(gateway, "POST", headers, json=json_body)
    post_form = await body_of(gateway, "POST", headers, data=query)
    assert get == post_json == post_form
    document = orjson.loads(get)
    # Both ends are inclusive: meetings 3 and 4 start exactly at 05/03/2026 08:00 AM EDT.
    names = ['Grief "Circle" ✓', "Meeting 2", "Meeting 3", "Meeting 4"]
    assert [row["name"] for row in document["meetings"]] == (names[:2] if paginated else names)
    assert ("metadata" in document) is paginated


@pytest.mark.parametrize(
    "pages",
    [
        {"page": 2, "per_page": 1},
        {"page": "2", "per_page": "1"},
        {"page": 2.0, "per_page": " 1 "},
        {"page": "+2", "per_page": 1},
    ],
)
async def test_numbers_may_arrive_as_json_numbers_or_strings(
    gateway: Any, headers: dict[str, str], pages: dict[str, Any]
) -> None:
    body = orjson.loads(await body_of(gateway, "POST", headers, json={"column": ["name"], **pages}))
    assert body["metadata"] == {"page": 2, "per_page": 1, "total_pages": 4, "total_count": 4}
    assert body["meetings"] == [{"name": "Meeting 2"}]


async def test_a_json_body_may_give_column_as_one_string(
    gateway: Any, headers: dict[str, str]
) -> None:
    body = orjson.loads(await body_of(gateway, "POST", headers, json={"column": "name"}))
    assert body["meetings"][0] == {"name": 'Grief "Circle" ✓'}


async def test_empty_reporting_days_and_report_type_mean_the_defaults(
    gateway: Any, headers: dict[str, str]
) -> None:
    blank = [("column[]", "name"), ("reporting_days", ""), ("report_type", " ")]
    defaults = [("column[]", "name"), ("reporting_days", "all"), ("report_type", "all_meetings")]
    assert await body_of(gateway, "GET", headers, params=blank) == await body_of(
        gateway, "GET", headers, params=defaults
    )
