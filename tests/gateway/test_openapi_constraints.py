"""Each constraint the OpenAPI document puts on a request, held to the gateway's real code:
what the document admits, the gateway takes, and what it refuses, the gateway refuses.

The binders (gateway.legacy, gateway.params, gateway.limits) and the server's own checks are
called as they run; the status-level answers (413, 414, 429, the custom range, ids below 1)
go through a real gateway and gRPC server.
"""

from __future__ import annotations

import calendar
import re
from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from gateway.errors import BindError
from gateway.handler import path_id
from gateway.legacy import export, upcoming
from gateway.legacy.export_formats import FORMATS, format_parameter
from gateway.limits import GRPC_TIMEOUT_HEADER, TIMEOUT_HEADER, requested_timeout
from gateway.openapi import build_openapi
from gateway.openapi.patterns import (
    GRPC_TIMEOUT_PATTERN,
    INTEGER_STRING_PATTERN,
    LEGACY_DATETIME_PATTERN,
    POSITIVE_INTEGER_STRING_PATTERN,
    SPACE,
    TIMEOUT_SECONDS_PATTERN,
    char_class,
)
from gateway.params import INT64_MAX, MAX_VALUES_PER_PARAMETER, Params
from heypeers.meetings.v1 import meetings_service_pb2 as pb
from server.errors import InvalidArgument
from server.upcoming import series_filter_of
from store.models import Organization
from tests.partner.conftest import OpenApiDocument

FAST = settings(
    max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
EXPORT = "/api/v2/organizations/{organization_id}/export_meetings"
UPCOMING = "/api/v2/organizations/{organization_id}/upcoming_meetings"
AUTHENTICATE = "/api/v2/authenticate"
DOCUMENT = build_openapi()
OPENAPI = OpenApiDocument(DOCUMENT)


def admits(pattern: str, text: str) -> bool:
    """JSON Schema's reading of `pattern`: a search, anchored by the pattern itself."""
    return re.search(pattern, text) is not None


def _query_schema(template: str, name: str) -> dict[str, Any]:
    parameters = DOCUMENT["paths"][template]["get"]["parameters"]
    return next(p["schema"] for p in parameters if p.get("name") == name)


def _body_property(name: str) -> dict[str, Any]:
    return dict(DOCUMENT["components"]["schemas"]["ExportMeetingsBody"]["properties"][name])


def _schema_admits(schema: dict[str, Any], value: Any) -> bool:
    return bool(Draft202012Validator(schema).is_valid(value))


def _export_binds(name: str, value: Any) -> bool:
    """Whether the export's binder takes `value` for parameter `name` (a query or form value,
    or a JSON body value: both go through Params the same way)."""
    params = Params()
    try:
        params.replace(name, value)
        export.bind(pb.ExportMeetingsRequest(), params)
    except BindError:
        return False
    return True


# --- spaces --------------------------------------------------------------------------------


def test_the_space_classes_are_what_strip_and_split_take() -> None:
    every = "".join(map(chr, range(0x110000)))
    spaces = [c for c in every if re.fullmatch(SPACE, c)]
    assert spaces == [c for c in every if c.isspace()]
    assert "\u00a0" in spaces and "\u3000" in spaces and "\x1c" in spaces and "\u200b" not in spaces
    assert char_class("abcx") == "[\\x61-\\x63\\x78]"


# --- dates: MM/DD/YYYY HH:MM AM/PM, on the calendar only -----------------------------------

# Leap and common years, centuries that are (400, 1600, 2000) and are not (100, 1900) leap.
YEARS = [1, 4, 99, 100, 400, 1600, 1700, 1900, 1996, 1999, 2000, 2023, 2024, 2025, 2100, 2400]
YEARS += [9996, 9999]


def _on_the_calendar(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


@pytest.mark.parametrize("year", YEARS)
def test_the_date_pattern_admits_exactly_the_days_of_the_calendar(year: int) -> None:
    checked = 0
    for month in range(0, 14):
        for day in range(0, 33):
            valid = _on_the_calendar(year, month, day)
            for text in (
                f"{month:02d}/{day:02d}/{year:04d} 08:00 AM",
                f"{month}/{day}/{year:04d} 8:5 pm",
            ):
                admitted = admits(LEGACY_DATETIME_PATTERN, text)
                assert admitted == _export_binds("start_time", text) == valid, text
                checked += 1
    assert checked == 14 * 33 * 2


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("02/29/2024 10:00 AM", True),
        ("02/29/2023 10:00 AM", False),
        ("02/29/2000 10:00 AM", True),
        ("02/29/1900 10:00 AM", False),
        ("02/28/2023 10:00 AM", True),
        ("02/30/2024 10:00 AM", False),
        ("04/31/2025 10:00 AM", False),
        ("04/30/2025 10:00 AM", True),
        ("12/31/9999 11:59 PM", True),
        ("01/01/0000 12:00 AM", False),  # there is no year 0
        ("01/01/0001 12:00 AM", True),
        ("11/ 1/2025 08:00 AM", True),  # strptime's space-padded day
        ("11/ 10/2025 08:00 AM", False),
        ("\t11/01/2025 \n 08:00\x1cAM ", True),  # any ASCII spaces around and between
        ("11/01/2025\u00a008:00 AM", False),  # ... but no other
        ("11/01/2025 08:00AM", False),
        ("11/01/2025 00:30 AM", False),
        ("11/01/2025 13:00 PM", False),
        ("11/01/2025 08:60 AM", False),
        ("11/01/25 08:00 AM", False),
        ("11/01/\u0662\u0660\u0662\u0665 08:00 AM", False),  # Arabic-Indic digits
        ("", True),  # blank counts as absent
        (" \u3000\u00a0", True),
        ("2025-11-01 08:00", False),
    ],
)
def test_the_date_pattern_on_the_edges(text: str, valid: bool) -> None:
    assert admits(LEGACY_DATETIME_PATTERN, text) == valid
    assert _export_binds("start_time", text) == valid
    assert _export_binds("end_time", text) == valid


@FAST
@given(st.from_regex(LEGACY_DATETIME_PATTERN))
def test_every_date_the_pattern_generates_is_taken(text: str) -> None:
    assert _export_binds("start_time", text)


NEAR_DATES = st.from_regex(
    r"\A[ \t\x1c\u00a0]{0,2}[0-9 ]{0,3}/[0-9 \t]{0,3}/[0-9\u0663]{3,5}[ \t\n]{0,2}"
    r"[0-9]{0,3}:[0-9]{0,3}[ \t]{0,2}[AaPpx][Mm]?[ \u00a0]?\Z"
)


@FAST
@given(st.one_of(NEAR_DATES, st.text(max_size=24)))
@example("02/29/2100 01:01 AM")
@example("2/29/2096 1:1 am")
def test_the_date_pattern_and_the_gateway_agree(text: str) -> None:
    assert admits(LEGACY_DATETIME_PATTERN, text) == _export_binds("start_time", text)


# --- integers: any size, blank as absent; meeting_series_id from 1 -------------------------

INTEGER_LIKE = st.from_regex(r"\A[ \t\x1c\u00a0+\-0-9\u0663.eE]{0,12}\Z")


@FAST
@given(st.one_of(INTEGER_LIKE, st.text(max_size=8)))
@example("9" * 40)
@example(" -007 ")
@example("\u00a05")
def test_the_integer_pattern_is_what_the_binders_take(text: str) -> None:
    admitted = admits(INTEGER_STRING_PATTERN, text)
    for name in ("page", "per_page"):
        assert admitted == _export_binds(name, text)
    for name in ("page", "items"):
        params = Params()
        params.add(name, text)
        try:
            upcoming.bind(pb.ListUpcomingMeetingsRequest(), params)
        except BindError:
            assert not admitted
        else:
            assert admitted


def _series_taken(value: Any) -> bool:
    """The gateway's binder, then the server's own check (ids below 1 are refused there)."""
    params = Params()
    params.add("meeting_series_id", value)
    request = pb.ListUpcomingMeetingsRequest()
    try:
        upcoming.bind(request, params)
        series_filter_of(request)
    except (BindError, InvalidArgument):
        return False
    return True


@FAST
@given(st.one_of(INTEGER_LIKE, st.integers(min_value=-(2**70), max_value=2**70)))
@example("0")
@example("-0")
@example("+0001")
@example("1" * 30)
def test_meeting_series_id_is_documented_from_1(value: str | int) -> None:
    schema = _query_schema(UPCOMING, "meeting_series_id")
    assert schema["minimum"] == 1
    assert schema["pattern"] == POSITIVE_INTEGER_STRING_PATTERN
    assert _schema_admits(schema, value) == _series_taken(value)


@FAST
@given(st.integers(min_value=-(2**70), max_value=2**70))
@example(INT64_MAX)
@example(INT64_MAX + 1)
@example(0)
@example(1)
def test_organization_ids_are_documented_as_the_gateway_takes_them(number: int) -> None:
    for template in (EXPORT, UPCOMING):
        schema = _path_schema(template, "organization_id")
        assert (schema["minimum"], schema["maximum"]) == (1, INT64_MAX)
        # 0 passes the path (digits) and is refused by the server: not documented as taken.
        taken = path_id(str(number)) not in (None, 0)
        assert _schema_admits(schema, number) == taken


def _path_schema(template: str, name: str) -> dict[str, Any]:
    parameters = DOCUMENT["paths"][template]["get"]["parameters"]
    return next(p["schema"] for p in parameters if p.get("name") == name and p["in"] == "path")


def test_page_sizes_have_no_32_bit_bounds_in_the_document() -> None:
    for template, names in ((EXPORT, ("page", "per_page")), (UPCOMING, ("page", "items"))):
        for name in names:
            schema = _query_schema(template, name)
            assert "format" not in schema and "maximum" not in schema and "minimum" not in schema
            for value in (-(2**40), -1, 0, 2**31, 2**80, " +12 ", "0099", ""):
                assert _schema_admits(schema, value), (name, value)
            for value in ("1.0", "1e3", "one", "\u0663", True):
                assert not _schema_admits(schema, value), (name, value)


JSON_BODY_VALUES = [
    5,
    -5,
    0,
    2**80,
    1e20,
    5.0,
    2.5,
    True,
    None,
    "",
    " +7 ",
    "x",
    {"a": 1},
    [],
    [1, 2],
    ["x", "7"],
    [None],
    [[1]],
    ["x"],
]


@pytest.mark.parametrize("value", JSON_BODY_VALUES, ids=repr)
def test_json_body_integers_are_documented_as_the_binder_reads_them(value: Any) -> None:
    admitted = _schema_admits(_body_property("per_page"), value)
    taken = _export_binds("per_page", value)
    # A list counts by its last element, which a schema cannot single out: the document asks
    # every element to be valid (["x", "7"] is taken, not admitted), never the other way round.
    if admitted or not isinstance(value, list):
        assert admitted == taken, value
    else:
        assert not taken or any(not _schema_admits(_body_property("per_page"), [v]) for v in value)


# --- enum names: padded, any case for format, blank as absent; unknown columns ignored -----

ENUM_LIKE = st.from_regex(
    r"\A[ \u00a0\u3000\t]{0,2}(all|ALL|All|custom|all_past|today|csv|CSV|NdJson|json|x|)"
    r"[ \t\u2003\n]{0,2}\Z"
)


@FAST
@given(st.one_of(ENUM_LIKE, st.text(max_size=6)))
def test_enum_parameters_are_documented_as_the_gateway_reads_them(text: str) -> None:
    for name in ("reporting_days", "report_type"):
        assert _schema_admits(_query_schema(EXPORT, name), text) == _export_binds(name, text)
    schema = DOCUMENT["components"]["parameters"]["ExportFormat"]["schema"]
    try:
        format_parameter(text)
    except BindError:
        taken = False
    else:
        taken = True
    assert _schema_admits(schema, text) == taken
    assert schema["anyOf"][0]["enum"] == list(FORMATS)


def test_columns_take_any_key_up_to_the_cap() -> None:
    schema = _query_schema(EXPORT, "column[]")
    assert schema["maxItems"] == MAX_VALUES_PER_PARAMETER
    for values in (["name", "nope", ""], ["name"] * MAX_VALUES_PER_PARAMETER):
        assert _schema_admits(schema, values) and _export_binds("column", values)
    too_many = ["name"] * (MAX_VALUES_PER_PARAMETER + 1)
    assert not _schema_admits(schema, too_many) and not _export_binds("column", too_many)
    body = _body_property("column")
    for value in ("name", 5, None, {"a": 1}, ["name", 3, None]):
        assert _schema_admits(body, value) and _export_binds("column", value)
    assert not _schema_admits(body, too_many)


# --- deadline headers ----------------------------------------------------------------------


def _deadline_taken(headers: dict[str, str]) -> bool:
    try:
        requested_timeout(make_mocked_request("GET", "/", headers=headers))
    except BindError:
        return False
    return True


@FAST
@given(st.from_regex(r"\A[0 ]{0,2}[0-9]{0,8}(\.[0-9]{0,7})?\Z"))
@example("3600")
@example("3600.000000")
@example("3600.000001")
@example("3599.999999")
@example("0000000.000001")
@example("0")
@example("0.0")
@example("00000001")
def test_the_timeout_seconds_pattern_is_what_the_gateway_takes(text: str) -> None:
    admitted = admits(TIMEOUT_SECONDS_PATTERN, text)
    assert admitted == _deadline_taken({TIMEOUT_HEADER: text}), text


@FAST
@given(st.from_regex(r"\A0{0,2}[0-9]{0,9}[HMSmunx]?\Z"))
@example("1H")
@example("2H")
@example("60M")
@example("61M")
@example("3600S")
@example("3601S")
@example("3600000m")
@example("3600001m")
@example("99999999n")
@example("123456789u")
@example("0S")
def test_the_grpc_timeout_pattern_is_what_the_gateway_takes(text: str) -> None:
    admitted = admits(GRPC_TIMEOUT_PATTERN, text)
    assert admitted == _deadline_taken({GRPC_TIMEOUT_HEADER: text}), text


def test_x_request_timeout_wins_over_grpc_timeout_as_documented() -> None:
    assert _deadline_taken({TIMEOUT_HEADER: "5", GRPC_TIMEOUT_HEADER: "nonsense"})
    description = DOCUMENT["components"]["parameters"]["GrpcTimeout"]["description"]
    assert f"Ignored (whatever it holds) when {TIMEOUT_HEADER} is given" in description


def test_every_operation_documents_the_headers_it_reads() -> None:
    for operations in DOCUMENT["paths"].values():
        for operation in operations.values():
            refs = {p.get("$ref", "").rsplit("/", 1)[-1] for p in operation["parameters"]}
            assert {"RequestId", "RequestTimeout", "GrpcTimeout"} <= refs
    request_id = DOCUMENT["components"]["parameters"]["RequestId"]["schema"]
    assert request_id == {"type": "string"}  # any value is taken (a bad one is replaced)


# --- through a real gateway ------------------------------------------------------------------


async def _token(gateway: Any, key: str) -> str:
    response = await gateway.post(AUTHENTICATE, json={"access_key": key})
    assert response.status == 200
    return str((await response.json())["token"])


@pytest.mark.parametrize(
    "value", ["1", "+1", " 007 ", "0", "-3", "", " ", "1.0", "abc", "9" * 30, "-0"]
)
async def test_meeting_series_id_answers_as_documented(
    gateway: Any, acme: tuple[Organization, str], value: str
) -> None:
    org, key = acme
    token = await _token(gateway, key)
    response = await gateway.get(
        UPCOMING.format(organization_id=org.id),
        params={"meeting_series_id": value},
        headers={"Authorization": f"Bearer {token}"},
    )
    documented = _schema_admits(_query_schema(UPCOMING, "meeting_series_id"), value)
    assert response.status == (200 if documented else 422), await response.text()
    OPENAPI.check_response("GET", UPCOMING, response.status, await response.json())


DEC = "12/01/2025 8:00 PM"
CUSTOM_BODIES: list[tuple[dict[str, Any], bool]] = [
    ({"reporting_days": "custom"}, False),
    ({"reporting_days": " custom ", "start_time": "11/01/2025 08:00 AM"}, False),
    ({"reporting_days": "custom", "start_time": "11/01/2025 08:00 AM", "end_time": ""}, False),
    ({"reporting_days": "custom", "start_time": "1/1/2025 8:00 am", "end_time": None}, False),
    ({"reporting_days": ["all", "custom"]}, False),
    ({"reporting_days": "custom", "start_time": "11/01/2025 08:00 AM", "end_time": DEC}, True),
    ({"reporting_days": "all"}, True),
    ({"reporting_days": "", "start_time": ""}, True),
    ({"start_time": "02/29/2023 08:00 AM", "end_time": "03/01/2023 08:00 AM"}, False),
    ({"start_time": "02/29/2024 08:00 AM", "end_time": "03/01/2024 08:00 AM"}, True),
]  # fmt: skip


@pytest.mark.parametrize(("body", "valid"), CUSTOM_BODIES)
async def test_the_body_schema_holds_the_custom_range_rule(
    gateway: Any, acme: tuple[Organization, str], body: dict[str, Any], valid: bool
) -> None:
    org, key = acme
    token = await _token(gateway, key)
    body = {"column": ["name"], **body}
    admitted = OPENAPI.validator("components", "schemas", "ExportMeetingsBody").is_valid(body)
    response = await gateway.post(
        EXPORT.format(organization_id=org.id),
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert admitted == valid
    assert response.status == (200 if valid else 400), await response.text()
    OPENAPI.check_response("POST", EXPORT, response.status, await response.json())


COLUMN_BODIES: list[tuple[dict[str, Any], bool]] = [
    ({"format": "csv"}, False),
    ({"format": " NDJSON ", "column": ["nope"]}, False),
    ({"format": ["json", "csv"], "column": "nope"}, False),
    ({"format": "csv", "column": ["nope", "name"]}, True),
    ({"format": "ndjson", "column": "status"}, True),
    ({"format": "json"}, True),
    ({"format": "", "column": ["nope"]}, True),
    ({"column": []}, True),
]  # fmt: skip


@pytest.mark.parametrize(("body", "valid"), COLUMN_BODIES)
async def test_the_body_schema_holds_the_csv_column_rule(
    gateway: Any, acme: tuple[Organization, str], body: dict[str, Any], valid: bool
) -> None:
    org, key = acme
    token = await _token(gateway, key)
    admitted = OPENAPI.validator("components", "schemas", "ExportMeetingsBody").is_valid(body)
    response = await gateway.post(
        EXPORT.format(organization_id=org.id),
        json=body,
        headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"},
    )
    assert admitted == valid
    assert response.status == (200 if valid else 400), await response.text()


def _documents(method: str, template: str, status: int) -> dict[str, Any]:
    responses = DOCUMENT["paths"][template][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {template} does not document {status}"
    return dict(responses[str(status)])


async def test_a_body_past_the_limit_is_a_documented_413(
    gateway: Any, acme: tuple[Organization, str]
) -> None:
    org, _ = acme
    response = await gateway.post(
        EXPORT.format(organization_id=org.id),
        data=b'{"column": "' + b"x" * (64 * 1024) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 413
    _documents("POST", EXPORT, 413)
    OPENAPI.check_response("POST", EXPORT, 413, await response.json())


@pytest.mark.parametrize(("method", "template"), [("GET", UPCOMING), ("GET", EXPORT)])
async def test_a_url_past_the_limit_is_a_documented_414(
    gateway: Any, acme: tuple[Organization, str], method: str, template: str
) -> None:
    org, _ = acme
    response = await gateway.request(
        method, template.format(organization_id=org.id), params={"x": "y" * 9000}
    )
    assert response.status == 414
    OPENAPI.check_response(method, template, 414, await response.json())


async def test_too_many_failed_keys_are_a_documented_429_with_retry_after(
    gateway: Any, acme: tuple[Organization, str]
) -> None:
    statuses = []
    for _ in range(15):
        response = await gateway.post(AUTHENTICATE, json={"access_key": "x" * 24})
        statuses.append(response.status)
        if response.status == 429:
            break
    assert statuses[-1] == 429, statuses
    documented = _documents("POST", AUTHENTICATE, 429)
    assert documented["headers"]["Retry-After"] == {"$ref": "#/components/headers/RetryAfter"}
    retry_after = DOCUMENT["components"]["headers"]["RetryAfter"]["schema"]
    assert _schema_admits(retry_after, int(response.headers["Retry-After"]))
    OPENAPI.check_response("POST", AUTHENTICATE, 429, await response.json())


async def test_any_request_id_is_taken(gateway: Any, acme: tuple[Organization, str]) -> None:
    org, key = acme
    token = await _token(gateway, key)
    response = await gateway.get(
        UPCOMING.format(organization_id=org.id),
        headers={"Authorization": f"Bearer {token}", "X-Request-Id": "not an id!" * 30},
    )
    assert response.status == 200
    assert re.fullmatch("[0-9a-f]{32}", response.headers["X-Request-Id"])
