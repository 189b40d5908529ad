"""ListMemberUpcomingMeetings over gRPC: typed meetings with the member's registration, and
rich statuses (NOT_FOUND with a ResourceInfo, INVALID_ARGUMENT with a BadRequest)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import grpc
import pytest
from google.rpc import code_pb2, error_details_pb2
from grpc_status import rpc_status

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from tests.member_upcoming.conftest import (
    ACCESS_KEY,
    MEMBER_IDP,
    ORG_ID,
    Document,
    document,
    meeting,
    registration,
)

Load = Callable[[Document], None]
GrpcFeed = Callable[..., pb.ListMemberUpcomingMeetingsResponse]


def request(**fields: Any) -> pb.ListMemberUpcomingMeetingsRequest:
    return pb.ListMemberUpcomingMeetingsRequest(
        **{"organization_id": ORG_ID, "idp_id": MEMBER_IDP, **fields}
    )


def test_meetings_are_typed_with_the_registration(load: Load, grpc_member_feed: GrpcFeed) -> None:
    load(
        document(
            meetings=[meeting(1, meeting_series_id=None), meeting(2, "2026-05-24T15:00:00+00:00")],
            registrations=[
                registration(1, registered_at="2026-05-10T18:42:11.5+00:00"),
                registration(2, status="waitlisted"),
            ],
        )
    )
    response = grpc_member_feed()
    assert (response.current_page, response.items, response.total_items) == (1, 10, 2)
    assert response.total_pages == 1
    first, second = response.meetings
    assert first.meeting.id == 1 and first.meeting.duration == "1 hour"
    assert first.meeting.start_time.ToDatetime() == datetime(2026, 5, 23, 15)
    assert first.registration_state == pb.REGISTRATION_STATE_REGISTERED
    assert first.registered_at.ToDatetime() == datetime(2026, 5, 10, 18, 42, 11, 500000)
    assert second.registration_state == pb.REGISTRATION_STATE_WAITLISTED
    assert not second.HasField("registered_at")


@pytest.mark.parametrize(
    ("fields", "page", "page_size"),
    [
        ({}, 1, 10),
        ({"page": 0}, 1, 10),
        ({"page_size": 0}, 1, 1),
        ({"page_size": 3, "page": 2}, 2, 3),
        ({"page_size": 500}, 1, 100),
    ],
)
def test_paging_defaults_and_clamps(
    load: Load, grpc_member_feed: GrpcFeed, fields: dict[str, int], page: int, page_size: int
) -> None:
    load(document(meetings=[meeting(1)], registrations=[registration(1)]))
    response = grpc_member_feed(request(**fields))
    assert (response.current_page, response.items, response.total_items) == (page, page_size, 1)


def _failure(stub: pb_grpc.MeetingsServiceStub, message: Any) -> grpc.RpcError:
    token = stub.Authenticate(pb.AuthenticateRequest(access_key=ACCESS_KEY)).token
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListMemberUpcomingMeetings(message, metadata=[("authorization", token)])
    return caught.value


def test_an_unknown_member_is_not_found_with_its_resource_info(
    load: Load, stub: pb_grpc.MeetingsServiceStub
) -> None:
    load(document())
    error = _failure(stub, request(idp_id="nobody/else"))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    status = rpc_status.from_call(error)
    assert status is not None
    assert (status.code, status.message) == (code_pb2.NOT_FOUND, "Member not found")
    (detail,) = status.details
    info = error_details_pb2.ResourceInfo()
    assert detail.Unpack(info)
    assert (info.resource_type, info.resource_name, info.owner) == (
        "member",
        "nobody/else",
        f"organizations/{ORG_ID}",
    )


@pytest.mark.parametrize("idp_id", ["", "x" * 256])
def test_an_idp_id_outside_1_to_255_characters_is_invalid(
    load: Load, stub: pb_grpc.MeetingsServiceStub, idp_id: str
) -> None:
    load(document())
    error = _failure(stub, request(idp_id=idp_id))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(error)
    assert status is not None
    bad = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    assert [(v.field, v.description) for v in bad.field_violations] == [
        ("idp_id", "Parameter idp_id must be 1 to 255 characters")
    ]


def test_255_characters_of_any_script_are_an_idp_id(load: Load, grpc_member_feed: GrpcFeed) -> None:
    idp_id = "é" * 255
    load(
        document(
            meetings=[meeting(1)],
            registrations=[registration(1)],
            memberships=[{"organization_id": ORG_ID, "user_id": 100, "idp_id": idp_id}],
        )
    )
    assert [m.meeting.id for m in grpc_member_feed(request(idp_id=idp_id)).meetings] == [1]


def test_another_organizations_id_is_permission_denied(
    load: Load, stub: pb_grpc.MeetingsServiceStub
) -> None:
    load(document())
    error = _failure(stub, request(organization_id=ORG_ID + 1))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
