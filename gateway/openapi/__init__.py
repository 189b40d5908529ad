"""The OpenAPI 3.1 document of the REST API, generated from the service descriptor.

Paths, methods, path parameters and the legacy parameter names come from the google.api.http
annotations (gateway.routes) and the request messages (a json_name the proto sets is the legacy
name); value types come from the proto field types and enums; HTTP statuses come from the one
code -> status table in gateway.errors. What only the legacy API knows (the response shapes,
which values may be null, defaults, prose) is written once, in small named builders. Nothing
here lists a URL, so the document cannot drift from the routes the gateway serves.

One concern a module:

- document: the assembly of the whole document, and the route serving it;
- operations: one operation per route, with the legacy prose of each RPC;
- parameters: path, query, body and header parameters, as the gateway binds them;
- messages: the response shapes (components/schemas);
- responses: the 200s, the export's headers, the errors by HTTP status;
- examples: the examples, the export's also in CSV and NDJSON;
- values: proto values as legacy JSON (enum spellings, the schema of a field);
- patterns: what the binders accept, as regular expressions;
- numeric_ranges: regular expressions for ranges of whole numbers.
"""

from __future__ import annotations

from gateway.openapi.document import (
    OPENAPI_PATH,
    OPENAPI_VERSION,
    add_openapi_routes,
    build_openapi,
    openapi_bytes,
)

__all__ = [
    "OPENAPI_PATH",
    "OPENAPI_VERSION",
    "add_openapi_routes",
    "build_openapi",
    "openapi_bytes",
]
