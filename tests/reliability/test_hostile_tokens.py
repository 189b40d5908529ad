"""Every kind of broken or hostile token, on every authenticated endpoint of both APIs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import grpc
import pytest

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from store.models import Organization
from store.organizations import rotate_access_key
from tests.conftest import FakeClock
from tests.reliability.forged import ACCEPTED_TOKENS, HOSTILE_TOKENS

REST_ENDPOINTS = [
    ("GET", "/api/v2/organizations/{org}/export_meetings?column[]=name"),
    ("POST", "/api/v2/organizations/{org}/export_meetings"),
    ("GET", "/api/v2/organizations/{org}/export_meetings?column[]=name&page=1"),
    ("GET", "/api/v2/organizations/{org}/upcoming_meetings"),
]
GRPC_RPCS = ["ExportMeetings", "StreamExportMeetings", "ListUpcomingMeetings"]
UNAUTHORIZED = {"error": "Unauthorized Access"}


def grpc_call(stub: pb_grpc.MeetingsServiceStub, rpc: str, org_id: int, token: str) -> Any:
    """The RpcError of one call, or None when it succeeded."""
    metadata = [("authorization", f"Bearer {token}")]
    try:
        if rpc == "StreamExportMeetings":
            request = pb.StreamExportMeetingsRequest(
                organization_id=org_id, columns=[pb.EXPORT_COLUMN_NAME]
            )
            list(stub.StreamExportMeetings(request, metadata=metadata, timeout=10))
        else:
            request_type = getattr(pb, f"{rpc}Request")
            getattr(stub, rpc)(request_type(organization_id=org_id), metadata=metadata, timeout=10)
    except grpc.RpcError as exc:
        return exc
    return None


async def rest_call(gateway: Any, method: str, url: str, org_id: int, token: str) -> Any:
    return await gateway.request(
        method,
        url.format(org=org_id),
        headers={"Authorization": f"Bearer {token}"},
        json={"column": ["name"]} if method == "POST" else None,
    )


def _assert_unauthenticated(error: Any) -> None:
    assert error is not None and error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error.details() == "Unauthorized Access"


@pytest.mark.parametrize("rpc", GRPC_RPCS)
@pytest.mark.parametrize("case", list(HOSTILE_TOKENS))
def test_grpc_refuses_a_hostile_token(
    stub: pb_grpc.MeetingsServiceStub,
    acme: tuple[Organization, str],
    clock: FakeClock,
    rpc: str,
    case: str,
) -> None:
    org, _ = acme
    _assert_unauthenticated(grpc_call(stub, rpc, org.id, HOSTILE_TOKENS[case](org.id, clock.now)))


@pytest.mark.parametrize(("method", "url"), REST_ENDPOINTS)
@pytest.mark.parametrize("case", list(HOSTILE_TOKENS))
async def test_rest_refuses_a_hostile_token(
    gateway: Any,
    acme: tuple[Organization, str],
    clock: FakeClock,
    method: str,
    url: str,
    case: str,
) -> None:
    org, _ = acme
    response = await rest_call(
        gateway, method, url, org.id, HOSTILE_TOKENS[case](org.id, clock.now)
    )
    assert response.status == 401
    assert await response.json() == UNAUTHORIZED


@pytest.mark.parametrize("rpc", GRPC_RPCS)
@pytest.mark.parametrize("case", list(ACCEPTED_TOKENS))
def test_grpc_accepts_tokens_within_the_leeway(
    stub: pb_grpc.MeetingsServiceStub,
    acme: tuple[Organization, str],
    clock: FakeClock,
    rpc: str,
    case: str,
) -> None:
    org, _ = acme
    assert grpc_call(stub, rpc, org.id, ACCEPTED_TOKENS[case](org.id, clock.now)) is None


# Things that happen to an organization after its token was minted.
AFTERWARDS: dict[str, Callable[[Organization], object]] = {
    "key rotated": lambda org: rotate_access_key(org.id),
    "organization deleted": lambda org: Organization.delete_by_id(org.id),
}


def _token(stub: pb_grpc.MeetingsServiceStub, key: str) -> str:
    return str(stub.Authenticate(pb.AuthenticateRequest(access_key=key)).token)


@pytest.mark.parametrize("rpc", GRPC_RPCS)
@pytest.mark.parametrize("event", list(AFTERWARDS))
def test_grpc_refuses_tokens_minted_before(
    stub: pb_grpc.MeetingsServiceStub, acme: tuple[Organization, str], rpc: str, event: str
) -> None:
    org, key = acme
    token = _token(stub, key)
    assert grpc_call(stub, rpc, org.id, token) is None
    with Organization._meta.database.connection_context():
        AFTERWARDS[event](org)
    _assert_unauthenticated(grpc_call(stub, rpc, org.id, token))


@pytest.mark.parametrize(("method", "url"), REST_ENDPOINTS)
@pytest.mark.parametrize("event", list(AFTERWARDS))
async def test_rest_refuses_tokens_minted_before(
    gateway: Any,
    stub: pb_grpc.MeetingsServiceStub,
    acme: tuple[Organization, str],
    method: str,
    url: str,
    event: str,
) -> None:
    org, key = acme
    token = _token(stub, key)
    assert (await rest_call(gateway, method, url, org.id, token)).status == 200
    with Organization._meta.database.connection_context():
        AFTERWARDS[event](org)
    response = await rest_call(gateway, method, url, org.id, token)
    assert response.status == 401
    assert await response.json() == UNAUTHORIZED


def test_the_forged_tokens_are_otherwise_well_formed(clock: FakeClock) -> None:
    """Guard for the cases above: the accepted form differs from each hostile one."""
    fresh = ACCEPTED_TOKENS["fresh"](5, clock.now)
    assert fresh.count(".") == 2
    assert all(build(5, clock.now) != fresh for build in HOSTILE_TOKENS.values())
    assert isinstance(clock.now, datetime)
