"""Errors of the service, and the one place they become google.rpc.Status with details."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from store.errors import DatabaseUnavailable, NotFound, QueryInterrupted

log = logging.getLogger("meetings.server")

ERROR_DOMAIN = "meetings.heypeers.com"


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class ServiceError(Exception):
    """An error the caller caused; its message is safe to show."""

    code = code_pb2.UNKNOWN

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(ServiceError):
    code = code_pb2.INVALID_ARGUMENT

    def __init__(self, violations: list[FieldViolation]) -> None:
        super().__init__("; ".join(v.description for v in violations))
        self.violations = violations

    @classmethod
    def single(cls, field: str, description: str) -> InvalidArgument:
        return cls([FieldViolation(field, description)])


class Unauthenticated(ServiceError):
    code = code_pb2.UNAUTHENTICATED


class PermissionDenied(ServiceError):
    code = code_pb2.PERMISSION_DENIED


class TooManyAttempts(ServiceError):
    """A client failed too often; it may try again after `retry_after` seconds."""

    code = code_pb2.RESOURCE_EXHAUSTED

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


UNAVAILABLE_MESSAGE = "Service unavailable: the database cannot be reached; try again shortly"
DEADLINE_MESSAGE = "The request took too long and was stopped"


# A status travels in trailers, which clients cap (8 KiB by default): a message quoting a
# huge input would turn into the client's own RESOURCE_EXHAUSTED.
MAX_MESSAGE_CHARS = 1000


def _capped(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def _packed(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def status_for(exc: BaseException, *, request_id: str, action: str) -> status_pb2.Status:
    """The status a caller receives for an exception raised while serving `action`."""
    if isinstance(exc, InvalidArgument):
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=_capped(v.field), description=_capped(v.description)
                )
                for v in exc.violations
            ]
        )
        return status_pb2.Status(
            code=exc.code, message=_capped(exc.message), details=[_packed(bad)]
        )
    if isinstance(exc, TooManyAttempts):
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(max(1, round(exc.retry_after * 1000)))
        retry = error_details_pb2.RetryInfo(retry_delay=delay)
        return status_pb2.Status(code=exc.code, message=exc.message, details=[_packed(retry)])
    if isinstance(exc, ServiceError):
        return status_pb2.Status(code=exc.code, message=_capped(exc.message))
    if isinstance(exc, NotFound):
        return status_pb2.Status(
            code=code_pb2.NOT_FOUND, message=_capped(str(exc)), details=_resource_info(exc)
        )
    if isinstance(exc, DatabaseUnavailable):
        log.warning("database unavailable request_id=%s: %s", request_id, exc)
        return status_pb2.Status(code=code_pb2.UNAVAILABLE, message=UNAVAILABLE_MESSAGE)
    if isinstance(exc, QueryInterrupted):
        log.info("query stopped while %s request_id=%s: %s", action, request_id, exc)
        return status_pb2.Status(code=code_pb2.DEADLINE_EXCEEDED, message=DEADLINE_MESSAGE)
    log.error("unexpected error while %s request_id=%s", action, request_id, exc_info=exc)
    info = error_details_pb2.ErrorInfo(
        reason="INTERNAL_ERROR", domain=ERROR_DOMAIN, metadata={"request_id": request_id}
    )
    message = f"Unexpected error while {action} (request id {request_id})"
    return status_pb2.Status(code=code_pb2.INTERNAL, message=message, details=[_packed(info)])


def _resource_info(exc: NotFound) -> list[any_pb2.Any]:
    """The ResourceInfo of what was not found, when the store named it."""
    if not exc.resource_type:
        return []
    info = error_details_pb2.ResourceInfo(
        resource_type=exc.resource_type,
        resource_name=_capped(exc.resource_name),
        owner=exc.owner,
        description=_capped(str(exc)),
    )
    return [_packed(info)]


def abort(context: grpc.ServicerContext, status: status_pb2.Status) -> None:
    """Abort the RPC with a rich status; raises."""
    context.abort_with_status(rpc_status.to_status(status))
