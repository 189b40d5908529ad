"""POST /api/v2/authenticate: {"access_key": ...} -> {"token": ...}."""

from __future__ import annotations

from aiohttp import web

from gateway.calls import Call
from gateway.legacy.json import json_response
from gateway.params import NO_HEADERS, Headers, Params
from heypeers.meetings.v1 import meetings_service_pb2 as pb


def bind(
    request: pb.AuthenticateRequest, params: Params, headers: Headers = NO_HEADERS
) -> pb.AuthenticateRequest:
    key = params.last("access_key")
    # A missing or non-string key is simply a wrong key: 401 Invalid Access Key.
    request.access_key = key if isinstance(key, str) else ""
    return request


async def respond(call: Call, request: pb.AuthenticateRequest) -> web.StreamResponse:
    response: pb.AuthenticateResponse = await call.unary("Authenticate", request)
    return json_response({"token": response.token})
