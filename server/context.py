"""Per-request values that the interceptor sets and the servicer reads."""

from __future__ import annotations

from contextvars import ContextVar

from store.models import Organization

request_id: ContextVar[str] = ContextVar("request_id", default="-")
organization: ContextVar[Organization | None] = ContextVar("organization", default=None)


def current_organization() -> Organization:
    """The organization the current request was authorized for."""
    org = organization.get()
    if org is None:  # pragma: no cover - the interceptor always sets it
        raise RuntimeError("no authorized organization for this request")
    return org
