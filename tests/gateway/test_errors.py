from __future__ import annotations

import grpc
import pytest

from gateway.errors import HTTP_STATUS_FOR_CODE, error_message, http_status

C = grpc.StatusCode


def test_every_grpc_code_has_an_http_status() -> None:
    assert set(HTTP_STATUS_FOR_CODE) == set(C)


@pytest.mark.parametrize(
    ("rpc", "code", "status"),
    [
        ("ExportMeetings", C.UNAUTHENTICATED, 401),
        ("ExportMeetings", C.PERMISSION_DENIED, 401),
        ("ListUpcomingMeetings", C.PERMISSION_DENIED, 401),
        ("ExportMeetings", C.INVALID_ARGUMENT, 400),
        ("ExportMeetings", C.INTERNAL, 400),
        ("StreamExportMeetings", C.INTERNAL, 400),
        ("ListUpcomingMeetings", C.INVALID_ARGUMENT, 422),
        ("ListUpcomingMeetings", C.INTERNAL, 500),
        ("ExportMeetings", C.UNAVAILABLE, 503),
        ("ListUpcomingMeetings", C.UNAVAILABLE, 503),
        ("Authenticate", C.UNAUTHENTICATED, 401),
    ],
)
def test_legacy_statuses(rpc: str, code: grpc.StatusCode, status: int) -> None:
    assert http_status(rpc, code) == status


def test_transport_details_never_reach_the_caller() -> None:
    detail = "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1"
    assert "127.0.0.1" not in error_message(C.UNAVAILABLE, detail, "rid")
    assert "rid" in error_message(C.UNKNOWN, "Exception calling application: boom", "rid")
    assert "boom" not in error_message(C.UNKNOWN, "Exception calling application: boom", "rid")


def test_caller_messages_pass_through() -> None:
    assert error_message(C.UNAUTHENTICATED, "Unauthorized Access", "rid") == "Unauthorized Access"
