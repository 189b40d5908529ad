"""One module per RPC: how its legacy request is bound and its legacy response shaped."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway.calls import Call
from gateway.legacy import authenticate, export, member_upcoming, upcoming
from gateway.params import Headers, Params


@dataclass(frozen=True)
class Endpoint:
    """Fills an RPC request from legacy parameters, and answers with the legacy shape.

    `bind` settles everything the answer depends on, once, and returns it (the filled request,
    or a value holding it); `respond` takes that value and decides nothing again.
    """

    bind: Callable[[Any, Params, Headers], Any]
    respond: Callable[[Call, Any], Awaitable[web.StreamResponse]]


ENDPOINTS: dict[str, Endpoint] = {
    "Authenticate": Endpoint(authenticate.bind, authenticate.respond),
    "ExportMeetings": Endpoint(export.bind, export.respond),
    "ListUpcomingMeetings": Endpoint(upcoming.bind, upcoming.respond),
    "ListMemberUpcomingMeetings": Endpoint(member_upcoming.bind, member_upcoming.respond),
}
