"""The gRPC requests of `make contract-check`: Authenticate, ListUpcomingMeetings,
ExportMeetings (every preset, both report types, typed and JSON rows, the pages' edges,
errors), StreamExportMeetings, the health service and reflection."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from google.protobuf.message import Message
from google.type import datetime_pb2
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from bench.contract_calls import Grpc
from bench.contract_rest import DEMO_MEMBER, NO_MEMBER, Facts
from heypeers.meetings.v1 import meetings_service_pb2 as pb

_LOGGER = logging.getLogger(__name__)

SERVICE = "/heypeers.meetings.v1.MeetingsService/"
ALL_COLUMNS = [value.number for value in pb.ExportColumn.DESCRIPTOR.values if value.number]
PRESETS = [value.number for value in pb.ReportingDays.DESCRIPTOR.values if value.number]


def civil(moment: datetime) -> datetime_pb2.DateTime:
    """A civil date-time with no zone: read in the organization's time zone."""
    return datetime_pb2.DateTime(
        year=moment.year,
        month=moment.month,
        day=moment.day,
        hours=moment.hour,
        minutes=moment.minute,
    )


def _whole_seconds(message: Message) -> None:
    """A token's expiry moves with the instant of issue, to the microsecond: the token itself
    (its claims in whole seconds) is compared, and the expiry to the second."""
    if isinstance(message, pb.AuthenticateResponse):
        message.expire_time.nanos = 0


def authentication(facts: Facts) -> list[Grpc]:
    def call(key: str) -> Grpc:
        request = pb.AuthenticateRequest(access_key=key)
        return Grpc(
            SERVICE + "Authenticate", request, pb.AuthenticateResponse, normalise=_whole_seconds
        )

    return [call(facts.access_key), call("X" * 24), call("")]


def feed(facts: Facts) -> list[Grpc]:
    def call(token: str | None = facts.token, **fields: Any) -> Grpc:
        request = pb.ListUpcomingMeetingsRequest(organization_id=facts.organization_id, **fields)
        return Grpc(
            SERVICE + "ListUpcomingMeetings", request, pb.ListUpcomingMeetingsResponse, token
        )

    calls = [
        call(),
        call(page_size=5),
        call(page=2, page_size=20),
        call(page_size=100),
        call(page=100000),
        call(page=0, page_size=0),
        call(page=-2, page_size=1000),
        call(meeting_series_id=999999),
        call(meeting_series_id=-1),
        call(token=None),
    ]
    if facts.series_id is not None:
        calls.append(call(meeting_series_id=facts.series_id, page_size=3))
    other = pb.ListUpcomingMeetingsRequest(organization_id=facts.other_organization_id)
    calls.append(
        Grpc(SERVICE + "ListUpcomingMeetings", other, pb.ListUpcomingMeetingsResponse, facts.token)
    )
    return calls


def member_feed(facts: Facts) -> list[Grpc]:
    def call(idp_id: str = DEMO_MEMBER, **fields: Any) -> Grpc:
        request = pb.ListMemberUpcomingMeetingsRequest(
            organization_id=facts.organization_id, idp_id=idp_id, **fields
        )
        method = SERVICE + "ListMemberUpcomingMeetings"
        return Grpc(method, request, pb.ListMemberUpcomingMeetingsResponse, facts.token)

    return [call(), call(page=2, page_size=3), call(page=100000), call(NO_MEMBER), call("")]


def _export(facts: Facts, token: str | None = None, **fields: Any) -> Grpc:
    fields.setdefault("organization_id", facts.organization_id)
    fields.setdefault("columns", ALL_COLUMNS)
    if fields.get("reporting_days") == pb.REPORTING_DAYS_CUSTOM:
        fields.setdefault("start_time", civil(facts.start))
        fields.setdefault("end_time", civil(facts.end))
    request = pb.ExportMeetingsRequest(**fields)
    return Grpc(
        SERVICE + "ExportMeetings", request, pb.ExportMeetingsResponse, token or facts.token
    )


def export_pages(facts: Facts) -> list[Grpc]:
    """A page of every preset and report type (typed rows, then JSON rows), and the edges."""
    calls = []
    for encoding in (pb.ROW_ENCODING_TYPED, pb.ROW_ENCODING_JSON):
        for preset in PRESETS:
            for report in (pb.REPORT_TYPE_ALL_MEETINGS, pb.REPORT_TYPE_EAP_MEETINGS):
                calls.append(
                    _export(
                        facts,
                        reporting_days=preset,
                        report_type=report,
                        row_encoding=encoding,
                        page=1,
                        page_size=25,
                    )
                )
    mixed = [pb.EXPORT_COLUMN_PRICE, pb.EXPORT_COLUMN_NAME, pb.EXPORT_COLUMN_NAME, 99]
    calls += [
        _export(facts, page=100000, page_size=100),
        _export(facts, page=7, page_size=1),
        _export(facts, page=2, page_size=100, row_encoding=pb.ROW_ENCODING_JSON),
        _export(facts, page=0, page_size=0),
        _export(facts, page=1, page_size=5, columns=mixed, row_encoding=pb.ROW_ENCODING_JSON),
        _export(facts, page=1, page_size=5, columns=mixed),
        _export(facts, page=1, columns=[]),
        _export(facts, page=1, page_size=3, columns=[]),
    ]
    return calls


def export_errors(facts: Facts) -> list[Grpc]:
    custom = pb.REPORTING_DAYS_CUSTOM
    impossible = datetime_pb2.DateTime(year=2026, month=2, day=30, hours=10)
    zoned = civil(facts.start)
    zoned.time_zone.id = "Mars/Olympus_Mons"
    unauthenticated = _export(facts, page=1)
    return [
        _export(facts, reporting_days=custom, end_time=datetime_pb2.DateTime(), page=1),
        _export(facts, reporting_days=custom, end_time=impossible, page=1),
        _export(facts, reporting_days=custom, start_time=zoned, page=1),
        _export(facts, reporting_days=77, page=1),
        _export(facts, report_type=9, page=1),
        Grpc(unauthenticated.method, unauthenticated.request, unauthenticated.response_type),
        _export(facts, token="not.a.token", page=1),
        _export(facts, organization_id=facts.other_organization_id, page=1),
        _export(facts, organization_id=999999, page=1),
    ]


def export_streams(facts: Facts) -> list[Grpc]:
    """StreamExportMeetings of all, all_upcoming and custom, typed and JSON rows."""
    calls = []
    for preset in (pb.REPORTING_DAYS_ALL, pb.REPORTING_DAYS_ALL_UPCOMING, pb.REPORTING_DAYS_CUSTOM):
        for encoding in (pb.ROW_ENCODING_TYPED, pb.ROW_ENCODING_JSON):
            request = pb.StreamExportMeetingsRequest(
                organization_id=facts.organization_id,
                columns=ALL_COLUMNS,
                reporting_days=preset,
                row_encoding=encoding,
            )
            if preset == pb.REPORTING_DAYS_CUSTOM:
                request.start_time.CopyFrom(civil(facts.start))
                request.end_time.CopyFrom(civil(facts.end))
            calls.append(
                Grpc(
                    SERVICE + "StreamExportMeetings",
                    request,
                    pb.StreamExportMeetingsResponse,
                    facts.token,
                    shape="server_stream",
                )
            )
    return calls


def service_endpoints() -> list[Grpc]:
    """The standard health service and server reflection."""
    check = "/grpc.health.v1.Health/Check"
    reflect = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
    return [
        Grpc(check, health_pb2.HealthCheckRequest(), health_pb2.HealthCheckResponse),
        Grpc(
            check,
            health_pb2.HealthCheckRequest(service="heypeers.meetings.v1.MeetingsService"),
            health_pb2.HealthCheckResponse,
        ),
        Grpc(
            reflect,
            reflection_pb2.ServerReflectionRequest(list_services=""),
            reflection_pb2.ServerReflectionResponse,
            shape="bidi",
        ),
        Grpc(
            reflect,
            reflection_pb2.ServerReflectionRequest(
                file_containing_symbol="heypeers.meetings.v1.MeetingsService"
            ),
            reflection_pb2.ServerReflectionResponse,
            shape="bidi",
        ),
    ]


def grpc_calls(facts: Facts) -> list[Grpc]:
    return [
        *authentication(facts),
        *feed(facts),
        *member_feed(facts),
        *export_pages(facts),
        *export_errors(facts),
        *export_streams(facts),
        *service_endpoints(),
    ]
