"""What partners and operators see of the member feed: real responses that match
/openapi.json, and metrics labelled by route template (gateway) and by method (gRPC)."""

from __future__ import annotations

from typing import Any

from prometheus_client import REGISTRY

import gateway.openapi.member as member_openapi
from gateway.openapi import build_openapi
from heypeers.meetings.v1 import meetings_service_pb2 as pb
from server.member_upcoming import DEFAULT_PAGE_SIZE
from store.models import MAX_IDP_ID_LENGTH
from tests.member_upcoming.conftest import (
    MEMBER_IDP,
    OTHER_ACCESS_KEY,
    OTHER_ORG_ID,
    Document,
    document,
    meeting,
    member_path,
    registration,
    user,
)
from tests.partner.conftest import OpenApiDocument
from tests.partner.test_grpc_metrics import settles_at
from tests.upcoming.conftest import ACCESS_KEY, organization

ROUTE = "/api/v2/organizations/{organization_id}/members/{idp_id}/upcoming_meetings"


def partner_document() -> Document:
    """Both branches of every nullable value, and both registration states."""
    return document(
        organizations=[organization(), organization(OTHER_ORG_ID, key=OTHER_ACCESS_KEY)],
        users=[user(100), user(4501, "Jane", "Doe")],
        meetings=[
            meeting(1, group_leader_id=4501),
            meeting(2, "2026-05-24T15:00:00+00:00", name=None, max_attendees=None, topic=None),
        ],
        registrations=[
            registration(1, registered_at="2026-05-10T18:42:11+00:00"),
            registration(2, status="waitlisted"),
        ],
    )


async def _token(gateway: Any, key: str = ACCESS_KEY) -> str:
    response = await gateway.post("/api/v2/authenticate", json={"access_key": key})
    return str((await response.json())["token"])


def test_the_documented_defaults_are_the_servers() -> None:
    assert member_openapi.DEFAULT_PAGE_SIZE == DEFAULT_PAGE_SIZE
    assert member_openapi.MAX_IDP_ID_LENGTH == MAX_IDP_ID_LENGTH


async def test_responses_match_the_document(gateway: Any, load: Any) -> None:
    openapi = OpenApiDocument(build_openapi())
    load(partner_document())
    token = await _token(gateway)
    other = await _token(gateway, OTHER_ACCESS_KEY)
    bearer = {"Authorization": f"Bearer {token}"}
    cases = [
        (member_path(MEMBER_IDP), {}, bearer, 200),
        (member_path(MEMBER_IDP), {"items": "1", "page": "2"}, bearer, 200),
        (member_path("nobody"), {}, bearer, 404),
        (member_path(MEMBER_IDP), {}, {}, 401),
        (member_path(MEMBER_IDP), {}, {"Authorization": f"Bearer {other}"}, 401),
        (member_path(MEMBER_IDP), {"page": "one"}, bearer, 422),
        (member_path("x" * 256), {}, bearer, 422),
    ]
    bodies = []
    for path, query, headers, status in cases:
        response = await gateway.get(path, params=query, headers=headers)
        body = await response.json()
        assert response.status == status, body
        openapi.check_response("GET", ROUTE, status, body)
        bodies.append(body)
    meetings = bodies[0]["meetings"]
    assert [m["registered"] for m in meetings] == [True, False]
    assert [m["group_leader"] is None for m in meetings] == [False, True]


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_requests_are_counted_by_route_template_and_rpcs_by_method(
    gateway: Any, load: Any
) -> None:
    load(partner_document())
    labels = {"method": "GET", "route": ROUTE}
    grpc_labels = {
        "grpc_type": "unary",
        "grpc_service": pb.DESCRIPTOR.services_by_name["MeetingsService"].full_name,
        "grpc_method": "ListMemberUpcomingMeetings",
    }
    before_ok = _value("meetings_http_requests_total", **labels, status="200")
    before_missing = _value("meetings_http_requests_total", **labels, status="404")
    before_rpc = _value("grpc_server_handled_total", **grpc_labels, grpc_code="NOT_FOUND")
    bearer = {"Authorization": f"Bearer {await _token(gateway)}"}
    assert (await gateway.get(member_path("a/b é"), headers=bearer)).status == 404
    assert (await gateway.get(member_path(MEMBER_IDP), headers=bearer)).status == 200
    assert _value("meetings_http_requests_total", **labels, status="200") == before_ok + 1
    assert _value("meetings_http_requests_total", **labels, status="404") == before_missing + 1
    assert settles_at(
        before_rpc + 1, "grpc_server_handled_total", **grpc_labels, grpc_code="NOT_FOUND"
    )
