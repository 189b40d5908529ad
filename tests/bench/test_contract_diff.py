"""The contract check's comparison: what counts as a difference, and how it is shown."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from bench.contract_check import compare
from bench.contract_diff import Answer, differences, first_difference, http_answer


def test_first_difference_is_the_offset_of_the_first_differing_byte() -> None:
    body = b"x" * 10_000
    assert first_difference(body, body) is None
    assert first_difference(body, body[:5000] + b"y" + body[5001:]) == 5000
    assert first_difference(body[:4097], body) == 4097  # a prefix: the shorter one's length
    assert first_difference(b"", b"a") == 0


def test_per_response_headers_and_header_order_do_not_count() -> None:
    base = http_answer(
        200, [("Date", "Mon"), ("Content-Type", "a/b"), ("X-Request-Id", "1"), ("Vary", "A")], b"{}"
    )
    this = http_answer(200, [("vary", "A"), ("content-type", "a/b"), ("Date", "Tue")], b"{}")
    assert differences(base, this) == []


def test_a_difference_names_the_status_each_header_and_the_first_differing_byte() -> None:
    base = http_answer(404, [("Content-Length", "21")], b'{"error":"Not Found"}')
    this = http_answer(
        200, [("Content-Length", "22"), ("Vary", "Accept")], b'{"error":"Not Found!"}'
    )
    assert differences(base, this) == [
        "status: base 404, this 200",
        "header content-length: base '21', this '22'",
        "header vary: base (absent), this 'Accept'",
        "body: first difference at byte 19 (base 21 bytes, this 22 bytes)",
        '  base: {"error":"Not Found|"}',
        '  this: {"error":"Not Found|!"}',
    ]


def _gzip(parts: list[bytes]) -> bytes:
    compressor = zlib.compressobj(wbits=31)
    out = b"".join(compressor.compress(p) + compressor.flush(zlib.Z_SYNC_FLUSH) for p in parts)
    return out + compressor.flush()


def test_a_gzipped_body_is_compared_decoded_whatever_its_flush_points() -> None:
    headers = [("Content-Encoding", "gzip")]
    once, in_pieces = _gzip([b"a,b\n1,2\n"]), _gzip([b"a,b\n", b"1,2\n"])
    assert once != in_pieces
    assert http_answer(200, headers, once) == http_answer(200, headers, in_pieces)
    assert http_answer(200, headers, once).body == b"a,b\n1,2\n"
    # A truncated stream does not decode: its raw bytes are compared.
    assert http_answer(200, headers, once[:-8]).body == once[:-8]


@dataclass
class _Call:
    """Answers in turn from a list for each side."""

    answers: dict[str, Iterator[bytes]] = field(default_factory=dict)

    def send(self, side: str) -> Answer:
        return Answer("200", (), next(self.answers[side]))


def test_a_pair_that_differs_is_sent_again_once_and_counts_only_if_it_still_differs() -> None:
    moved = _Call({"base": iter([b"1", b"2"]), "this": iter([b"2", b"2"])})
    assert compare(moved, "base", "this") == ([], True)  # type: ignore[arg-type]
    kept = _Call({"base": iter([b"1", b"1", b"1"]), "this": iter([b"2", b"2", b"2"])})
    lines, _ = compare(kept, "base", "this")  # type: ignore[arg-type]
    assert lines[0].startswith("body: first difference at byte 0")
    assert next(kept.answers["base"]) == b"1"  # sent twice, not three times
