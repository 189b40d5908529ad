"""JSON responses with the legacy encoding (compact, UTF-8)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web


def json_response(document: Any, status: int = 200) -> web.Response:
    return json_body_response(orjson.dumps(document), status)


def json_body_response(body: bytes, status: int = 200) -> web.Response:
    """A response of a JSON document already encoded."""
    return web.Response(status=status, body=body, content_type="application/json")
