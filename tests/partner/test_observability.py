"""Gateway metrics at /metrics and the JSON access log (which never holds a token)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from gateway.observability import (
    ACCESS_LOGGER,
    add_observability,
    configure_access_log,
)
from tests.partner.conftest import ACCESS_KEY, ORG_ID, rest_token

UPCOMING = f"/api/v2/organizations/{ORG_ID}/upcoming_meetings"
UPCOMING_ROUTE = "/api/v2/organizations/{organization_id}/upcoming_meetings"
ACCESS_FIELDS = {
    "time",
    "method",
    "route",
    "status",
    "duration_ms",
    "request_id",
    "organization_id",
    "bytes",
}


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a /metrics page by (name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_count_requests_by_route_template_and_status(
    partner_gateway: Any, partner_data: object
) -> None:
    ok = {"method": "GET", "route": UPCOMING_ROUTE}
    # The registry is the whole test process's: each count is read before and after.
    watched = {
        "refused": ("meetings_http_requests_total", {**ok, "status": "401"}),
        "answered": ("meetings_http_requests_total", {**ok, "status": "200"}),
        "unmatched": (
            "meetings_http_requests_total",
            {"method": "GET", "route": "unmatched", "status": "404"},
        ),
        "token": (
            "meetings_http_requests_total",
            {"method": "POST", "route": "/api/v2/authenticate", "status": "200"},
        ),
        "timed": ("meetings_http_request_duration_seconds_count", ok),
        "bucketed": ("meetings_http_request_duration_seconds_bucket", {**ok, "le": "+Inf"}),
    }
    before = {key: value(name, **labels) for key, (name, labels) in watched.items()}

    token = await rest_token(partner_gateway)
    assert (await partner_gateway.get(UPCOMING)).status == 401
    assert (await partner_gateway.get(UPCOMING, headers={"Authorization": token})).status == 200
    assert (await partner_gateway.get("/no/such/page")).status == 404

    response = await partner_gateway.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    found = samples(await response.text())
    after = {
        key: found.get((name, frozenset(labels.items())), 0.0)
        for key, (name, labels) in watched.items()
    }
    deltas = {key: after[key] - before[key] for key in watched}
    assert deltas == {
        "refused": 1,
        "answered": 1,
        "unmatched": 1,
        "token": 1,
        "timed": 2,  # the two requests of the upcoming route
        "bucketed": 2,
    }
    # The raw path is never a label (unbounded cardinality; ids are not metrics).
    assert not any(
        dict(labels).get("route", "").endswith(f"/{ORG_ID}/upcoming_meetings")
        for _, labels in found
    )


async def test_metrics_list_every_family_of_both_tiers(partner_gateway: Any) -> None:
    import server.metrics  # noqa: F401  (registers the gRPC tier's metrics, as serve does)

    text = await (await partner_gateway.get("/metrics")).text()
    for name in (
        "meetings_http_requests_total",
        "meetings_http_request_duration_seconds",
        "meetings_http_active_streams",
        "grpc_server_started_total",
        "grpc_server_handled_total",
        "grpc_server_handling_seconds",
        "meetings_grpc_active_streams",
        "meetings_exported_rows_total",
        "meetings_db_pool_connections",
        "meetings_db_pool_max_connections",
    ):
        assert f"# TYPE {name} " in text, name


async def test_streamed_responses_are_active_streams_while_they_are_written(
    aiohttp_client: Any,
) -> None:
    release = asyncio.Event()
    started = asyncio.Event()

    async def stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"[")
        started.set()
        await release.wait()
        await response.write(b"]")
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/stream/{organization_id}", stream)
    add_observability(app)
    client = await aiohttp_client(app)
    route = "/stream/{organization_id}"
    before = value("meetings_http_active_streams", route=route)

    reading = asyncio.create_task(client.get("/stream/7"))
    await started.wait()
    assert value("meetings_http_active_streams", route=route) == before + 1
    release.set()
    response = await reading
    assert await response.read() == b"[]"
    assert value("meetings_http_active_streams", route=route) == before
    # A plain response is not a stream.
    assert (await client.get("/metrics")).status == 200
    assert value("meetings_http_active_streams", route="/metrics") == 0


@pytest.fixture
def access_lines(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG, logger=ACCESS_LOGGER)
    yield caplog


async def _access(
    caplog: pytest.LogCaptureFixture, *request_ids: str
) -> list[tuple[int, dict[str, Any], str]]:
    """The access lines of these requests, in this order, once they are all there: a line
    is written after its response has been sent, which can be just after the client read it."""
    found: dict[str, tuple[int, dict[str, Any], str]] = {}
    for _ in range(500):
        for record in caplog.records:
            if record.name == ACCESS_LOGGER:
                line = json.loads(record.getMessage())
                found[line["request_id"]] = (record.levelno, line, record.getMessage())
        if all(request_id in found for request_id in request_ids):
            return [found[request_id] for request_id in request_ids]
        await asyncio.sleep(0.01)
    raise AssertionError(f"no access line for {set(request_ids) - set(found)}")


def rid(value: str) -> dict[str, str]:
    return {"X-Request-Id": value}


async def test_each_request_logs_one_json_line_without_the_token(
    partner_gateway: Any, partner_data: object, access_lines: pytest.LogCaptureFixture
) -> None:
    token = await rest_token(partner_gateway)
    response = await partner_gateway.get(
        UPCOMING,
        params={"items": "5"},
        headers={"Authorization": f"Bearer {token}", **rid("partner-log-test-1")},
    )
    assert response.status == 200
    body = await response.read()
    # The access key may come in authenticate's query string: never logged either.
    await partner_gateway.post(
        "/api/v2/authenticate", params={"access_key": ACCESS_KEY}, headers=rid("log-auth-1")
    )

    lines = await _access(access_lines, "partner-log-test-1", "log-auth-1")
    (level, line, raw), (_, auth_line, auth_raw) = lines
    assert level == logging.INFO
    assert set(line) == ACCESS_FIELDS
    assert line["method"] == "GET"
    assert line["route"] == UPCOMING_ROUTE
    assert line["status"] == 200
    assert line["request_id"] == "partner-log-test-1"
    assert line["organization_id"] == ORG_ID
    assert line["bytes"] > len(body)  # what was sent: the headers too
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["time"].endswith("Z")
    assert auth_line["route"] == "/api/v2/authenticate" and auth_line["organization_id"] is None
    for text in (raw, auth_raw):
        assert token not in text and token.split(".")[2] not in text
        assert ACCESS_KEY not in text
        assert "Bearer" not in text and "items" not in text


async def test_probes_and_scrapes_are_logged_at_debug_only(
    partner_gateway: Any, access_lines: pytest.LogCaptureFixture
) -> None:
    await partner_gateway.get("/healthz", headers=rid("probe-1"))
    await partner_gateway.get("/metrics", headers=rid("scrape-1"))
    lines = await _access(access_lines, "probe-1", "scrape-1")
    assert [(level, line["route"]) for level, line, _ in lines] == [
        (logging.DEBUG, "/healthz"),
        (logging.DEBUG, "/metrics"),
    ]


async def test_failed_requests_are_logged_with_their_status(
    partner_gateway: Any, access_lines: pytest.LogCaptureFixture
) -> None:
    await partner_gateway.get(UPCOMING, headers=rid("no-token-1"))
    await partner_gateway.delete("/api/v2/authenticate", headers=rid("wrong-method-1"))
    lines = await _access(access_lines, "no-token-1", "wrong-method-1")
    statuses = [(line["route"], line["status"]) for _, line, _ in lines]
    assert statuses == [(UPCOMING_ROUTE, 401), ("unmatched", 405)]


@pytest.mark.parametrize(
    ("org_id", "logged"),
    [
        (str(2**63 - 1), 2**63 - 1),
        (str(2**64), None),  # orjson cannot write it; nor is it an id anyone can have
        ("9" * 5000, None),  # past Python's own int() limit for text
        ("0", None),
    ],
)
async def test_every_organization_id_in_the_url_gets_its_line(
    partner_gateway: Any, access_lines: pytest.LogCaptureFixture, org_id: str, logged: int | None
) -> None:
    await partner_gateway.get(
        f"/api/v2/organizations/{org_id}/upcoming_meetings", headers=rid("big-org-1")
    )
    ((level, line, _),) = await _access(access_lines, "big-org-1")
    assert level == logging.INFO
    assert (line["route"], line["organization_id"]) == (UPCOMING_ROUTE, logged)


def _unrouted_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == ACCESS_LOGGER and '"request_id":null' in record.getMessage()
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n",
        b"GET /healthz HTTP/1.1 extra\r\nHost: x\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",  # TLS on the plain port
    ],
    ids=["nul-in-header", "header-over-limit", "bad-request-line", "tls-hello"],
)
async def test_a_request_the_parser_refuses_still_gets_its_line(
    partner_gateway: Any, access_lines: pytest.LogCaptureFixture, raw: bytes
) -> None:
    server = partner_gateway.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(raw)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    assert answer.split(b" ", 2)[1] == b"400", answer
    for _ in range(500):
        lines = _unrouted_lines(access_lines)
        if lines:
            break
        await asyncio.sleep(0.01)
    assert [(line["route"], line["status"], line["organization_id"]) for line in lines] == [
        ("unmatched", 400, None)
    ]
    # (aiohttp itself logs the parser's refusal; the line must not fail after it.)
    failures = [r for r in access_lines.records if r.exc_info and r.exc_info[0] is not None]
    assert not [r for r in failures if issubclass(r.exc_info[0], (AssertionError, TypeError))]  # type: ignore[index]


def test_configure_access_log_writes_bare_json_lines() -> None:
    logger = logging.getLogger(ACCESS_LOGGER)
    saved = (logger.level, logger.propagate)
    stream = io.StringIO()
    handler = configure_access_log(stream)
    try:
        assert configure_access_log(io.StringIO()) is handler  # once per process
        logger.info(json.dumps({"route": "/x", "status": 200}))
        assert [json.loads(line) for line in stream.getvalue().splitlines()] == [
            {"route": "/x", "status": 200}
        ]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


async def test_a_streamed_export_is_logged_with_its_size_and_leaves_no_active_stream(
    partner_gateway: Any, partner_data: object, access_lines: pytest.LogCaptureFixture
) -> None:
    token = await rest_token(partner_gateway)
    export_route = "/api/v2/organizations/{organization_id}/export_meetings"
    response = await partner_gateway.get(
        f"/api/v2/organizations/{ORG_ID}/export_meetings",
        params=[("column[]", "name"), ("column[]", "start_time")],
        headers={"Authorization": f"Bearer {token}", **rid("export-log-1")},
    )
    assert response.status == 200
    body = await response.read()
    assert json.loads(body)["meetings"]

    ((_, line, _),) = await _access(access_lines, "export-log-1")
    assert (line["route"], line["status"], line["organization_id"]) == (export_route, 200, ORG_ID)
    # The whole body went out, with its headers and chunk framing.
    assert line["bytes"] > len(body)
    assert value("meetings_http_active_streams", route=export_route) == 0
