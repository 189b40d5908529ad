"""The typed export request checked and turned into what the store selects: the columns, the
filter (presets and ranges evaluated at one `now` in the organization's time zone), the row
encoding and the page. Every problem is reported at once, as BadRequest field violations."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import TypeAlias
from zoneinfo import ZoneInfo

from google.protobuf.descriptor import EnumDescriptor

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from server.civil_time import CivilTime, read_civil_time
from server.enum_options import STORE_COLUMNS, legacy_name
from server.errors import FieldViolation, InvalidArgument
from server.local_time import first_instant_at, last_instant_at
from server.presets import CALENDAR_PRESETS
from store.export import Column, ExportFilter
from store.models import Organization
from store.organizations import organization_scope

ExportRequest: TypeAlias = pb.ExportMeetingsRequest | pb.StreamExportMeetingsRequest

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 100


def _accepted(enum: EnumDescriptor) -> str:
    return ", ".join(value.name for value in enum.values)


@dataclass(frozen=True)
class Page:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


@dataclass(frozen=True)
class ExportPlan:
    """What one export reads and how it encodes its rows."""

    # The requested columns, in order, each once; empty means no rows at all.
    columns: tuple[Column, ...]
    filter: ExportFilter
    json_rows: bool
    # The page asked for, clamped; None for every row (a stream, or a unary request that
    # names neither a page nor a page size).
    page: Page | None = None


def requested_columns(request: ExportRequest) -> tuple[Column, ...]:
    """Known columns in the requested order, each once; unspecified and unknown values are
    ignored, as the legacy export ignores unknown keys."""
    columns = (STORE_COLUMNS.get(value) for value in request.columns)
    return tuple(dict.fromkeys(column for column in columns if column is not None))


def _page(request: ExportRequest) -> Page | None:
    """The page asked for, clamped; None when the request is not paginated."""
    if not isinstance(request, pb.ExportMeetingsRequest):
        return None  # a stream reads every row
    if not (request.HasField("page") or request.HasField("page_size")):
        return None
    number = max(1, request.page) if request.HasField("page") else 1
    size = request.page_size if request.HasField("page_size") else DEFAULT_PER_PAGE
    return Page(number, min(MAX_PER_PAGE, max(1, size)))


def organization_zone(organization: Organization) -> tzinfo:
    """The organization's IANA zone (validated when it was stored); UTC when none is set."""
    return ZoneInfo(organization.time_zone or "UTC")


def _explicit_range(
    request: ExportRequest, zone: tzinfo, violations: list[FieldViolation]
) -> tuple[CivilTime | None, CivilTime | None]:
    ends: list[CivilTime | None] = []
    for field in ("start_time", "end_time"):
        civil = None
        if request.HasField(field):
            try:
                civil = read_civil_time(getattr(request, field), field, zone)
            except InvalidArgument as exc:
                violations.extend(exc.violations)
        ends.append(civil)
    return ends[0], ends[1]


def plan_export(request: ExportRequest, organization: Organization, now: datetime) -> ExportPlan:
    """Check the request and fix its filter at `now`; InvalidArgument lists every problem."""
    violations: list[FieldViolation] = []
    zone = organization_zone(organization)
    preset = _preset(request, violations)
    _check_enums(request, violations)
    start, end = _explicit_range(request, zone, violations)
    if preset == "custom":
        for field in ("start_time", "end_time"):
            if not request.HasField(field):
                violations.append(
                    FieldViolation(field, f"{field} is required when reporting_days is custom")
                )
    if violations:
        raise InvalidArgument(violations)
    return ExportPlan(
        columns=requested_columns(request),
        filter=_filter(request, organization, preset, now, zone, (start, end)),
        json_rows=request.row_encoding == pb.ROW_ENCODING_JSON,
        page=_page(request),
    )


def _unknown(field: str, number: int, enum: EnumDescriptor) -> FieldViolation:
    return FieldViolation(
        field, f"{field} {number} is unknown; accepted values are {_accepted(enum)}"
    )


def _preset(request: ExportRequest, violations: list[FieldViolation]) -> str | None:
    """The legacy name of the requested reporting_days ("all" when unspecified); None, with a
    violation, for an unknown value."""
    if request.reporting_days == pb.REPORTING_DAYS_UNSPECIFIED:
        return "all"
    enum = pb.ReportingDays.DESCRIPTOR
    preset = legacy_name(enum, request.reporting_days)
    if preset is None:
        violations.append(_unknown("reporting_days", request.reporting_days, enum))
    return preset


def _check_enums(request: ExportRequest, violations: list[FieldViolation]) -> None:
    """The report type and the row encoding must be values the contract names."""
    for field, enum in (
        ("report_type", pb.ReportType.DESCRIPTOR),
        ("row_encoding", pb.RowEncoding.DESCRIPTOR),
    ):
        number = getattr(request, field)
        if number not in enum.values_by_number:
            violations.append(_unknown(field, number, enum))


def _filter(
    request: ExportRequest,
    organization: Organization,
    preset: str | None,
    now: datetime,
    zone: tzinfo,
    explicit: tuple[CivilTime | None, CivilTime | None],
) -> ExportFilter:
    """The rows the checked request selects: its organizations, report type, preset and range."""
    selected = ExportFilter(
        organization_ids=tuple(organization_scope(organization)),
        eap_only=request.report_type == pb.REPORT_TYPE_EAP_MEETINGS,
    )
    if preset in ("all", "all_past"):
        selected = replace(selected, ended_or_complete_at=now)
    elif preset == "all_upcoming":
        selected = replace(selected, upcoming_at=now)
    elif preset is not None and preset in CALENDAR_PRESETS:
        starts_from, starts_before = CALENDAR_PRESETS[preset](now, zone)
        selected = replace(selected, starts_from=starts_from, starts_before=starts_before)
    # The explicit range (custom's own, or on top of any other preset) needs both ends;
    # one alone is ignored. Both ends are inclusive.
    start, end = explicit
    if start is not None and end is not None:
        lower = first_instant_at(start.wall, start.zone)
        if selected.starts_from is not None:
            lower = max(lower, selected.starts_from)
        selected = replace(
            selected, starts_from=lower, starts_until=last_instant_at(end.wall, end.zone)
        )
    return selected
