"""One module per RPC: how its legacy request is bound and its legacy response shaped."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway.calls import Call
from gateway.legacy import authenticate, export, member_upcoming, upcoming
from gateway.params import Params


@dataclass(frozen=True)
class Endpoint:
    """Fills an RPC request from legacy parameters, and answers with the legacy shape."""

    bind: Callable[[Any, Params], None]
    respond: Callable[[Call, Any], Awaitable[web.StreamResponse]]


ENDPOINTS: dict[str, Endpoint] = {
    "Authenticate": Endpoint(authenticate.bind, authenticate.respond),
    "ExportMeetings": Endpoint(export.bind, export.respond),
    "ListUpcomingMeetings": Endpoint(upcoming.bind, upcoming.respond),
    "ListMemberUpcomingMeetings": Endpoint(member_upcoming.bind, member_upcoming.respond),
}
