"""Opt-in pagination: metadata, clamps, ordering by start time then id, past-the-end pages, and
pages that add up to the unpaginated export."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from tests.export.conftest import EXPORT_URL, ORG_ID, document, grpc_token, meeting, rest_headers

BASE = datetime(2026, 1, 1, 12, tzinfo=UTC)
# 23 past meetings; ids deliberately out of start order, and pairs sharing a start time so
# that the id breaks the tie.
IDS = [50, 7, 31, 8, 44, 2, 19, 23, 5, 41, 13, 37, 11, 29, 3, 47, 17, 43, 26, 1, 35, 14, 22]
MEETINGS = [meeting(mid, BASE + timedelta(hours=n // 2)) for n, mid in enumerate(IDS)]
ORDER = [
    m["id"]
    for m in sorted(MEETINGS, key=lambda m: (datetime.fromisoformat(m["start_time"]), m["id"]))
]


@pytest.fixture
async def headers(gateway: Any, load: Callable[[dict[str, Any]], None]) -> dict[str, str]:
    load(document(MEETINGS))
    return await rest_headers(gateway)


async def page(gateway: Any, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    query = [("column[]", "name"), *((k, str(v)) for k, v in params.items())]
    response = await gateway.get(EXPORT_URL, params=query, headers=headers)
    assert response.status == 200, await response.text()
    body: dict[str, Any] = orjson.loads(await response.read())
    return body


def ids_of(body: dict[str, Any]) -> list[int]:
    return [int(row["name"].removeprefix("Meeting ")) for row in body["meetings"]]


@pytest.mark.parametrize(
    ("params", "metadata", "expected"),
    [
        ({"page": 1}, {"page": 1, "per_page": 100, "total_pages": 1, "total_count": 23}, ORDER),
        (
            {"per_page": 5},
            {"page": 1, "per_page": 5, "total_pages": 5, "total_count": 23},
            ORDER[:5],
        ),
        (
            {"page": 5, "per_page": 5},
            {"page": 5, "per_page": 5, "total_pages": 5, "total_count": 23},
            ORDER[20:],
        ),
        # Past the end: the metadata still tells the truth, and there are no meetings.
        (
            {"page": 6, "per_page": 5},
            {"page": 6, "per_page": 5, "total_pages": 5, "total_count": 23},
            [],
        ),
        (
            {"page": 2_000_000_000, "per_page": 100},
            {"page": 2_000_000_000, "per_page": 100, "total_pages": 1, "total_count": 23},
            [],
        ),
        # Clamps: page below 1 counts as 1, per_page to 1..100.
        (
            {"page": 0, "per_page": 3},
            {"page": 1, "per_page": 3, "total_pages": 8, "total_count": 23},
            ORDER[:3],
        ),
        (
            {"page": -4, "per_page": 3},
            {"page": 1, "per_page": 3, "total_pages": 8, "total_count": 23},
            ORDER[:3],
        ),
        (
            {"page": 2, "per_page": 0},
            {"page": 2, "per_page": 1, "total_pages": 23, "total_count": 23},
            ORDER[1:2],
        ),
        (
            {"per_page": -10},
            {"page": 1, "per_page": 1, "total_pages": 23, "total_count": 23},
            ORDER[:1],
        ),
        (
            {"per_page": 5000},
            {"page": 1, "per_page": 100, "total_pages": 1, "total_count": 23},
            ORDER,
        ),
        (
            {"per_page": 99999999999},
            {"page": 1, "per_page": 100, "total_pages": 1, "total_count": 23},
            ORDER,
        ),
    ],
)
async def test_pages_and_metadata(
    gateway: Any,
    headers: dict[str, str],
    params: dict[str, Any],
    metadata: dict[str, int],
    expected: list[int],
) -> None:
    body = await page(gateway, headers, **params)
    assert list(body) == ["success", "metadata", "meetings"]
    assert body["metadata"] == metadata
    assert ids_of(body) == expected


async def test_nothing_matching_has_zero_pages(gateway: Any, headers: dict[str, str]) -> None:
    body = await page(gateway, headers, page=1, reporting_days="all_upcoming")
    assert body == {
        "success": True,
        "metadata": {"page": 1, "per_page": 100, "total_pages": 0, "total_count": 0},
        "meetings": [],
    }


@pytest.mark.parametrize("per_page", [1, 4, 7])
async def test_pages_add_up_to_the_unpaginated_export(
    gateway: Any, headers: dict[str, str], per_page: int
) -> None:
    everything = ids_of(await page(gateway, headers))
    assert everything == ORDER
    collected: list[int] = []
    number = 1
    while True:
        body = await page(gateway, headers, page=number, per_page=per_page)
        if not body["meetings"]:
            assert number == body["metadata"]["total_pages"] + 1
            break
        collected += ids_of(body)
        number += 1
    assert collected == everything


def test_grpc_pages_carry_the_same_metadata_and_rows(
    stub: pb_grpc.MeetingsServiceStub, load: Callable[[dict[str, Any]], None]
) -> None:
    load(document(MEETINGS))
    request = pb.ExportMeetingsRequest(
        organization_id=ORG_ID, columns=[pb.EXPORT_COLUMN_NAME], page=2, page_size=10
    )
    response = stub.ExportMeetings(request, metadata=grpc_token(stub))
    assert response.metadata == pb.PageMetadata(page=2, per_page=10, total_pages=3, total_count=23)
    assert [int(m.name.removeprefix("Meeting ")) for m in response.meetings] == ORDER[10:20]
    # Without page or page_size the unary answer is not paginated: every row, no metadata.
    whole = stub.ExportMeetings(
        pb.ExportMeetingsRequest(organization_id=ORG_ID, columns=[pb.EXPORT_COLUMN_NAME]),
        metadata=grpc_token(stub),
    )
    assert not whole.HasField("metadata")
    assert len(whole.meetings) == 23
