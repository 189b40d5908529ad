"""Authenticate and the token checks of every protected RPC, over real gRPC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import grpc
import pytest

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from store.models import Organization
from store.organizations import create_organization, rotate_access_key
from tests.conftest import FakeClock

AUTH_ERRORS = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


def call_protected(
    stub: pb_grpc.MeetingsServiceStub, rpc: str, org_id: int, token: str | None
) -> Any:
    """Call one protected RPC; returns the RpcError, or None when it succeeded."""
    metadata = [("authorization", token)] if token is not None else []
    try:
        if rpc == "StreamExportMeetings":
            list(
                stub.StreamExportMeetings(
                    pb.StreamExportMeetingsRequest(organization_id=org_id), metadata=metadata
                )
            )
        else:
            request_type = getattr(pb, f"{rpc}Request")
            getattr(stub, rpc)(request_type(organization_id=org_id), metadata=metadata)
    except grpc.RpcError as exc:
        return exc
    return None


PROTECTED = ["ExportMeetings", "StreamExportMeetings", "ListUpcomingMeetings"]


def token_for(stub: pb_grpc.MeetingsServiceStub, key: str) -> str:
    return str(stub.Authenticate(pb.AuthenticateRequest(access_key=key)).token)


def test_authenticate_returns_a_token_naming_the_organization(
    stub: pb_grpc.MeetingsServiceStub, acme: tuple[Organization, str], clock: FakeClock
) -> None:
    org, key = acme
    response = stub.Authenticate(pb.AuthenticateRequest(access_key=key))
    assert response.token.count(".") == 2
    assert response.organization_id == org.id
    assert response.expire_time.ToDatetime().timestamp() == pytest.approx(
        (clock.now + timedelta(hours=24)).timestamp()
    )


@pytest.mark.parametrize("key", ["", "wrong-key-of-24-chars-xx", "x" * 1000])
def test_authenticate_refuses_a_wrong_or_missing_key(
    stub: pb_grpc.MeetingsServiceStub, acme: tuple[Organization, str], key: str
) -> None:
    with pytest.raises(grpc.RpcError) as info:
        stub.Authenticate(pb.AuthenticateRequest(access_key=key))
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert info.value.details() == "Invalid Access Key"


@pytest.mark.parametrize("rpc", PROTECTED)
@pytest.mark.parametrize("style", ["Bearer {}", "bearer {}", "{}"])
def test_a_valid_token_passes_with_or_without_the_bearer_word(
    stub: pb_grpc.MeetingsServiceStub, acme: tuple[Organization, str], rpc: str, style: str
) -> None:
    org, key = acme
    error = call_protected(stub, rpc, org.id, style.format(token_for(stub, key)))
    assert error is None or error.code() not in AUTH_ERRORS


BAD_TOKENS: dict[str, Callable[[str], str | None]] = {
    "missing": lambda token: None,
    "empty": lambda token: "",
    "bearer only": lambda token: "Bearer ",
    "malformed": lambda token: "Bearer not-a-jwt",
    "badly signed": lambda token: (
        "Bearer " + token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    ),
}


@pytest.mark.parametrize("rpc", PROTECTED)
@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_a_bad_token_is_unauthenticated(
    stub: pb_grpc.MeetingsServiceStub, acme: tuple[Organization, str], rpc: str, case: str
) -> None:
    org, key = acme
    error = call_protected(stub, rpc, org.id, BAD_TOKENS[case](token_for(stub, key)))
    assert error is not None and error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error.details() == "Unauthorized Access"


@pytest.mark.parametrize("rpc", PROTECTED)
def test_an_expired_token_is_unauthenticated(
    stub: pb_grpc.MeetingsServiceStub, acme: tuple[Organization, str], clock: FakeClock, rpc: str
) -> None:
    org, key = acme
    token = token_for(stub, key)
    clock.advance(timedelta(hours=24, minutes=5))
    error = call_protected(stub, rpc, org.id, f"Bearer {token}")
    assert error is not None and error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error.details() == "Unauthorized Access"


@pytest.mark.parametrize("rpc", PROTECTED)
def test_a_token_of_a_deleted_organization_is_unauthenticated(
    stub: pb_grpc.MeetingsServiceStub, acme: tuple[Organization, str], rpc: str
) -> None:
    org, key = acme
    token = token_for(stub, key)
    with Organization._meta.database.connection_context():
        Organization.delete_by_id(org.id)
    error = call_protected(stub, rpc, org.id, f"Bearer {token}")
    assert error is not None and error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error.details() == "Unauthorized Access"


@pytest.mark.parametrize("rpc", PROTECTED)
def test_rotating_the_key_revokes_older_tokens(
    stub: pb_grpc.MeetingsServiceStub, acme: tuple[Organization, str], rpc: str
) -> None:
    org, key = acme
    old_token = token_for(stub, key)
    new_key = rotate_access_key(org.id)
    error = call_protected(stub, rpc, org.id, f"Bearer {old_token}")
    assert error is not None and error.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError):
        token_for(stub, key)
    fresh = call_protected(stub, rpc, org.id, f"Bearer {token_for(stub, new_key)}")
    assert fresh is None or fresh.code() not in AUTH_ERRORS


@pytest.mark.parametrize("rpc", PROTECTED)
def test_a_token_for_another_organization_is_permission_denied(
    stub: pb_grpc.MeetingsServiceStub, acme: tuple[Organization, str], rpc: str
) -> None:
    _, key = acme
    other, _ = create_organization("Other")
    error = call_protected(stub, rpc, other.id, f"Bearer {token_for(stub, key)}")
    assert error is not None and error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error.details() == "Not Authorized"
