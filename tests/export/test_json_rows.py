"""The databases write each export row's JSON object exactly as orjson writes the same values:
compact, keys in the requested order, the same escapes and the same numbers. The NDJSON export
writes each row it decoded again with orjson; this is what keeps its lines byte for byte the
objects of the JSON export, on both databases."""

from __future__ import annotations

from contextlib import closing

import peewee

from gateway.legacy.export_formats.writers import NdjsonWriter
from server.enum_options import STORE_COLUMNS
from store.export import ExportFilter, open_export
from store.loader import load_fixture
from tests.export.conftest import ORG_ID, document, meeting, user

# Every character JSON must escape (NUL aside: PostgreSQL text cannot hold it), and ones an
# encoder may escape or not: DEL, C1 controls, the line and paragraph separators, a BOM, and
# characters outside the BMP.
AWKWARD = (
    "".join(chr(code) for code in range(1, 32))
    + '"\\/\x7f\u0080\u009f\u00e9\u2028\u2029\ufeff\U0001f600 },{"name":"x"}'
)

MEETINGS = [
    meeting(
        1,
        "2026-05-01T15:00:00.250+00:00",
        name=AWKWARD,
        meeting_type="\u65e5\u672c",
        topic="",
        special_focus=AWKWARD[::-1],
        host=None,
        price="9999999999.99",
        max_attendees=None,
        meeting_description="line one\nline two",
        group_leader_id=4501,
        privacy=True,
        eap=True,
    ),
    meeting(2, "2026-05-02T15:00:00+00:00", price="12.50", max_attendees=2**31 - 1),
    meeting(3, "2026-05-03T15:00:00+00:00", price="0.01", duration=1),
    meeting(4, "2026-05-04T15:00:00+00:00", price=None, wait_list=True),
    meeting(5, "2026-05-05T15:00:00+00:00", price=10, invitation_only=True),
    meeting(6, "2026-05-06T15:00:00+00:00", price="1234567.8", allow_meeting_donation=True),
]


def test_the_databases_write_rows_as_the_ndjson_writer_does(db: peewee.Database) -> None:
    load_fixture(document(MEETINGS, users=[user(4501)]))
    every_column = [STORE_COLUMNS[number] for number in sorted(STORE_COLUMNS)]
    with (
        db.connection_context(),
        closing(open_export(ExportFilter((ORG_ID,)), every_column, 100, json_rows=True)) as reader,
    ):
        rows = [row[0] for row in reader.fetch()]
    assert len(rows) == len(MEETINGS)
    assert b'"group_leader":4501' in rows[0] and AWKWARD.encode()[:1] not in rows[0]
    assert NdjsonWriter().rows(b",".join(rows)) == b"".join(row + b"\n" for row in rows)
