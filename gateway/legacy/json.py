"""JSON responses with the legacy encoding (compact, UTF-8)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web


def json_response(document: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(document), content_type="application/json")
