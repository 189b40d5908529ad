"""The token exchange and the token errors through the REST gateway, exactly as the spec."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from store.models import Organization
from store.organizations import create_organization

PROTECTED_URLS = [
    ("GET", "/api/v2/organizations/{org}/export_meetings"),
    ("POST", "/api/v2/organizations/{org}/export_meetings"),
    ("GET", "/api/v2/organizations/{org}/upcoming_meetings"),
]


async def token_via_rest(gateway: Any, key: str) -> str:
    response = await gateway.post("/api/v2/authenticate", json={"access_key": key})
    assert response.status == 200
    return str((await response.json())["token"])


async def test_authenticate_with_json_returns_only_a_token(
    gateway: Any, acme: tuple[Organization, str]
) -> None:
    _, key = acme
    response = await gateway.post("/api/v2/authenticate", json={"access_key": key})
    assert response.status == 200
    assert response.content_type == "application/json"
    body = await response.json()
    assert list(body) == ["token"] and body["token"].count(".") == 2


async def test_authenticate_with_a_form_body(gateway: Any, acme: tuple[Organization, str]) -> None:
    _, key = acme
    response = await gateway.post("/api/v2/authenticate", data={"access_key": key})
    assert response.status == 200
    assert "token" in await response.json()


@pytest.mark.parametrize(
    "body",
    [{"access_key": "wrong-key-of-24-chars-xx"}, {}, {"access_key": 12}, {"access_key": None}],
)
async def test_authenticate_refuses_wrong_or_missing_keys(
    gateway: Any, acme: tuple[Organization, str], body: dict[str, Any]
) -> None:
    response = await gateway.post("/api/v2/authenticate", json=body)
    assert response.status == 401
    assert await response.json() == {"error": "Invalid Access Key"}


async def test_authenticate_refuses_a_body_that_is_not_json(gateway: Any) -> None:
    response = await gateway.post(
        "/api/v2/authenticate", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert "error" in await response.json()


@pytest.mark.parametrize(("method", "url"), PROTECTED_URLS)
@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer a.b.c"],
)
async def test_bad_tokens_are_unauthorized_access(
    gateway: Any, acme: tuple[Organization, str], method: str, url: str, authorization: str | None
) -> None:
    org, _ = acme
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = await gateway.request(method, url.format(org=org.id), headers=headers)
    assert response.status == 401
    assert await response.json() == {"error": "Unauthorized Access"}


@pytest.mark.parametrize(("method", "url"), PROTECTED_URLS)
async def test_another_organizations_token_is_not_authorized(
    gateway: Any, acme: tuple[Organization, str], method: str, url: str
) -> None:
    _, key = acme
    other, _ = create_organization("Other")
    token = await token_via_rest(gateway, key)
    response = await gateway.request(
        method, url.format(org=other.id), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status == 401
    assert await response.json() == {"error": "Not Authorized"}


@pytest.mark.parametrize(("method", "url"), PROTECTED_URLS)
async def test_a_bare_token_is_accepted(
    gateway: Any, acme: tuple[Organization, str], method: str, url: str
) -> None:
    org, key = acme
    token = await token_via_rest(gateway, key)
    bare = await gateway.request(method, url.format(org=org.id), headers={"Authorization": token})
    bearer = await gateway.request(
        method, url.format(org=org.id), headers={"Authorization": f"Bearer {token}"}
    )
    # The very answer a Bearer token gets, and a success: not merely some status but 401.
    assert bare.status == bearer.status == 200
    bare_body = await bare.json()
    assert bare_body == await bearer.json()
    assert bare_body["meetings"] == []  # acme has no meetings


async def test_the_gateway_and_grpc_give_the_same_error(
    gateway: Any, stub: pb_grpc.MeetingsServiceStub, acme: tuple[Organization, str]
) -> None:
    _, key = acme
    other, _ = create_organization("Other")
    token = await token_via_rest(gateway, key)
    rest = await gateway.get(
        f"/api/v2/organizations/{other.id}/upcoming_meetings",
        headers={"Authorization": f"Bearer {token}"},
    )
    with pytest.raises(grpc.RpcError) as direct:
        stub.ListUpcomingMeetings(
            pb.ListUpcomingMeetingsRequest(organization_id=other.id),
            metadata=[("authorization", f"Bearer {token}")],
        )
    assert direct.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (await rest.json())["error"] == direct.value.details() == "Not Authorized"


async def test_a_request_id_is_echoed_or_generated(gateway: Any) -> None:
    given = await gateway.post("/api/v2/authenticate", json={}, headers={"X-Request-Id": "abc-123"})
    assert given.headers["X-Request-Id"] == "abc-123"
    made = await gateway.post("/api/v2/authenticate", json={})
    assert len(made.headers["X-Request-Id"]) == 32


async def test_a_non_numeric_organization_id_is_a_clear_error(gateway: Any) -> None:
    response = await gateway.get("/api/v2/organizations/abc/export_meetings")
    assert response.status == 400
    assert await response.json() == {
        "error": "Path parameter organization_id must be a positive integer"
    }


INT64_MAX = 2**63 - 1
PATH_ERROR = "Path parameter organization_id must be a positive integer"


@pytest.mark.parametrize("org_id", [str(INT64_MAX), "1" + "0" * 18, "0" * 30 + "7"])
@pytest.mark.parametrize(("method", "template"), PROTECTED_URLS)
async def test_any_int64_organization_id_is_answered_as_grpc_answers_it(
    gateway: Any,
    stub: pb_grpc.MeetingsServiceStub,
    acme: tuple[Organization, str],
    org_id: str,
    method: str,
    template: str,
) -> None:
    _, key = acme
    token = await token_via_rest(gateway, key)
    rest = await gateway.request(
        method,
        template.format(org=org_id),
        params=[("column[]", "name")] if "export" in template else [],
        headers={"Authorization": f"Bearer {token}"},
    )
    with pytest.raises(grpc.RpcError) as direct:
        stub.ListUpcomingMeetings(
            pb.ListUpcomingMeetingsRequest(organization_id=int(org_id)),
            metadata=[("authorization", f"Bearer {token}")],
        )
    assert direct.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert rest.status == 401
    assert await rest.json() == {"error": direct.value.details()} == {"error": "Not Authorized"}


@pytest.mark.parametrize("org_id", [str(INT64_MAX + 1), str(2**64), "9" * 40])
@pytest.mark.parametrize(("method", "template"), PROTECTED_URLS)
async def test_an_organization_id_past_int64_is_a_bad_request(
    gateway: Any, acme: tuple[Organization, str], org_id: str, method: str, template: str
) -> None:
    _, key = acme
    token = await token_via_rest(gateway, key)
    rest = await gateway.request(
        method, template.format(org=org_id), headers={"Authorization": f"Bearer {token}"}
    )
    assert rest.status == (422 if "upcoming" in template else 400)
    assert await rest.json() == {"error": PATH_ERROR}
    with pytest.raises(ValueError):  # gRPC cannot even carry it
        pb.ListUpcomingMeetingsRequest(organization_id=int(org_id))


async def test_an_unknown_url_is_a_json_404(gateway: Any) -> None:
    response = await gateway.get("/api/v2/nothing")
    assert response.status == 404
    assert "error" in await response.json()
