"""The export's plan is made once per request: the page it reads travels in the plan."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from server.errors import InvalidArgument
from server.export_request import Page, plan_export
from store.models import Organization

NOW = datetime(2025, 11, 1, 12, 0, tzinfo=UTC)
ORG = Organization(id=7, name="Acme", time_zone="America/New_York")


def _plan_page(request: pb.ExportMeetingsRequest | pb.StreamExportMeetingsRequest) -> Page | None:
    return plan_export(request, ORG, NOW).page


def test_a_request_that_names_a_page_or_a_size_is_planned_with_that_page_clamped() -> None:
    assert _plan_page(pb.ExportMeetingsRequest(page=3)) == Page(3, 100)
    assert _plan_page(pb.ExportMeetingsRequest(page_size=10)) == Page(1, 10)
    assert _plan_page(pb.ExportMeetingsRequest(page=0, page_size=500)) == Page(1, 100)
    assert _plan_page(pb.ExportMeetingsRequest(page=2, page_size=-4)) == Page(2, 1)
    assert Page(3, 20).offset == 40


def test_a_request_without_a_page_and_every_stream_read_every_row() -> None:
    assert _plan_page(pb.ExportMeetingsRequest()) is None
    assert _plan_page(pb.StreamExportMeetingsRequest()) is None


def test_every_problem_is_listed_at_once_in_the_order_of_the_fields() -> None:
    # Open enums: numbers the contract does not name still arrive, and are refused.
    request = pb.ExportMeetingsRequest(reporting_days=99, report_type=42, row_encoding=7, page=1)
    with pytest.raises(InvalidArgument) as refused:
        plan_export(request, ORG, NOW)
    fields = [violation.field for violation in refused.value.violations]
    assert fields == ["reporting_days", "report_type", "row_encoding"]
    assert refused.value.violations[0].description.startswith(
        "reporting_days 99 is unknown; accepted values are REPORTING_DAYS_UNSPECIFIED, "
    )
