"""Bearer tokens: HS256 JWTs naming an organization and its access-key generation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

ALGORITHM = "HS256"
LEEWAY = timedelta(seconds=30)


class InvalidToken(Exception):
    """The token is malformed, badly signed, expired or lacks a claim."""


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


def read_token(secret: str, token: str, now: datetime) -> TokenClaims:
    """The claims of a valid token; InvalidToken otherwise."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub"], "verify_exp": False},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    # Expiry is checked against the injected clock, not the wall clock.
    exp, org, kgen = claims.get("exp"), claims.get("org"), claims.get("kgen")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (exp, org, kgen)):
        raise InvalidToken("claims of the wrong type")
    assert isinstance(exp, int) and isinstance(org, int) and isinstance(kgen, int)
    if now.timestamp() > exp + LEEWAY.total_seconds():
        raise InvalidToken("expired")
    return TokenClaims(org, kgen, datetime.fromtimestamp(exp, tz=now.tzinfo))
