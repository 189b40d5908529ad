"""Legacy request parameters: query string, JSON body or form body, as one multi-map.

Hostile input stops here with a BindError (400, or 422 on the upcoming feed), never a 500:
one parameter takes at most MAX_VALUES_PER_PARAMETER values (`column[]` repeated thousands of
times is refused), and a body must be JSON or a form in UTF-8. Text that is not valid UTF-8
never reaches the binders (the JSON parser refuses it; URL and form decoding replace it), and
a NUL character is just a character: each endpoint's own checks refuse it where it matters,
while unknown parameters stay ignored whatever they hold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import orjson
from aiohttp import web

from gateway.errors import BindError

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
# The export has 18 columns; a hundred values of one parameter is already absurd.
MAX_VALUES_PER_PARAMETER = 100
# Digits beyond these are clamped without being converted (int() of thousands of digits is
# slow, and refused past 4300 by Python itself).
_MAX_DIGITS = 20
_INTEGER = re.compile(r"[+-]?[0-9]+")

# A request's headers, as a binder reads them (aiohttp's are case-insensitive): for what an
# answer depends on besides the parameters (the export's Accept).
Headers = Mapping[str, str]
NO_HEADERS: Headers = MappingProxyType({})


class Params:
    """Parameter values by name; `name[]` and `name` are the same parameter."""

    def __init__(self) -> None:
        self._values: dict[str, list[Any]] = {}

    def add(self, name: str, value: Any) -> None:
        key = name.removesuffix("[]")
        values = self._values.setdefault(key, [])
        new = value if isinstance(value, list) else [value]
        if len(values) + len(new) > MAX_VALUES_PER_PARAMETER:
            raise BindError(
                key, f"Parameter {key} has too many values (at most {MAX_VALUES_PER_PARAMETER})"
            )
        values.extend(new)

    def replace(self, name: str, value: Any) -> None:
        self._values.pop(name.removesuffix("[]"), None)
        self.add(name, value)

    def all(self, name: str) -> list[Any]:
        return list(self._values.get(name, ()))

    def last(self, name: str) -> Any:
        """The last value given for a name (as Rails keeps), or None."""
        values = self._values.get(name)
        return values[-1] if values else None

    def extend(self, pairs: Iterable[tuple[str, Any]]) -> None:
        for name, value in pairs:
            self.add(name, value)


async def read_params(request: web.Request) -> Params:
    """Query parameters, then body parameters (which replace query values of the same name)."""
    params = Params()
    params.extend(request.query.items())
    if request.method in ("GET", "HEAD") or not request.can_read_body:
        return params
    content_type = request.content_type
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await request.post()
        except (UnicodeDecodeError, LookupError) as exc:
            raise BindError("body", "Request body must be UTF-8 text") from exc
        except (ValueError, AssertionError) as exc:
            # aiohttp's multipart reader refuses a body without a boundary (or a broken one).
            raise BindError("body", "Request body is not a valid form") from exc
        body = Params()
        body.extend((k, v) for k, v in form.items() if isinstance(v, str))
        for name in {k.removesuffix("[]") for k in form}:
            params.replace(name, body.all(name))
        return params
    raw = await request.read()
    if not raw.strip():
        return params
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BindError("body", "Request body must be a JSON object or a form") from exc
    if not isinstance(document, dict):
        raise BindError("body", "Request body must be a JSON object")
    for name, value in document.items():
        params.replace(name, value)
    return params


def blank(value: Any) -> bool:
    """Absent, null or an empty string: all count as not given."""
    return value is None or (isinstance(value, str) and not value.strip())


def parse_int(value: Any, *, field: str, message: str, limit: int = INT64_MAX) -> int:
    """An integer from a JSON number or a string of digits (an optional sign, surrounding
    spaces); clamped to +-limit. Anything else is a BindError with `message`."""
    if isinstance(value, bool):
        raise BindError(field, message)
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.isascii() and _INTEGER.fullmatch(value.strip()):
        text = value.strip()
        negative = text.startswith("-")
        digits = text.lstrip("+-").lstrip("0") or "0"
        if len(digits) > _MAX_DIGITS:
            return -limit if negative else limit
        number = int(text)
    else:
        raise BindError(field, message)
    return max(-limit, min(limit, number))
