"""The OpenAPI document: valid 3.1, generated from the annotations, and true to real responses."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.versions import consts, get_spec_version

from gateway.errors import BindError
from gateway.legacy.export import COLUMNS, REPORT_TYPES, REPORTING_DAYS, parse_legacy_datetime
from gateway.openapi import build_openapi
from gateway.openapi.patterns import INTEGER_STRING_PATTERN, LEGACY_DATETIME_PATTERN
from gateway.routes import service_routes
from heypeers.meetings.v1 import meetings_service_pb2 as pb
from tests.partner.conftest import (
    ACCESS_KEY,
    ORG_ID,
    OTHER_ACCESS_KEY,
    OTHER_ORG_ID,
    OpenApiDocument,
    rest_token,
)

AUTHENTICATE = "/api/v2/authenticate"
EXPORT = "/api/v2/organizations/{organization_id}/export_meetings"
UPCOMING = "/api/v2/organizations/{organization_id}/upcoming_meetings"


def url(template: str, org: int = ORG_ID) -> str:
    return template.replace("{organization_id}", str(org))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the document itself ---------------------------------------------------------------------


def test_the_document_is_valid_openapi_3_1() -> None:
    document = build_openapi()
    assert get_spec_version(document) == consts.OPENAPIV31
    validate(document)  # raises on the first violation


def test_every_annotated_route_is_documented_and_nothing_else() -> None:
    documented = {
        (method.upper(), path)
        for path, operations in build_openapi()["paths"].items()
        for method in operations
    }
    assert documented == {(r.http_method, r.template) for r in service_routes()}


def test_operation_ids_are_unique() -> None:
    ids = [op["operationId"] for ops in build_openapi()["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_path_parameters_carry_their_proto_field_types() -> None:
    document = build_openapi()
    for route in service_routes():
        operation = document["paths"][route.template][route.http_method.lower()]
        path_parameters = {p["name"]: p for p in operation["parameters"] if p.get("in") == "path"}
        assert set(path_parameters) == set(route.path_fields)
        for name in route.path_fields:
            field = route.rpc.input_type.fields_by_name[name]
            assert path_parameters[name]["required"] is True
            if field.type == field.TYPE_STRING:  # a member's idp_id
                schema = path_parameters[name]["schema"]
                assert (schema["type"], schema["minLength"], schema["maxLength"]) == (
                    "string",
                    1,
                    255,
                )
                continue
            assert field.type == field.TYPE_INT64
            assert path_parameters[name]["schema"] == {
                "type": "integer",
                "format": "int64",
                "minimum": 1,
                "maximum": 2**63 - 1,  # what a gRPC caller can send, and the gateway takes
            }


def _query_parameters(method: str, template: str) -> dict[str, Any]:
    operation = build_openapi()["paths"][template][method]
    return {p["name"]: p for p in operation["parameters"] if p.get("in") == "query"}


def test_export_parameters_have_the_legacy_names_and_the_gateways_values() -> None:
    parameters = _query_parameters("get", EXPORT)
    assert set(parameters) == {
        "column[]",
        "reporting_days",
        "start_time",
        "end_time",
        "report_type",
        "page",
        "per_page",
    }
    # The enums are what the gateway accepts, which it reads from the proto enums.
    # (each first as the spelling to send; tests/gateway/test_openapi_constraints.py checks the
    # other spellings the gateway takes).
    assert parameters["column[]"]["schema"]["items"]["anyOf"][0]["enum"] == list(COLUMNS)
    assert len(COLUMNS) == 18
    assert parameters["reporting_days"]["schema"]["anyOf"][0]["enum"] == list(REPORTING_DAYS)
    assert parameters["reporting_days"]["schema"]["default"] == "all"
    assert parameters["report_type"]["schema"]["anyOf"][0]["enum"] == list(REPORT_TYPES)
    # Any integer: the gateway clamps, whatever the size.
    assert parameters["per_page"]["schema"] == {
        "type": ["integer", "string"],
        "pattern": INTEGER_STRING_PATTERN,
        "default": 100,
    }
    assert parameters["start_time"]["schema"]["pattern"] == LEGACY_DATETIME_PATTERN


def test_upcoming_parameters_have_the_legacy_names() -> None:
    parameters = _query_parameters("get", UPCOMING)
    assert set(parameters) == {"meeting_series_id", "page", "items"}
    assert parameters["items"]["schema"]["default"] == 20


def test_export_rows_name_every_column_with_group_leader_renamed() -> None:
    row = build_openapi()["components"]["schemas"]["ExportedMeeting"]
    keys = [
        value.name.removeprefix("EXPORT_COLUMN_").lower()
        for value in pb.ExportColumn.DESCRIPTOR.values
        if value.number
    ]
    assert list(row["properties"]) == [k.replace("group_leader_id", "group_leader") for k in keys]
    assert row["properties"]["group_leader"]["type"] == ["integer", "null"]
    assert row["properties"]["price"] == {"type": "number"}
    assert row["properties"]["start_time"] == {"type": "string", "format": "date-time"}
    assert row["properties"]["wait_list"] == {"type": "boolean"}


def test_upcoming_meetings_have_exactly_the_pages_keys() -> None:
    meeting = build_openapi()["components"]["schemas"]["UpcomingMeeting"]
    keys = [
        "id",
        "name",
        "start_time",
        "end_time",
        "duration",
        "duration_in_minutes",
        "topic",
        "description",
        "location",
        "meeting_series_id",
        "max_attendees",
        "registered_attendees",
        "group_leader",
    ]
    assert meeting["required"] == keys and list(meeting["properties"]) == keys
    assert meeting["additionalProperties"] is False
    assert meeting["properties"]["group_leader"] == {
        "oneOf": [{"$ref": "#/components/schemas/GroupLeader"}, {"type": "null"}]
    }


@pytest.mark.parametrize(
    ("template", "method", "statuses"),
    [
        # 413 and 414 are the gateway's own limits, on every operation.
        (AUTHENTICATE, "post", {"200", "400", "401", "413", "414", "429", "500", "503", "504"}),
        (EXPORT, "get", {"200", "400", "401", "413", "414", "503", "504"}),
        (EXPORT, "post", {"200", "400", "401", "413", "414", "503", "504"}),
        (UPCOMING, "get", {"200", "401", "413", "414", "422", "500", "503", "504"}),
    ],
)
def test_error_statuses_follow_the_gateways_table(
    template: str, method: str, statuses: set[str]
) -> None:
    responses = build_openapi()["paths"][template][method]["responses"]
    assert set(responses) == statuses
    for status, response in responses.items():
        if status != "200":
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}


def test_authenticate_needs_no_token_and_the_rest_need_a_bearer_token() -> None:
    document = build_openapi()
    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["paths"][AUTHENTICATE]["post"]["security"] == []
    assert "security" not in document["paths"][EXPORT]["get"]


def test_every_example_matches_its_schema(openapi: OpenApiDocument) -> None:
    checked = 0
    for path, operations in openapi.document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                media = response["content"]["application/json"]
                for name, example in media.get("examples", {}).items():
                    pointer = ("paths", path, method, "responses", status, "content")
                    validator = openapi.validator(*pointer, "application/json", "schema")
                    assert validator.is_valid(example["value"]), (path, method, status, name)
                    checked += 1
    assert checked >= 10


@pytest.mark.parametrize(
    "text",
    ["11/01/2025 08:00 AM", "1/1/2025 8:00 am", "12/31/2025 11:59 PM", "02/28/2026 12:00 pm"],
)
def test_the_date_pattern_accepts_what_the_gateway_parses(text: str) -> None:
    assert re.match(LEGACY_DATETIME_PATTERN, text)
    parse_legacy_datetime(text, "start_time")


@pytest.mark.parametrize(
    "text",
    ["2025-11-01 08:00", "11/01/2025 08:00", "13/01/2025 08:00 AM", "11/01/2025 13:00 PM", "x"],
)
def test_the_date_pattern_refuses_what_the_gateway_refuses(text: str) -> None:
    assert not re.match(LEGACY_DATETIME_PATTERN, text)
    with pytest.raises(BindError):
        parse_legacy_datetime(text, "start_time")


# --- served --------------------------------------------------------------------------------


async def test_the_document_is_served_at_openapi_json(partner_gateway: Any) -> None:
    response = await partner_gateway.get("/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == build_openapi()


# --- real responses validate against it ----------------------------------------------------


async def test_authenticate_responses_match(
    partner_gateway: Any, partner_data: object, openapi: OpenApiDocument
) -> None:
    ok = await partner_gateway.post(AUTHENTICATE, json={"access_key": ACCESS_KEY})
    form = await partner_gateway.post(AUTHENTICATE, data={"access_key": ACCESS_KEY})
    wrong = await partner_gateway.post(AUTHENTICATE, json={"access_key": "x" * 24})
    not_json = await partner_gateway.post(
        AUTHENTICATE, data=b"{nope", headers={"Content-Type": "application/json"}
    )
    for response, status in ((ok, 200), (form, 200), (wrong, 401), (not_json, 400)):
        assert response.status == status
        assert response.content_type == "application/json"
        assert response.headers["X-Request-Id"]
        openapi.check_response("POST", AUTHENTICATE, status, await response.json())


async def test_upcoming_responses_match(
    partner_gateway: Any, partner_data: object, openapi: OpenApiDocument
) -> None:
    token = await rest_token(partner_gateway)
    other = await rest_token(partner_gateway, OTHER_ACCESS_KEY)
    cases = [
        (url(UPCOMING), {}, bearer(token), 200),
        (url(UPCOMING), {"meeting_series_id": "412", "items": "1"}, bearer(token), 200),
        (url(UPCOMING), {}, {}, 401),
        (url(UPCOMING), {}, bearer("not-a-token"), 401),
        (url(UPCOMING), {}, bearer(other), 401),
        (url(UPCOMING), {"meeting_series_id": "abc"}, bearer(token), 422),
        (url(UPCOMING), {"page": "one"}, bearer(token), 422),
    ]
    bodies = []
    for path, query, headers, status in cases:
        response = await partner_gateway.get(path, params=query, headers=headers)
        body = await response.json()
        assert response.status == status, body
        openapi.check_response("GET", UPCOMING, status, body)
        bodies.append(body)
    # The data exercises both branches of the nullable values.
    meetings = bodies[0]["meetings"]
    assert [m["group_leader"] is None for m in meetings] == [False, True]
    assert meetings[1]["max_attendees"] is None and meetings[1]["name"] is None


async def test_export_error_responses_match(
    partner_gateway: Any, partner_data: object, openapi: OpenApiDocument
) -> None:
    token = await rest_token(partner_gateway)
    other = await rest_token(partner_gateway, OTHER_ACCESS_KEY)
    column = {"column[]": "name"}
    cases = [
        ("GET", {**column, "reporting_days": "someday"}, bearer(token), 400),
        ("GET", {**column, "reporting_days": "custom", "start_time": "2025-11-01"}, {}, 400),
        ("GET", {**column, "page": "first"}, bearer(token), 400),
        ("GET", column, {}, 401),
        ("GET", column, bearer(other), 401),
        ("POST", column, bearer(other), 401),
        ("POST", {**column, "report_type": "some"}, bearer(token), 400),
    ]
    for method, query, headers, status in cases:
        response = await partner_gateway.request(method, url(EXPORT), params=query, headers=headers)
        body = await response.json()
        assert response.status == status, body
        openapi.check_response(method, EXPORT, status, body)
    wrong_org = await partner_gateway.get(url(EXPORT, OTHER_ORG_ID), headers=bearer(token))
    assert await wrong_org.json() == {"error": "Not Authorized"}


EVERY_COLUMN = list(COLUMNS)


async def test_export_200_responses_match(
    partner_gateway: Any, partner_data: object, openapi: OpenApiDocument
) -> None:
    token = await rest_token(partner_gateway)
    every = [("column[]", key) for key in EVERY_COLUMN]
    requests: list[tuple[str, dict[str, Any]]] = [
        ("GET", {"params": every}),  # all (past) meetings, unpaginated: streamed
        ("GET", {"params": [*every, ("reporting_days", "all_upcoming")]}),
        ("GET", {"params": [*every, ("page", "1"), ("per_page", "1")]}),
        ("GET", {"params": [("column[]", "nope")]}),  # no known column: meetings []
        ("POST", {"json": {"column": EVERY_COLUMN, "per_page": "50"}}),
        ("POST", {"json": {"column": EVERY_COLUMN, "reporting_days": "all_upcoming"}}),
        ("POST", {"data": [*every, ("page", "2")]}),
    ]
    bodies = []
    for method, arguments in requests:
        response = await partner_gateway.request(
            method, url(EXPORT), headers=bearer(token), **arguments
        )
        assert response.status == 200, await response.text()
        assert response.content_type == "application/json"
        body = await response.json()
        openapi.check_response(method, EXPORT, 200, body)
        bodies.append(body)
    # Every column came back, and the null and non-null branches were both exercised.
    rows = bodies[0]["meetings"] + bodies[1]["meetings"]
    assert {key for row in rows for key in row} == {
        key.replace("group_leader_id", "group_leader") for key in EVERY_COLUMN
    }
    assert {row["group_leader"] is None for row in rows} == {True, False}
    assert "metadata" in bodies[2] and "metadata" not in bodies[0]
    assert bodies[3] == {"success": True, "meetings": []}
