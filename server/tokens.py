"""Bearer tokens: HS256 JWTs naming an organization and its access-key generation.

The algorithm is pinned: a token whose header names anything but HS256 (`none`, HS384, HS512,
RS256 and the rest, which is how key-confusion attacks begin) is refused before its signature
is even looked at. Every time claim is checked against the injected clock, never the wall
clock, with the same small leeway in both directions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt

ALGORITHM = "HS256"
LEEWAY = timedelta(seconds=30)
# HMAC-SHA256 keys shorter than its output size weaken it (RFC 7518 section 3.2).
MIN_SECRET_BYTES = 32
# A token is a few hundred bytes; anything much longer is not one of ours.
MAX_TOKEN_CHARS = 4096
REQUIRED_CLAIMS = ("exp", "iat", "sub", "org", "kgen")


class InvalidToken(Exception):
    """The token is malformed, badly signed, expired, not yet valid or lacks a claim."""


@dataclass(frozen=True)
class TokenClaims:
    organization_id: int
    key_generation: int
    expires_at: datetime


def mint_token(
    secret: str, organization_id: int, key_generation: int, now: datetime, ttl: timedelta
) -> tuple[str, datetime]:
    """A signed token for the organization, and when it expires."""
    expires_at = now + ttl
    claims = {
        "sub": str(organization_id),
        "org": organization_id,
        "kgen": key_generation,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), expires_at


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_token(secret: str, token: str, now: datetime) -> TokenClaims:
    """The claims of a valid token; InvalidToken otherwise."""
    if len(token) > MAX_TOKEN_CHARS:
        raise InvalidToken("too long")
    exp, iat, org, kgen, nbf = _signed_claims(secret, token)
    leeway = LEEWAY.total_seconds()
    moment = now.timestamp()
    if moment > exp + leeway:
        raise InvalidToken("expired")
    if iat > moment + leeway:
        raise InvalidToken("issued in the future")
    if nbf is not None and nbf > moment + leeway:
        raise InvalidToken("not yet valid")
    try:
        expires_at = datetime.fromtimestamp(exp, tz=now.tzinfo)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidToken("expiry out of range") from exc
    return TokenClaims(org, kgen, expires_at)


# Verified tokens, by (secret, token). A client sends the same token with every request until
# it expires, and checking the signature (PyJWT: header, base64, HMAC, JSON) was a tenth of
# the server's time per feed request (profiled). Only tokens whose signature verified are
# kept (a failure raises, and lru_cache keeps no exceptions), so the cache can only hold
# tokens this service signed; the time claims are checked on every call, against its clock.
@lru_cache(maxsize=4096)
def _signed_claims(secret: str, token: str) -> tuple[int, int, int, int, int | None]:
    """(exp, iat, org, kgen, nbf) of a token whose signature and claim types are valid."""
    try:
        header = jwt.get_unverified_header(token)
        # PyJWT would refuse other algorithms too (algorithms=[...] below); checking the
        # header first keeps the pin explicit and independent of the library's defaults.
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"algorithm {header.get('alg')!r} is not {ALGORITHM}")
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={
                "require": list(REQUIRED_CLAIMS),
                # Time claims are checked by read_token against the injected clock.
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    exp, iat, org, kgen = (claims.get(name) for name in ("exp", "iat", "org", "kgen"))
    if not all(_is_int(value) for value in (exp, iat, org, kgen)):
        raise InvalidToken("claims of the wrong type")
    assert isinstance(exp, int) and isinstance(iat, int)
    assert isinstance(org, int) and isinstance(kgen, int)
    if claims.get("sub") != str(org):
        raise InvalidToken("sub and org disagree")
    nbf = claims.get("nbf")
    if nbf is not None and not _is_int(nbf):
        raise InvalidToken("not yet valid")
    return exp, iat, org, kgen, nbf
