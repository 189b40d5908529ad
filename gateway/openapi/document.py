"""The whole document, assembled from the routes, and the route that serves it."""

from __future__ import annotations

from functools import cache
from importlib import metadata
from typing import Any

import orjson
from aiohttp import web

from gateway.openapi import member
from gateway.openapi.messages import (
    error_schema,
    export_result_schema,
    exported_meeting_schema,
    group_leader_schema,
    page_metadata_schema,
    token_schema,
    upcoming_meeting_schema,
    upcoming_page_schema,
)
from gateway.openapi.operations import operation
from gateway.openapi.parameters import GATEWAY_PARAMETERS, HEADER_PARAMETERS, body_schema
from gateway.openapi.responses import EXPORT_HEADERS
from gateway.openapi.values import Schema
from gateway.routes import Route, service_routes

OPENAPI_PATH = "/openapi.json"
OPENAPI_VERSION = "3.1.0"


def component_schemas(routes: list[Route]) -> dict[str, Schema]:
    schemas: dict[str, Schema] = {
        "Error": error_schema(),
        "Token": token_schema(),
        "ExportedMeeting": exported_meeting_schema(),
        "PageMetadata": page_metadata_schema(),
        "ExportMeetingsResult": export_result_schema(paginated=False),
        "ExportMeetingsPage": export_result_schema(paginated=True),
        "UpcomingMeeting": upcoming_meeting_schema(),
        "GroupLeader": group_leader_schema(),
        "UpcomingMeetingsPage": upcoming_page_schema(),
        **member.component_schemas(),
    }
    for route in routes:
        if route.body:
            schemas[f"{route.rpc_name}Body"] = body_schema(route, form=False)
            schemas[f"{route.rpc_name}Form"] = body_schema(route, form=True)
    return schemas


def _api_version() -> str:
    try:
        return metadata.version("meetings-api")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "0"


def build_openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every annotated route, built afresh from the descriptor."""
    routes = service_routes()
    paths: dict[str, Schema] = {}
    for route in routes:
        paths.setdefault(route.template, {})[route.http_method.lower()] = operation(route, routes)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Meetings API",
            "version": _api_version(),
            "summary": "An organization's meetings: export and upcoming feed.",
            "description": "The REST/JSON API for partners: the legacy URLs, parameters and JSON "
            "shapes. Get a token from `POST /api/v2/authenticate`, then send "
            "`Authorization: Bearer <token>` (a bare token is accepted too). Every response "
            "carries `X-Request-Id`: yours when you sent one, otherwise a generated one; quote "
            'it when reporting a problem. Every error body is `{"error": "<message>"}`.',
        },
        "tags": [
            {"name": "Authentication", "description": "Access keys for bearer tokens."},
            {"name": "Meetings", "description": "Your organization's meetings."},
        ],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": components(routes),
    }


def components(routes: list[Route]) -> Schema:
    """The components every operation refers to: security, parameters, headers, schemas."""
    return {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "The token from POST /api/v2/authenticate.",
            }
        },
        "parameters": {
            **HEADER_PARAMETERS,
            **{
                name: parameter
                for parameters in GATEWAY_PARAMETERS.values()
                for name, parameter in parameters.items()
            },
        },
        "headers": {
            "RequestId": {
                "description": "The request's id: the caller's, or a generated one.",
                "schema": {"type": "string"},
            },
            "RetryAfter": {
                "description": "Whole seconds to wait before trying again.",
                "schema": {"type": "integer", "minimum": 1},
            },
            **EXPORT_HEADERS,
        },
        "schemas": component_schemas(routes),
    }


@cache
def openapi_bytes() -> bytes:
    """The document as served: the descriptor does not change while the process runs."""
    return orjson.dumps(build_openapi())


async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(
        body=openapi_bytes(),
        content_type="application/json",
        headers={"Cache-Control": "no-cache"},
    )


def add_openapi_routes(app: web.Application) -> None:
    """Serve the document at GET /openapi.json."""
    app.router.add_get(OPENAPI_PATH, openapi_json)
