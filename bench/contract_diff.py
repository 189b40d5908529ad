"""What `make contract-check` compares of one answer, and how it shows a difference.

An answer is a status, the headers that belong to the contract, and the body bytes. Left out,
because they differ on every response whatever the code: `Date` and `X-Request-Id`. Kept:
every other header, in a case-insensitive comparison that ignores their order (HTTP gives it
no meaning) but keeps the order of a repeated header's values. `Content-Length` is kept: only
a body of fixed length carries it (a chunked or gzipped body has `Transfer-Encoding` instead,
compared like any header), and moving from one framing to the other is visible to a client.
A gzipped body is compared after decoding: the compressed bytes depend on where the stream
was flushed, which is transport, not content; `Content-Encoding` itself is compared.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

_LOGGER = logging.getLogger(__name__)

IGNORED_HEADERS = frozenset({"date", "x-request-id"})
CONTEXT_BYTES = 48
_CHUNK = 4096
# Control characters as escapes, so that an excerpt stays on one line.
_CONTROLS = {
    code: ("\\n" if code == 10 else "\\t" if code == 9 else f"\\x{code:02x}")
    for code in (*range(32), 127)
}


@dataclass(frozen=True)
class Answer:
    """One response, reduced to what the contract check compares."""

    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


def compared_headers(headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The headers compared: names lower-cased, per-response ones out, sorted by name (a
    stable sort, so a repeated header's values keep their order)."""
    kept = [(name.lower(), value) for name, value in headers if name.lower() not in IGNORED_HEADERS]
    return tuple(sorted(kept, key=lambda item: item[0]))


def decoded_body(headers: Iterable[tuple[str, str]], body: bytes) -> bytes:
    """The body without its gzip content coding; as received when it has none, or when it
    does not decode (a truncated stream: then its raw bytes are what differs)."""
    codings = [
        value.strip().lower() for name, value in headers if name.lower() == "content-encoding"
    ]
    if codings not in (["gzip"], ["x-gzip"]):
        return body
    try:
        return zlib.decompress(body, wbits=47)  # 32 + 15: a gzip or zlib header
    except zlib.error:
        _LOGGER.debug("gzip body does not decode; compared as received")
        return body


def http_answer(status: int, headers: list[tuple[str, str]], body: bytes) -> Answer:
    return Answer(str(status), compared_headers(headers), decoded_body(headers, body))


def first_difference(base: bytes, this: bytes) -> int | None:
    """The offset of the first byte that differs (the shorter one's length when one is a
    prefix of the other), None when both are equal."""
    if base == this:
        return None
    shorter = min(len(base), len(this))
    offset = 0
    while offset < shorter and base[offset : offset + _CHUNK] == this[offset : offset + _CHUNK]:
        offset += _CHUNK
    while offset < shorter and base[offset] == this[offset]:
        offset += 1
    return offset


def excerpt(body: bytes, offset: int, context: int = CONTEXT_BYTES) -> str:
    """The bytes around `offset`, as one printable line ('|' marks the offset)."""
    before = body[max(0, offset - context) : offset]
    after = body[offset : offset + context]

    def shown(part: bytes) -> str:
        return part.decode("utf-8", "backslashreplace").translate(_CONTROLS)

    lead = "..." if offset > context else ""
    tail = "..." if offset + context < len(body) else ""
    return f"{lead}{shown(before)}|{shown(after)}{tail}"


def _header_map(headers: tuple[tuple[str, str], ...]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in headers:
        found.setdefault(name, []).append(value)
    return found


def differences(base: Answer, this: Answer) -> list[str]:
    """A short account of how two answers differ: status, each differing header, and the
    body's first differing byte with its context. Empty when they are identical."""
    lines = []
    if base.status != this.status:
        lines.append(f"status: base {base.status}, this {this.status}")
    base_headers, this_headers = _header_map(base.headers), _header_map(this.headers)
    for name in sorted(base_headers.keys() | this_headers.keys()):
        was, now = base_headers.get(name), this_headers.get(name)
        if was != now:
            lines.append(f"header {name}: base {_values(was)}, this {_values(now)}")
    offset = first_difference(base.body, this.body)
    if offset is not None:
        lines.append(
            f"body: first difference at byte {offset} "
            f"(base {len(base.body)} bytes, this {len(this.body)} bytes)"
        )
        lines.append(f"  base: {excerpt(base.body, offset)}")
        lines.append(f"  this: {excerpt(this.body, offset)}")
    return lines


def _values(values: list[str] | None) -> str:
    return "(absent)" if values is None else " | ".join(repr(value) for value in values)
