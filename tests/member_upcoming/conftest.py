"""Fixture documents for a member's upcoming meetings, loaded through the real fixture loader,
and callers of the member feed over REST (through the gateway) and gRPC."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import peewee
import pytest

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from store.loader import load_fixture
from tests.records import Record
from tests.upcoming.conftest import (
    ACCESS_KEY,
    ORG_ID,
    OTHER_ACCESS_KEY,
    OTHER_ORG_ID,
    meeting,
    organization,
    user,
)

__all__ = ["ACCESS_KEY", "ORG_ID", "OTHER_ACCESS_KEY", "OTHER_ORG_ID", "meeting", "user"]

MEMBER_URL = "/api/v2/organizations/{org}/members/{idp}/upcoming_meetings"
# The suite's clock reads 2026-05-20T12:00:00Z (tests/conftest.py, START).
MEMBER = 100  # the user whose schedule the tests read
MEMBER_IDP = "sso-user-abc123"

Document = dict[str, list[Record]]


def membership(user_id: int, idp_id: str, org_id: int = ORG_ID) -> Record:
    return {"organization_id": org_id, "user_id": user_id, "idp_id": idp_id}


def registration(
    meeting_id: int,
    user_id: int = MEMBER,
    status: str = "registered",
    registered_at: str | None = None,
) -> Record:
    return {
        "meeting_id": meeting_id,
        "user_id": user_id,
        "status": status,
        "registered_at": registered_at,
    }


def document(
    *,
    organizations: list[Record] | None = None,
    users: list[Record] | None = None,
    meetings: list[Record] | None = None,
    registrations: list[Record] | None = None,
    memberships: list[Record] | None = None,
) -> Document:
    """A fixture document with MEMBER (a user and a membership of ORG_ID) by default."""
    return {
        "organizations": organizations if organizations is not None else [organization()],
        "users": users if users is not None else [user(MEMBER)],
        "meeting_series": [],
        "meetings": meetings or [],
        "registrations": registrations or [],
        "memberships": memberships if memberships is not None else [membership(MEMBER, MEMBER_IDP)],
    }


@pytest.fixture
def load(db: peewee.Database) -> Callable[[Document], None]:
    """Loads a fixture document into the test's database."""

    def load_document(doc: Document) -> None:
        load_fixture(doc)

    return load_document


def member_path(idp: str, org: int = ORG_ID) -> str:
    """The member feed's path with `idp` percent-encoded as a path segment (`/` included)."""
    return MEMBER_URL.format(org=org, idp=quote(idp, safe=""))


@pytest.fixture
def member_feed(gateway: Any) -> Callable[..., Any]:
    """GET a member's feed through the gateway: `await member_feed("page=2")`, with `idp=`
    (encoded here), `path=` (sent as written), `org=` or `key=`."""

    async def get(
        query: str = "",
        *,
        idp: str = MEMBER_IDP,
        path: str | None = None,
        org: int = ORG_ID,
        key: str = ACCESS_KEY,
    ) -> Any:
        auth = await gateway.post("/api/v2/authenticate", json={"access_key": key})
        assert auth.status == 200, await auth.text()
        token = (await auth.json())["token"]
        url = (path or member_path(idp, org)) + (f"?{query}" if query else "")
        return await gateway.get(url, headers={"Authorization": f"Bearer {token}"})

    return get


@pytest.fixture
def grpc_member_feed(
    stub: pb_grpc.MeetingsServiceStub,
) -> Callable[..., pb.ListMemberUpcomingMeetingsResponse]:
    """Call ListMemberUpcomingMeetings with a token for `key` (ORG_ID's by default)."""

    def call(
        request: pb.ListMemberUpcomingMeetingsRequest | None = None, *, key: str = ACCESS_KEY
    ) -> pb.ListMemberUpcomingMeetingsResponse:
        token = stub.Authenticate(pb.AuthenticateRequest(access_key=key)).token
        request = request or pb.ListMemberUpcomingMeetingsRequest(
            organization_id=ORG_ID, idp_id=MEMBER_IDP
        )
        response: pb.ListMemberUpcomingMeetingsResponse = stub.ListMemberUpcomingMeetings(
            request, metadata=[("authorization", f"Bearer {token}")]
        )
        return response

    return call
