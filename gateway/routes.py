"""Routes read from the google.api.http annotations of the service descriptor."""

from __future__ import annotations

import re
from dataclasses import dataclass

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor

from heypeers.meetings.v1 import meetings_service_pb2 as pb

SERVICE = pb.DESCRIPTOR.services_by_name["MeetingsService"]
_VARIABLE = re.compile(r"\{([a-z_][a-z0-9_.]*)(?:=[^}]*)?\}")


@dataclass(frozen=True)
class Route:
    """One HTTP binding of an RPC."""

    http_method: str
    template: str  # aiohttp form: /api/v2/organizations/{organization_id}/export_meetings
    rpc: descriptor.MethodDescriptor
    body: str
    path_fields: tuple[str, ...]

    @property
    def rpc_name(self) -> str:
        return str(self.rpc.name)


def _bindings(rule: http_pb2.HttpRule) -> list[http_pb2.HttpRule]:
    return [rule, *rule.additional_bindings]


def _route(rule: http_pb2.HttpRule, method: descriptor.MethodDescriptor) -> Route:
    kind = rule.WhichOneof("pattern")
    if kind is None:
        raise ValueError(f"{method.full_name}: http rule without a pattern")
    if kind == "custom":
        verb, path = rule.custom.kind.upper(), rule.custom.path
    else:
        verb, path = kind.upper(), getattr(rule, kind)
    fields = tuple(m.group(1) for m in _VARIABLE.finditer(path))
    template = _VARIABLE.sub(lambda m: "{" + m.group(1) + "}", path)
    return Route(verb, template, method, rule.body, fields)


def service_routes(service: descriptor.ServiceDescriptor = SERVICE) -> list[Route]:
    """Every HTTP binding of every annotated RPC, additional bindings included."""
    routes: list[Route] = []
    for method in service.methods:
        options = method.GetOptions()
        if not options.HasExtension(annotations_pb2.http):
            continue
        rule = options.Extensions[annotations_pb2.http]
        routes.extend(_route(binding, method) for binding in _bindings(rule))
    return routes
