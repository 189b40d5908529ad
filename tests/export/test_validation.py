"""Every invalid export input: a 400 {"error": ...} on REST that says what to fix, and on gRPC
INVALID_ARGUMENT with BadRequest field violations; unexpected failures without internals."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc
import orjson
import pytest
from google.type import datetime_pb2

from heypeers.meetings.v1 import meetings_service_pb2 as pb
from heypeers.meetings.v1 import meetings_service_pb2_grpc as pb_grpc
from server import export as server_export
from store.errors import DatabaseUnavailable
from tests.export.conftest import (
    EXPORT_URL,
    ORG_ID,
    document,
    grpc_token,
    meeting,
    rest_headers,
    violations_of,
)

FORMAT_HINT = "MM/DD/YYYY HH:MM AM/PM"
PRESETS = "all, all_past, all_upcoming, today, current_month, last_week, last_month, custom"


@pytest.fixture
def loaded(load: Callable[[dict[str, Any]], None]) -> None:
    load(document([meeting(1, "2026-05-01T12:00:00+00:00")]))


async def error_of(gateway: Any, method: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    headers = await rest_headers(gateway)
    response = await gateway.request(method, EXPORT_URL, headers=headers, **kwargs)
    return response.status, orjson.loads(await response.read())


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("with_columns", [True, False])
@pytest.mark.parametrize(
    ("params", "must_say"),
    [
        (
            {"reporting_days": "yesterday"},
            [f"Invalid reporting_days: accepted values are {PRESETS}"],
        ),
        ({"reporting_days": "ALL"}, ["reporting_days", "all_upcoming"]),
        ({"report_type": "vip"}, ["report_type", "all_meetings, eap_meetings"]),
        ({"start_time": "2025-11-01 08:00"}, ["Invalid start_time", FORMAT_HINT]),
        (
            {"end_time": "11/31/2025 08:00 AM"},
            ["Invalid end_time: the date 11/31/2025 does not exist (November 2025 has 30 days)"],
        ),
        ({"start_time": "13/01/2025 08:00 AM"}, ["Invalid start_time", FORMAT_HINT]),
        ({"start_time": "11/01/2025 13:00 PM"}, ["Invalid start_time", FORMAT_HINT]),
        ({"page": "two"}, ["Parameter page must be an integer"]),
        ({"page": "1.5"}, ["Parameter page must be an integer"]),
        ({"per_page": "ten"}, ["Parameter per_page must be an integer"]),
        (
            {"reporting_days": "custom", "start_time": "11/01/2025 08:00 AM"},
            ["end_time is required when reporting_days is custom"],
        ),
        (
            {"reporting_days": "custom", "end_time": "11/01/2025 08:00 AM"},
            ["start_time is required when reporting_days is custom"],
        ),
        (
            {"reporting_days": "custom"},
            [
                "start_time is required when reporting_days is custom",
                "end_time is required when reporting_days is custom",
            ],
        ),
    ],
)
async def test_invalid_query_parameters_are_400_with_a_helpful_message(
    gateway: Any, params: dict[str, str], must_say: list[str], with_columns: bool
) -> None:
    query = [*params.items(), *([("column[]", "name")] if with_columns else [])]
    status, body = await error_of(gateway, "GET", params=query)
    assert status == 400
    assert list(body) == ["error"]
    for words in must_say:
        assert words in body["error"]


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    ("body", "must_say"),
    [
        ({"column": ["name"], "page": True}, "Parameter page must be an integer"),
        ({"column": ["name"], "per_page": 2.5}, "Parameter per_page must be an integer"),
        ({"column": ["name"], "reporting_days": 3}, "Invalid reporting_days"),
        ({"column": ["name"], "start_time": 20251101}, FORMAT_HINT),
    ],
)
async def test_invalid_json_values_are_400(gateway: Any, body: Any, must_say: str) -> None:
    status, error = await error_of(gateway, "POST", json=body)
    assert status == 400
    assert must_say in error["error"]


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("02/30/2025 08:00 AM", "February 2025 has 28 days"),
        ("2/29/2023 8:00 pm", "February 2023 has 28 days"),
        ("04/31/2026  11:59 PM", "April 2026 has 30 days"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_date_that_does_not_exist_is_named_and_the_format_is_not_blamed(
    gateway: Any, text: str, days: str, method: str
) -> None:
    fields = {"reporting_days": "custom", "start_time": text, "end_time": "12/31/2026 08:00 AM"}
    sent = {"params": fields} if method == "GET" else {"json": {**fields, "column": ["name"]}}
    status, body = await error_of(gateway, method, **sent)
    month, day, year = text.split()[0].split("/")
    assert status == 400
    assert body == {
        "error": f"Invalid start_time: the date {int(month):02d}/{int(day):02d}/{year} "
        f"does not exist ({days})"
    }
    assert FORMAT_HINT not in body["error"]


@pytest.mark.parametrize("rpc", ["ExportMeetings", "StreamExportMeetings"])
def test_grpc_names_a_date_that_does_not_exist_as_rest_does(
    stub: pb_grpc.MeetingsServiceStub, loaded: None, rpc: str
) -> None:
    request = getattr(pb, f"{rpc}Request")(
        organization_id=ORG_ID,
        columns=[pb.EXPORT_COLUMN_NAME],
        reporting_days=CUSTOM,
        start_time=civil(year=2025, month=2, day=30),
        end_time=civil(year=2025, month=3, day=1),
    )
    with pytest.raises(grpc.RpcError) as raised:
        result = getattr(stub, rpc)(request, metadata=grpc_token(stub))
        if rpc == "StreamExportMeetings":
            list(result)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    message = "start_time: the date 2025-02-30 does not exist (February 2025 has 28 days)"
    assert raised.value.details() == message
    assert violations_of(raised.value) == {"start_time.day": message}


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"name"'])
async def test_a_body_that_is_not_a_json_object_is_400(gateway: Any, raw: bytes) -> None:
    status, error = await _post_raw(gateway, raw)
    assert status == 400
    assert "JSON object" in error["error"]


async def _post_raw(gateway: Any, raw: bytes) -> tuple[int, dict[str, Any]]:
    headers = {**await rest_headers(gateway), "Content-Type": "application/json"}
    response = await gateway.post(EXPORT_URL, data=raw, headers=headers)
    return response.status, orjson.loads(await response.read())


async def test_authorization_comes_before_validation(gateway: Any, loaded: None) -> None:
    response = await gateway.get(
        EXPORT_URL, params={"reporting_days": "custom"}, headers={"Authorization": "Bearer x"}
    )
    assert response.status == 401
    assert await response.json() == {"error": "Unauthorized Access"}


# --- gRPC: INVALID_ARGUMENT with BadRequest field violations ---


def civil(**fields: Any) -> datetime_pb2.DateTime:
    values = {"year": 2026, "month": 3, "day": 1, "hours": 8, **fields}
    zone = values.pop("zone", None)
    offset = values.pop("offset", None)
    value = datetime_pb2.DateTime(**values)
    if zone is not None:
        value.time_zone.id = zone
    if offset is not None:
        value.utc_offset.seconds = offset
    return value


CUSTOM = pb.REPORTING_DAYS_CUSTOM


@pytest.mark.parametrize("rpc", ["ExportMeetings", "StreamExportMeetings"])
@pytest.mark.parametrize(
    ("fields", "violations"),
    [
        (
            {"reporting_days": CUSTOM},
            {
                "start_time": "start_time is required when reporting_days is custom",
                "end_time": "end_time is required when reporting_days is custom",
            },
        ),
        (
            {"reporting_days": CUSTOM, "start_time": civil()},
            {"end_time": "end_time is required when reporting_days is custom"},
        ),
        (
            {"start_time": civil(month=13), "end_time": civil(day=32, hours=24)},
            {
                "start_time.month": "start_time.month must be 1 to 12, not 13",
                "end_time.hours": "end_time.hours must be 0 to 23, not 24",
                "end_time.day": "end_time.day must be 1 to 31 for 2026-03, not 32",
            },
        ),
        (
            {"start_time": civil(month=2, day=29), "end_time": civil(year=0)},
            {
                "start_time.day": (
                    "start_time: the date 2026-02-29 does not exist (February 2026 has 28 days)"
                ),
                "end_time.year": "end_time.year must be 1 to 9999, not 0",
            },
        ),
        (
            {"start_time": civil(minutes=60, seconds=-1, nanos=10**9)},
            {
                "start_time.minutes": "start_time.minutes must be 0 to 59, not 60",
                "start_time.seconds": "start_time.seconds must be 0 to 59, not -1",
                "start_time.nanos": "start_time.nanos must be 0 to 999999999, not 1000000000",
            },
        ),
        (
            {"start_time": civil(zone="Mars/Olympus_Mons"), "end_time": civil(offset=19 * 3600)},
            {
                "start_time.time_zone.id": (
                    "start_time.time_zone.id must be an IANA time zone name such as "
                    "America/New_York, not 'Mars/Olympus_Mons'"
                ),
                "end_time.utc_offset": "end_time.utc_offset must be whole seconds within ±18 hours",
            },
        ),
        ({"reporting_days": 42}, {"reporting_days": "reporting_days 42 is unknown"}),
        ({"report_type": 9}, {"report_type": "report_type 9 is unknown"}),
        ({"row_encoding": 7}, {"row_encoding": "row_encoding 7 is unknown"}),
    ],
)
def test_grpc_invalid_argument_with_field_violations(
    stub: pb_grpc.MeetingsServiceStub,
    loaded: None,
    rpc: str,
    fields: dict[str, Any],
    violations: dict[str, str],
) -> None:
    request_type = getattr(pb, f"{rpc}Request")
    request = request_type(organization_id=ORG_ID, columns=[pb.EXPORT_COLUMN_NAME], **fields)
    with pytest.raises(grpc.RpcError) as raised:
        result = getattr(stub, rpc)(request, metadata=grpc_token(stub))
        if rpc == "StreamExportMeetings":
            list(result)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    found = violations_of(raised.value)
    assert set(found) == set(violations)
    for field, description in violations.items():
        assert found[field].startswith(description)


def test_the_stream_validates_even_without_columns(
    stub: pb_grpc.MeetingsServiceStub, loaded: None
) -> None:
    request = pb.StreamExportMeetingsRequest(organization_id=ORG_ID, reporting_days=CUSTOM)
    with pytest.raises(grpc.RpcError) as raised:
        list(stub.StreamExportMeetings(request, metadata=grpc_token(stub)))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations_of(raised.value)) == {"start_time", "end_time"}


# --- unexpected failures: 400 as the page says, a request id, and no internals ---


def _explode(*args: Any, **kwargs: Any) -> Iterator[Any]:
    raise RuntimeError('relation "meeting" exploded: SELECT secret FROM meeting')


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    ("target", "query"),
    [
        ("export_page", [("column[]", "name"), ("page", "1")]),
        ("open_export", [("column[]", "name")]),
    ],
)
async def test_an_unexpected_error_is_400_with_a_request_id_and_no_internals(
    gateway: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    target: str,
    query: list[tuple[str, str]],
) -> None:
    monkeypatch.setattr(server_export, target, _explode)
    headers = await rest_headers(gateway)
    response = await gateway.get(EXPORT_URL, params=query, headers=headers)
    assert response.status == 400
    request_id = response.headers["X-Request-Id"]
    error = (await response.json())["error"]
    assert request_id in error
    assert "SELECT" not in error and "exploded" not in error
    assert any(request_id in record.getMessage() for record in caplog.records)


@pytest.mark.usefixtures("loaded")
@pytest.mark.parametrize(
    ("target", "query"),
    [
        ("export_page", [("column[]", "name"), ("page", "1")]),
        ("open_export", [("column[]", "name")]),
    ],
)
async def test_an_unavailable_database_is_503(
    gateway: Any, monkeypatch: pytest.MonkeyPatch, target: str, query: list[tuple[str, str]]
) -> None:
    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseUnavailable("connection refused")

    monkeypatch.setattr(server_export, target, unavailable)
    headers = await rest_headers(gateway)
    response = await gateway.get(EXPORT_URL, params=query, headers=headers)
    assert response.status == 503
    assert "error" in await response.json()
