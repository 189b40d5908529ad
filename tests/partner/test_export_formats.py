"""The export in CSV and NDJSON, and gzipped: the same rows as the JSON export, chosen by
`format` or `Accept`, streamed like the JSON export, and truncated the same way on failure."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import threading
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson
import peewee
import pytest

from gateway.legacy.enum_options import EXPORT_COLUMNS
from gateway.legacy.export_formats.codings import accepts_gzip
from gateway.legacy.export_formats.negotiation import (
    FORMAT_MESSAGE,
    format_parameter,
    negotiate,
    resolve_format,
)
from gateway.legacy.export_formats.writers import NdjsonWriter, decode_rows, neutralise_formula
from server import export as server_export
from store.loader import load_fixture
from store.models import Meeting
from tests.export import conftest as export_fixtures
from tests.export.conftest import (
    ALL_COLUMNS,
    EXPORT_URL,
    ORG_ID,
    ReaderSpy,
    document,
    many_meetings,
    meeting,
    rest_headers,
    user,
)

reader_spy = export_fixtures.reader_spy  # the export tests' spy on the store's reader

# Each column's key and its label (the export page's checkboxes, the CSV header), in order.
COLUMN_LABELS = {column.key: column.label for column in EXPORT_COLUMNS}
IDENTITY = {"Accept-Encoding": "identity"}
CSV_TYPE = "text/csv; charset=utf-8; header=present"
NDJSON_TYPE = "application/x-ndjson; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
BOM = "\ufeff"
FORMULA_STARTS = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"

# Past meetings (the suite's clock reads 2026-05-20T12:00Z), with every awkward value.
MEETINGS = [
    meeting(
        101,
        "2026-05-01T15:00:00+00:00",
        name='Hello, "world"',
        topic="Grief & Loss",
        meeting_description="line one\nline two\r\nline three",
        group_leader_id=4501,
        price="12.50",
        privacy=True,
        wait_list=True,
    ),
    meeting(
        102,
        "2026-05-02T15:00:00+00:00",
        name='=HYPERLINK("http://evil.example", "click")',
        topic="+1 topic",
        special_focus="-2 focus",
        host="@SUM(A1)",
        location="\tlocation",
        meeting_description="\rdescription",
        price=10,
        eap=True,
    ),
    meeting(
        103,
        "2026-05-03T15:00:00+00:00",
        name="Caf\u00e9 \u2615 \u65e5\u672c",
        topic="\uff1d1+1",
        special_focus="safe - not at the start",
        host=None,
        location=None,
        max_attendees=None,
        price=None,
        allow_meeting_donation=True,
        invitation_only=True,
    ),
    meeting(104, "2026-05-04T15:00:00+00:00", name="", topic=" =leading space"),
    meeting(
        105,
        "2026-05-05T15:00:00+00:00",
        name="Plain",
        status="complete",
        topic='},{"name":"not a row"}',  # the objects' separator, inside a string
        meeting_description='back\\slash \\"},{\\',
    ),
]

COLUMN_SETS = [
    pytest.param(list(ALL_COLUMNS), id="all-18"),
    pytest.param(["name"], id="one"),
    pytest.param(["wait_list", "price", "group_leader_id", "name", "start_time"], id="reordered"),
    pytest.param(["name", "nope", "duration", "name", "max_attendees"], id="unknown-and-repeat"),
]


@pytest.fixture
def meetings_loaded(db: peewee.Database) -> None:
    load_fixture(document(MEETINGS, users=[user(4501)]))
    # Negative numbers cannot come through the loader, but may be stored: they stay numbers.
    with db.connection_context():
        Meeting.update(max_attendees=-3, duration=-15).where(Meeting.id == 105).execute()


@pytest.fixture
async def headers(gateway: Any, meetings_loaded: None) -> dict[str, str]:
    return await rest_headers(gateway)


def query(columns: Sequence[str], *extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [*(("column[]", c) for c in columns), *extra]


def known(columns: Sequence[str]) -> list[str]:
    """The columns the export answers with: known keys, first occurrence, in order."""
    return list(dict.fromkeys(c for c in columns if c in COLUMN_LABELS))


def expected_cell(value: Any) -> str:
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value if value[:1] and value[0] in FORMULA_STARTS else value
    return orjson.dumps(value).decode()


def expected_csv_rows(columns: Sequence[str], meetings: list[dict[str, Any]]) -> list[list[str]]:
    keys = [c.replace("group_leader_id", "group_leader") for c in known(columns)]
    header = [COLUMN_LABELS[c] for c in known(columns)]
    return [header, *([expected_cell(m[k]) for k in keys] for m in meetings)]


def parse_csv(body: bytes) -> list[list[str]]:
    text = body.decode("utf-8")
    assert text.startswith(BOM), "the CSV starts with a UTF-8 byte order mark"
    return list(csv.reader(io.StringIO(text[len(BOM) :], newline="")))


async def fetch(
    gateway: Any,
    headers: dict[str, str],
    params: Sequence[tuple[str, str]],
    *,
    accept: str | None = None,
    encoding: str = "identity",
) -> tuple[aiohttp.ClientResponse, bytes]:
    extra = {"Accept-Encoding": encoding, **({"Accept": accept} if accept else {})}
    response = await gateway.get(EXPORT_URL, params=params, headers={**headers, **extra})
    body = await response.read()
    assert response.status == 200, body
    return response, body


# --- the same rows in every format ----------------------------------------------------------


@pytest.mark.parametrize("columns", COLUMN_SETS)
async def test_csv_and_ndjson_hold_the_json_rows_unpaginated(
    gateway: Any, headers: dict[str, str], columns: list[str]
) -> None:
    json_response, json_body = await fetch(gateway, headers, query(columns))
    assert json_response.headers["Content-Type"] == JSON_TYPE
    meetings = orjson.loads(json_body)["meetings"]
    assert len(meetings) == len(MEETINGS)

    csv_response, csv_body = await fetch(gateway, headers, query(columns, ("format", "csv")))
    assert csv_response.headers["Content-Type"] == CSV_TYPE
    assert parse_csv(csv_body) == expected_csv_rows(columns, meetings)

    nd_response, nd_body = await fetch(gateway, headers, query(columns, ("format", "ndjson")))
    assert nd_response.headers["Content-Type"] == NDJSON_TYPE
    lines = nd_body.split(b"\n")
    assert lines[-1] == b"", "every line, the last included, ends with a line feed"
    assert [orjson.loads(line) for line in lines[:-1]] == meetings
    # Byte for byte the objects of the JSON export.
    assert json_body == b'{"success":true,"meetings":[' + b",".join(lines[:-1]) + b"]}"


@pytest.mark.parametrize("columns", COLUMN_SETS)
@pytest.mark.parametrize(("page", "per_page"), [("1", "2"), ("2", "2"), ("3", "2"), ("9", "2")])
async def test_csv_and_ndjson_pages_hold_the_json_pages_rows(
    gateway: Any, headers: dict[str, str], columns: list[str], page: str, per_page: str
) -> None:
    paging = (("page", page), ("per_page", per_page))
    _, json_body = await fetch(gateway, headers, query(columns, *paging))
    page_document = orjson.loads(json_body)
    metadata, meetings = page_document["metadata"], page_document["meetings"]

    for export_format in ("csv", "ndjson"):
        response, body = await fetch(
            gateway, headers, query(columns, *paging, ("format", export_format))
        )
        assert response.headers["X-Page"] == str(metadata["page"])
        assert response.headers["X-Per-Page"] == str(metadata["per_page"])
        assert response.headers["X-Total-Pages"] == str(metadata["total_pages"]) == "3"
        assert response.headers["X-Total-Count"] == str(metadata["total_count"]) == "5"
        assert response.headers["Content-Length"] == str(len(body))
        today = datetime.now(UTC).strftime("%Y%m%d")
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="meetings-{ORG_ID}-{today}-page-{page}.{export_format}"'
        )
        if export_format == "csv":
            assert parse_csv(body) == expected_csv_rows(columns, meetings)
        else:
            assert [orjson.loads(line) for line in body.splitlines()] == meetings
            assert body == b"".join(orjson.dumps(m) + b"\n" for m in meetings)


async def test_csv_pages_link_to_their_neighbours(gateway: Any, headers: dict[str, str]) -> None:
    params = query(["name", "price"], ("per_page", "2"), ("page", "2"), ("format", "csv"))
    response, _ = await fetch(gateway, headers, params)
    links = {
        part.split('rel="')[1].rstrip('"'): part.split(">")[0].lstrip(" <")
        for part in response.headers["Link"].split(",")
    }
    assert set(links) == {"first", "prev", "next", "last"}
    base = f"{EXPORT_URL}?column%5B%5D=name&column%5B%5D=price&per_page=2&format=csv"
    assert links == {
        "first": base + "&page=1",
        "prev": base + "&page=1",
        "next": base + "&page=3",
        "last": base + "&page=3",
    }
    # Following a link gives the next page.
    follow = await gateway.get(links["next"], headers={**headers, **IDENTITY})
    assert follow.headers["X-Page"] == "3"
    assert parse_csv(await follow.read())[1:] == [["Plain", "0"]]
    last = await gateway.get(links["last"], headers={**headers, **IDENTITY})
    assert 'rel="next"' not in last.headers["Link"]


async def test_a_posted_page_has_its_metadata_headers_but_no_links(
    gateway: Any, headers: dict[str, str]
) -> None:
    response = await gateway.post(
        EXPORT_URL,
        json={"column": ["name"], "per_page": 2, "format": "ndjson"},
        headers={**headers, **IDENTITY},
    )
    assert response.status == 200
    assert response.headers["X-Total-Count"] == "5"
    assert "Link" not in response.headers
    assert len((await response.read()).splitlines()) == 2


NO_COLUMN = (
    "Invalid column: a {} export needs at least one known column; accepted values are "
    + ", ".join(ALL_COLUMNS)
)


@pytest.mark.parametrize("paging", [(), (("per_page", "2"),)], ids=["streamed", "paginated"])
@pytest.mark.parametrize(
    ("export_format", "accept"),
    [("csv", None), ("ndjson", None), (None, "text/csv"), (None, "application/x-ndjson")],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_no_known_column_in_csv_or_ndjson_is_a_400_listing_the_columns(
    gateway: Any,
    headers: dict[str, str],
    paging: tuple[tuple[str, str], ...],
    export_format: str | None,
    accept: str | None,
    method: str,
) -> None:
    fields = [
        ("column[]", "nope"),
        *paging,
        *([("format", export_format)] if export_format else []),
    ]
    extra = {**IDENTITY, **({"Accept": accept} if accept else {})}
    if method == "GET":
        response = await gateway.get(EXPORT_URL, params=fields, headers={**headers, **extra})
    else:
        body = {name.removesuffix("[]"): value for name, value in fields}
        response = await gateway.post(EXPORT_URL, json=body, headers={**headers, **extra})
    chosen = export_format or ("csv" if accept == "text/csv" else "ndjson")
    assert response.status == 400
    assert response.headers["Content-Type"].startswith("application/json")
    assert await response.json() == {"error": NO_COLUMN.format(chosen.upper())}


@pytest.mark.parametrize("paging", [(), (("per_page", "2"),)], ids=["streamed", "paginated"])
async def test_no_known_column_in_json_keeps_the_legacy_empty_answer(
    gateway: Any, headers: dict[str, str], paging: tuple[tuple[str, str], ...]
) -> None:
    _, body = await fetch(gateway, headers, query(["nope"], *paging, ("format", "json")))
    assert body == b'{"success":true,"meetings":[]}'


# --- CSV details ---------------------------------------------------------------------------


async def test_csv_quotes_commas_quotes_and_line_breaks_per_rfc_4180(
    gateway: Any, headers: dict[str, str]
) -> None:
    columns = ["name", "meeting_description", "price"]
    _, body = await fetch(gateway, headers, query(columns, ("format", "csv")))
    text = body.decode("utf-8")
    lines = text.split("\r\n")
    assert lines[0] == BOM + "Name,Description,Price"
    assert lines[1] == '"Hello, ""world""","line one\nline two'
    assert lines[2] == 'line three",12.5'
    assert text.endswith("\r\n") and not text.endswith("\r\n\r\n")
    rows = parse_csv(body)
    assert rows[1] == ['Hello, "world"', "line one\nline two\r\nline three", "12.5"]
    assert rows[3] == ["Caf\u00e9 \u2615 \u65e5\u672c", "", "0"]  # UTF-8; null is empty
    assert "Caf\u00e9 \u2615".encode() in body


async def test_csv_neutralises_formulas_in_text_cells_only(
    gateway: Any, headers: dict[str, str]
) -> None:
    columns = [
        "name",
        "topic",
        "special_focus",
        "host",
        "location",
        "meeting_description",
        "duration",
        "max_attendees",
        "price",
    ]
    _, body = await fetch(gateway, headers, query(columns, ("format", "csv")))
    rows = {row[0]: row for row in parse_csv(body)[1:]}
    injected = rows['\'=HYPERLINK("http://evil.example", "click")']
    assert injected[1:6] == ["'+1 topic", "'-2 focus", "'@SUM(A1)", "'\tlocation", "'\rdescription"]
    assert rows["Caf\u00e9 \u2615 \u65e5\u672c"][1:3] == ["'\uff1d1+1", "safe - not at the start"]
    assert rows[""][1] == " =leading space"  # not a formula: the spreadsheet sees a space first
    # Numbers are never text: negative ones are written as they are.
    assert rows["Plain"][6:] == ["-15", "-3", "0"]
    # The JSON export keeps the stored values.
    _, json_body = await fetch(gateway, headers, query(["name", "duration"]))
    assert orjson.loads(json_body)["meetings"][1]["name"].startswith("=HYPERLINK")
    assert orjson.loads(json_body)["meetings"][4] == {"name": "Plain", "duration": -15}


@pytest.mark.parametrize(
    "objects",
    [
        [{"name": "a"}],
        [{"name": "a"}, {"name": "b"}],
        [{"name": "x},{y"}, {"name": '"},{"'}, {"name": "\\"}],
        [{"name": "},{", "topic": "},{},{"}, {"price": 12.5, "eap": True, "topic": None}],
        [{"name": "Caf\u00e9 \u2615 \n\t\u0001"}, {}],
    ],
)
def test_a_batch_decodes_into_its_rows_and_ndjson_writes_each_as_encoded(
    objects: list[dict[str, Any]],
) -> None:
    encoded = [orjson.dumps(o) for o in objects]
    batch = b",".join(encoded)
    # One decode of the whole batch: the objects' separator inside a string is no boundary.
    assert decode_rows(batch) == objects
    # Each line is its row encoded as the databases encode it (tests/export/test_json_rows.py).
    assert NdjsonWriter().rows(batch) == b"\n".join(encoded) + b"\n"
    assert decode_rows(b"") == []
    with pytest.raises(ValueError):
        decode_rows(b'{"name":"a"},[1]')


def test_neutralise_formula_leaves_plain_text_alone() -> None:
    assert neutralise_formula("") == ""
    assert neutralise_formula("Grief & Loss") == "Grief & Loss"
    assert neutralise_formula("2026-05-23T15:00:00.000Z") == "2026-05-23T15:00:00.000Z"
    for trigger in FORMULA_STARTS:
        assert neutralise_formula(trigger + "x") == "'" + trigger + "x"


async def test_csv_is_an_attachment_named_for_the_organization_and_day(
    gateway: Any, headers: dict[str, str]
) -> None:
    response, _ = await fetch(gateway, headers, query(["name"]), accept="text/csv")
    today = datetime.now(UTC).strftime("%Y%m%d")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="meetings-{ORG_ID}-{today}.csv"'
    )
    assert response.headers["Vary"] == "Accept, Accept-Encoding"
    json_response, _ = await fetch(gateway, headers, query(["name"]))
    assert "Content-Disposition" not in json_response.headers
    assert json_response.headers["Vary"] == "Accept, Accept-Encoding"


# --- choosing the format ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "format_value", "content_type"),
    [
        (None, None, JSON_TYPE),
        ("*/*", None, JSON_TYPE),
        ("application/json", None, JSON_TYPE),
        ("text/csv", None, CSV_TYPE),
        ("text/csv; charset=utf-8", None, CSV_TYPE),
        ("text/*", None, CSV_TYPE),
        ("application/x-ndjson", None, NDJSON_TYPE),
        ("application/ndjson", None, "application/ndjson; charset=utf-8"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", None, JSON_TYPE),
        ("text/csv, application/json", None, CSV_TYPE),
        ("application/json, text/csv", None, JSON_TYPE),
        ("text/csv;q=0.5, application/json", None, JSON_TYPE),
        ("application/json;q=0.1, text/csv", None, CSV_TYPE),
        ("*/*;q=0.1, application/x-ndjson", None, NDJSON_TYPE),
        ("application/xml", None, JSON_TYPE),  # allows none of them: JSON, as legacy
        ("application/json;q=0", None, JSON_TYPE),
        ("garbage", None, JSON_TYPE),
        ("text/csv", "json", JSON_TYPE),  # the parameter wins
        ("application/json", "csv", CSV_TYPE),
        ("text/csv", "ndjson", NDJSON_TYPE),
        (None, " CSV ", CSV_TYPE),
        (None, "", JSON_TYPE),  # empty counts as absent
        ("text/csv", "", CSV_TYPE),
    ],
)
async def test_format_parameter_wins_over_accept(
    gateway: Any,
    headers: dict[str, str],
    accept: str | None,
    format_value: str | None,
    content_type: str,
) -> None:
    extra = () if format_value is None else (("format", format_value),)
    response, body = await fetch(gateway, headers, query(["name"], *extra), accept=accept)
    assert response.headers["Content-Type"] == content_type
    if content_type == JSON_TYPE:
        assert body.startswith(b'{"success":true,"meetings":[{"name":')


async def test_post_takes_format_in_the_body_over_the_query(
    gateway: Any, headers: dict[str, str]
) -> None:
    url = f"{EXPORT_URL}?format=ndjson"
    as_json = await gateway.post(
        url, json={"column": ["name"], "format": "csv"}, headers={**headers, **IDENTITY}
    )
    assert as_json.headers["Content-Type"] == CSV_TYPE
    as_form = await gateway.post(
        url, data=[("column[]", "name"), ("format", "csv")], headers={**headers, **IDENTITY}
    )
    assert as_form.headers["Content-Type"] == CSV_TYPE
    assert await as_json.read() == await as_form.read()
    from_query = await gateway.post(url, json={"column": ["name"]}, headers=headers)
    assert from_query.headers["Content-Type"] == NDJSON_TYPE


@pytest.mark.parametrize("bad", ["xml", "csv2", "1"])
async def test_an_unknown_format_is_a_400_naming_the_accepted_values(
    gateway: Any, headers: dict[str, str], bad: str
) -> None:
    response = await gateway.get(
        EXPORT_URL, params=query(["name"], ("format", bad)), headers=headers
    )
    assert response.status == 400
    assert await response.json() == {
        "error": "Invalid format: accepted values are json, csv, ndjson"
    }
    posted = await gateway.post(EXPORT_URL, json={"column": ["name"], "format": 3}, headers=headers)
    assert posted.status == 400 and await posted.json() == {"error": FORMAT_MESSAGE}


def test_negotiation_rules() -> None:
    assert negotiate(None) is None and negotiate("") is None
    assert negotiate("image/png") is None
    csv_format = negotiate("text/csv")
    assert csv_format is not None and csv_format.name == "csv"
    # The most specific range decides a type's quality: text/csv is refused here.
    refused = negotiate("text/*, text/csv;q=0, application/json;q=0.2")
    assert refused is not None and refused.name == "json"
    # The format parameter wins over Accept; an Accept refusing every format still gets JSON.
    assert resolve_format(format_parameter(None), "text/csv;q=0").name == "json"
    assert resolve_format(format_parameter("NDJSON"), "text/csv").name == "ndjson"
    assert accepts_gzip("gzip, deflate, br")
    assert accepts_gzip("deflate, *")
    assert accepts_gzip("x-gzip")
    assert not accepts_gzip("gzip;q=0, *")
    assert not accepts_gzip("identity")
    assert not accepts_gzip(None)


# --- gzip --------------------------------------------------------------------------------------


@pytest.fixture
async def raw_session() -> AsyncIterator[aiohttp.ClientSession]:
    """A client that leaves bodies compressed, to look at the gzip stream itself."""
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        yield session


@pytest.mark.parametrize("export_format", ["json", "csv", "ndjson"])
@pytest.mark.parametrize("paginated", [False, True])
async def test_gzip_when_accepted_holds_the_same_bytes(
    gateway: Any,
    headers: dict[str, str],
    raw_session: aiohttp.ClientSession,
    export_format: str,
    paginated: bool,
) -> None:
    params = query(list(ALL_COLUMNS), ("format", export_format))
    if paginated:
        params.append(("per_page", "3"))
    _, plain = await fetch(gateway, headers, params)
    url = gateway.make_url(EXPORT_URL)
    gzip_headers = {**headers, "Accept-Encoding": "gzip, deflate"}
    async with raw_session.get(url, params=params, headers=gzip_headers) as response:
        assert response.status == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.headers["Vary"] == "Accept, Accept-Encoding"
        compressed = await response.read()
    assert compressed[:2] == b"\x1f\x8b"
    assert zlib.decompress(compressed, 16 + zlib.MAX_WBITS) == plain
    # The test client decompresses as partners' HTTP clients do.
    _, decoded = await fetch(gateway, headers, params, encoding="gzip")
    assert decoded == plain
    _, refused = await fetch(gateway, headers, params, encoding="gzip;q=0, identity")
    assert refused == plain


# --- streaming ---------------------------------------------------------------------------------


@pytest.fixture
def organization_only(db: peewee.Database) -> None:
    load_fixture(document([]))


async def read_until(response: aiohttp.ClientResponse, marker: bytes) -> bytes:
    received = b""
    while marker not in received:
        chunk = await response.content.readany()
        assert chunk, "the body ended early"
        received += chunk
    return received


@pytest.mark.usefixtures("organization_only")
@pytest.mark.parametrize(
    ("accept", "encoding"),
    [("text/csv", "identity"), ("text/csv", "gzip"), ("application/x-ndjson", "gzip")],
)
async def test_csv_and_ndjson_stream_in_chunks_batch_by_batch(
    gateway: Any,
    db: peewee.Database,
    reader_spy: ReaderSpy,
    monkeypatch: pytest.MonkeyPatch,
    accept: str,
    encoding: str,
) -> None:
    expected = many_meetings(db, 10_000)
    monkeypatch.setattr(server_export, "BATCH_ROWS", 1000)
    headers_seen, first_rows_seen = threading.Event(), threading.Event()
    # The first batch is read only once the client has the headers, the second only once it
    # has rows of the first: an export buffered anywhere (compressor included) would stall.
    reader_spy.gates.update({1: headers_seen, 2: first_rows_seen})
    response = await gateway.get(
        EXPORT_URL,
        params=query(["name", "start_time"]),
        headers={**await rest_headers(gateway), "Accept": accept, "Accept-Encoding": encoding},
    )
    assert response.status == 200
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in response.headers
    assert response.headers.get("Content-Encoding", "identity") == encoding
    reader = reader_spy.last
    assert reader.rows_read == 0
    headers_seen.set()
    marker = f"m{expected[1]}".encode()
    received = await read_until(response, marker)
    assert reader.rows_read == 1000
    first_rows_seen.set()
    received += await response.content.read()
    if accept == "text/csv":
        rows = parse_csv(received)
        assert rows[0] == ["Name", "Start Time"]
        names = [row[0] for row in rows[1:]]
    else:
        names = [orjson.loads(line)["name"] for line in received.splitlines()]
    assert names == [f"m{i}" for i in expected]
    assert reader.closed.is_set() and not reader.gate_timed_out


@pytest.mark.usefixtures("organization_only")
@pytest.mark.parametrize(
    ("accept", "encoding"),
    [
        ("text/csv", "identity"),
        ("application/x-ndjson", "identity"),
        ("text/csv", "gzip"),
        ("application/x-ndjson", "gzip"),
    ],
)
async def test_a_failure_mid_stream_truncates_csv_and_ndjson(
    gateway: Any,
    db: peewee.Database,
    reader_spy: ReaderSpy,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    accept: str,
    encoding: str,
) -> None:
    many_meetings(db, 5000)
    monkeypatch.setattr(server_export, "BATCH_ROWS", 1000)
    reader_spy.fail_on_fetch = 3  # two batches go out, then the read fails
    caplog.set_level(logging.INFO)
    response = await gateway.get(
        EXPORT_URL,
        params=query(["name", "start_time"]),
        headers={**await rest_headers(gateway), "Accept": accept, "Accept-Encoding": encoding},
    )
    assert response.status == 200
    request_id = response.headers["X-Request-Id"]
    received = b""
    # The connection ends inside the chunked body (and, gzipped, before the gzip trailer):
    # the client cannot take what it got for a complete export.
    with pytest.raises(aiohttp.ClientPayloadError):
        async for chunk in response.content.iter_any():
            received += chunk
    lines = received.splitlines()
    if accept == "text/csv":
        assert lines[0] == (BOM + "Name,Start Time").encode()
        assert len(lines) == 1 + 2000
    else:
        assert len(lines) == 2000
        assert all(orjson.loads(line) for line in lines)
    assert b"SELECT" not in received
    messages = [record.getMessage() for record in caplog.records]
    assert any("export stream failed" in m and request_id in m for m in messages)
    assert reader_spy.last.closed.is_set()


@pytest.mark.usefixtures("organization_only")
async def test_a_client_leaving_a_csv_export_cancels_the_read(
    gateway: Any, db: peewee.Database, reader_spy: ReaderSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = 20_000
    many_meetings(db, total, description_width=2000)
    monkeypatch.setattr(server_export, "BATCH_ROWS", 200)
    gone = threading.Event()
    reader_spy.gates[3] = gone
    response = await gateway.get(
        EXPORT_URL,
        params=query(["name", "meeting_description"], ("format", "csv")),
        headers={**await rest_headers(gateway), "Accept-Encoding": "gzip"},
    )
    await read_until(response, b"xxxx\r\n")
    response.close()
    gone.set()
    reader = reader_spy.last
    assert await asyncio.to_thread(reader.closed.wait, 30), "the server kept reading"
    assert reader.rows_read < total


@pytest.mark.usefixtures("organization_only")
@pytest.mark.parametrize("encoding", ["identity", "gzip"])
async def test_memory_stays_flat_for_a_large_csv_export(
    gateway: Any, db: peewee.Database, monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    # 10,000 rows of 2 KB: a 20 MB CSV in batches of about 1 MB; what Python holds at once
    # (server, gateway and this client, which drops each chunk) stays at a few batches.
    total = 10_000
    many_meetings(db, total, description_width=2000)
    monkeypatch.setattr(server_export, "BATCH_ROWS", 500)
    headers = {**await rest_headers(gateway), "Accept-Encoding": encoding}
    params = query(["name", "meeting_description"], ("format", "csv"))
    tracemalloc.start()
    try:
        response = await gateway.get(EXPORT_URL, params=params, headers=headers)
        size = 0
        async for chunk in response.content.iter_any():
            size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.headers.get("Content-Encoding", "identity") == encoding
    assert size > 20_000_000
    assert peak < 12_000_000, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.0f} MB export"
