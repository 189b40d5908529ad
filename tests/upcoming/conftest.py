"""Fixture documents for the upcoming-meetings feed, loaded through the real fixture loader,
and callers of the feed over REST (through the gateway) and gRPC."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import peewee
import pytest

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from store.loader import load_fixture
from tests.records import Record, meeting_record, organization_record

ORG_ID = 5
ACCESS_KEY = "upcoming-feed-test-key-0"  # 24 characters, as the loader requires
OTHER_ORG_ID = 6
OTHER_ACCESS_KEY = "upcoming-feed-test-key-1"
# The suite's clock reads 2026-05-20T12:00:00Z (tests/conftest.py, START).
FEED_URL = "/api/v2/organizations/{org}/upcoming_meetings"

Document = dict[str, list[Record]]


def organization(
    org_id: int = ORG_ID,
    *,
    key: str = ACCESS_KEY,
    eap: bool = False,
    hpc: int | None = None,
    name: str = "Acme",
) -> Record:
    return organization_record(org_id, name=name, access_key=key, eap=eap, hpc=hpc)


def user(
    user_id: int, first: str | None = "Pat", last: str | None = "Quinn", avatar: str | None = None
) -> Record:
    return {"id": user_id, "first_name": first, "last_name": last, "avatar_url": avatar}


def series(series_id: int, org_id: int = ORG_ID) -> Record:
    return {"id": series_id, "organization_id": org_id}


def meeting(meeting_id: int, start: str = "2026-05-23T15:00:00+00:00", **values: Any) -> Record:
    described = {"topic": "Peer Support", "meeting_description": "A supportive space."}
    return meeting_record(meeting_id, ORG_ID, start, **{**described, **values})


def registration(meeting_id: int, user_id: int, status: str = "registered") -> Record:
    return {"meeting_id": meeting_id, "user_id": user_id, "status": status}


def document(
    *,
    organizations: list[Record] | None = None,
    users: list[Record] | None = None,
    meeting_series: list[Record] | None = None,
    meetings: list[Record] | None = None,
    registrations: list[Record] | None = None,
) -> Document:
    """A fixture document; the organizations default to ORG_ID alone."""
    return {
        "organizations": organizations if organizations is not None else [organization()],
        "users": users or [],
        "meeting_series": meeting_series or [],
        "meetings": meetings or [],
        "registrations": registrations or [],
    }


@pytest.fixture
def load(db: peewee.Database) -> Callable[[Document], None]:
    """Loads a fixture document into the test's database."""

    def load_document(doc: Document) -> None:
        load_fixture(doc)

    return load_document


Feed = Callable[..., Awaitable[Any]]


@pytest.fixture
def feed(gateway: Any) -> Feed:
    """GET the feed through the gateway: `await feed("page=2")`, or with `org=`/`key=`.

    The token is taken through POST /api/v2/authenticate, as a partner would.
    """

    async def get(query: str = "", *, org: int = ORG_ID, key: str = ACCESS_KEY) -> Any:
        auth = await gateway.post("/api/v2/authenticate", json={"access_key": key})
        assert auth.status == 200, await auth.text()
        token = (await auth.json())["token"]
        url = FEED_URL.format(org=org) + (f"?{query}" if query else "")
        return await gateway.get(url, headers={"Authorization": f"Bearer {token}"})

    return get


@pytest.fixture
def grpc_feed(
    stub: pb_grpc.MeetingsServiceStub,
) -> Iterator[Callable[..., pb.ListUpcomingMeetingsResponse]]:
    """Call ListUpcomingMeetings over gRPC with a token for `key` (ORG_ID's by default)."""

    def call(
        request: pb.ListUpcomingMeetingsRequest | None = None, *, key: str = ACCESS_KEY
    ) -> pb.ListUpcomingMeetingsResponse:
        token = stub.Authenticate(pb.AuthenticateRequest(access_key=key)).token
        request = request or pb.ListUpcomingMeetingsRequest(organization_id=ORG_ID)
        response: pb.ListUpcomingMeetingsResponse = stub.ListUpcomingMeetings(
            request, metadata=[("authorization", f"Bearer {token}")]
        )
        return response

    yield call
