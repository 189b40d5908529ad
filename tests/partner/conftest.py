"""What partners see: the OpenAPI document checked against real responses, the reference page,
metrics and access logs. Data is loaded through the real fixture loader."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import peewee
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from gateway.app import create_app
from gateway.docs import DOCS_PATH, add_docs_routes
from gateway.observability import ACCESS_LOG, METRICS_PATH, JsonAccessLogger, add_observability
from gateway.openapi import OPENAPI_PATH, add_openapi_routes, build_openapi
from server.app import RunningServer
from store.loader import load_fixture
from tests.records import meeting_record

ORG_ID = 5
ACCESS_KEY = "partner-docs-test-key-00"  # 24 characters
OTHER_ORG_ID = 6
OTHER_ACCESS_KEY = "partner-docs-test-key-01"
# The suite's clock reads 2026-05-20T12:00:00Z (tests/conftest.py): two past, two upcoming.
PAST_COMPLETE, PAST_BARE, UPCOMING_FULL, UPCOMING_BARE = 9001, 9002, 9003, 9004


def _meeting(meeting_id: int, start: str, **values: Any) -> dict[str, Any]:
    complete = {
        "topic": "Grief & Loss",
        "special_focus": "Adults",
        "price": "12.50",
        "meeting_description": "A supportive space.",
        "group_leader_id": 4501,
        "eap": True,
        "allow_meeting_donation": True,
        "wait_list": True,
        "meeting_series_id": 412,
    }
    return meeting_record(meeting_id, ORG_ID, start, **{**complete, **values})


# Every nullable value null in the "bare" meetings, so the schemas' null branches are exercised.
_BARE = {
    "name": None,
    "meeting_type": None,
    "topic": None,
    "special_focus": None,
    "host": None,
    "location": None,
    "price": None,
    "max_attendees": None,
    "meeting_description": None,
    "group_leader_id": None,
    "meeting_series_id": None,
}

DOCUMENT: dict[str, list[dict[str, Any]]] = {
    "organizations": [
        {
            "id": ORG_ID,
            "name": "Acme",
            "access_key": ACCESS_KEY,
            "time_zone": "America/New_York",
            "eap": False,
            "hpc_organization_id": None,
        },
        {
            "id": OTHER_ORG_ID,
            "name": "Other",
            "access_key": OTHER_ACCESS_KEY,
            "time_zone": "UTC",
            "eap": False,
            "hpc_organization_id": None,
        },
    ],
    "users": [
        {
            "id": 4501,
            "first_name": "Jane",
            "last_name": "Doe",
            "avatar_url": "https://assets.example.org/users/avatars/thumb/4501.png",
        },
        {"id": 4502, "first_name": "Sam", "last_name": None, "avatar_url": None},
    ],
    "meeting_series": [{"id": 412, "organization_id": ORG_ID}],
    "meetings": [
        _meeting(PAST_COMPLETE, "2026-05-10T15:00:00+00:00", status="complete"),
        _meeting(PAST_BARE, "2026-05-11T15:00:00+00:00", **_BARE),
        _meeting(UPCOMING_FULL, "2026-05-23T15:00:00+00:00", price=10),
        _meeting(UPCOMING_BARE, "2026-05-24T23:30:00+00:00", duration=90, **_BARE),
    ],
    "registrations": [
        {"meeting_id": UPCOMING_FULL, "user_id": 4502, "status": "registered"},
        {"meeting_id": UPCOMING_FULL, "user_id": 4501, "status": "registered"},
    ],
}


@pytest.fixture
def partner_data(db: peewee.Database) -> dict[str, list[dict[str, Any]]]:
    load_fixture(DOCUMENT)
    return DOCUMENT


def with_partner_routes(app: web.Application) -> web.Application:
    """The gateway with /openapi.json, /docs and /metrics, whether or not create_app adds
    them yet (the lead wires them in; adding a route twice would fail)."""
    paths = {route.resource.canonical for route in app.router.routes() if route.resource}
    if OPENAPI_PATH not in paths:
        add_openapi_routes(app)
    if DOCS_PATH not in paths:
        add_docs_routes(app)
    if METRICS_PATH not in paths:
        add_observability(app)
    return app


@pytest.fixture
async def partner_gateway(aiohttp_client: Any, grpc_server: RunningServer) -> Any:
    """The full gateway in front of the test's gRPC server, with the JSON access log."""
    server = TestServer(with_partner_routes(create_app(f"127.0.0.1:{grpc_server.port}")))
    # The runner options `meetings serve` gives its gateway (aiohttp_client drops them).
    await server.start_server(access_log_class=JsonAccessLogger, access_log=ACCESS_LOG)
    return await aiohttp_client(server)


async def rest_token(client: Any, key: str = ACCESS_KEY) -> str:
    response = await client.post("/api/v2/authenticate", json={"access_key": key})
    assert response.status == 200, await response.text()
    return str((await response.json())["token"])


# --- checking bodies against the document ----------------------------------------------------

DOCUMENT_URI = "urn:meetings:openapi"


class OpenApiDocument:
    """The generated document, able to validate a response body against an operation."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)

    def validator(self, *pointer: str) -> Draft202012Validator:
        """A validator for the schema at `pointer` (its $refs resolve inside the document)."""
        fragment = "/".join(
            quote(p.replace("~", "~0").replace("/", "~1"), safe="") for p in pointer
        )
        return Draft202012Validator(
            {"$ref": f"{DOCUMENT_URI}#/{fragment}"},
            registry=self._registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )

    def check_response(self, method: str, template: str, status: int, body: Any) -> None:
        """Fails unless `status` is documented for the operation and `body` matches it."""
        operation = self.document["paths"][template][method.lower()]
        assert str(status) in operation["responses"], (
            f"{method} {template} answered {status}, which the document does not list"
        )
        self.validator(
            "paths",
            template,
            method.lower(),
            "responses",
            str(status),
            "content",
            "application/json",
            "schema",
        ).validate(body)


@pytest.fixture(scope="session")
def openapi() -> OpenApiDocument:
    return OpenApiDocument(build_openapi())
