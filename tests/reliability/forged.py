"""Hand-made JWTs: every way a token can be wrong, built without PyJWT's guard rails."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import orjson

from tests.conftest import TEST_SECRET


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(
    header: dict[str, Any],
    claims: dict[str, Any],
    *,
    key: bytes = TEST_SECRET.encode(),
    digest: Any = hashlib.sha256,
    signature: bytes | None = None,
) -> str:
    """A compact JWS of `header` and `claims`, HMAC-signed with `key` and `digest` unless a
    `signature` is given."""
    signing_input = f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(claims))}"
    if signature is None:
        signature = hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{_b64(signature)}"


def good_claims(org_id: int, now: datetime, generation: int = 1) -> dict[str, Any]:
    return {
        "sub": str(org_id),
        "org": org_id,
        "kgen": generation,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=24)).timestamp()),
    }


def _without(claims: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in claims.items() if k != name}


HS256 = {"alg": "HS256", "typ": "JWT"}

# Each case: (org id, now) -> a token the service must refuse with Unauthorized Access.
HOSTILE_TOKENS: dict[str, Callable[[int, datetime], str]] = {
    "alg none": lambda org, now: forge({"alg": "none"}, good_claims(org, now), signature=b""),
    "alg None": lambda org, now: forge({"alg": "None"}, good_claims(org, now), signature=b""),
    "HS384": lambda org, now: forge({"alg": "HS384"}, good_claims(org, now), digest=hashlib.sha384),
    "HS512": lambda org, now: forge({"alg": "HS512"}, good_claims(org, now), digest=hashlib.sha512),
    # Key confusion: an asymmetric algorithm in the header, "signed" with the shared secret
    # as if it were a public key.
    "RS256 signed with the secret": lambda org, now: forge({"alg": "RS256"}, good_claims(org, now)),
    "ES256 signed with the secret": lambda org, now: forge({"alg": "ES256"}, good_claims(org, now)),
    "no alg": lambda org, now: forge({"typ": "JWT"}, good_claims(org, now)),
    "another secret": lambda org, now: forge(
        HS256, good_claims(org, now), key=b"another-secret-that-is-long-enough-0123456789"
    ),
    "empty signature": lambda org, now: forge(HS256, good_claims(org, now), signature=b""),
    "no exp": lambda org, now: forge(HS256, _without(good_claims(org, now), "exp")),
    "no iat": lambda org, now: forge(HS256, _without(good_claims(org, now), "iat")),
    "no kgen": lambda org, now: forge(HS256, _without(good_claims(org, now), "kgen")),
    "exp as a string": lambda org, now: forge(
        HS256, {**good_claims(org, now), "exp": str(int(now.timestamp()) + 3600)}
    ),
    "expired": lambda org, now: forge(
        HS256,
        {
            **good_claims(org, now - timedelta(days=2)),
            "exp": int((now - timedelta(seconds=31)).timestamp()),
        },
    ),
    "iat beyond the leeway": lambda org, now: forge(
        HS256, {**good_claims(org, now), "iat": int((now + timedelta(seconds=90)).timestamp())}
    ),
    "nbf in the future": lambda org, now: forge(
        HS256, {**good_claims(org, now), "nbf": int((now + timedelta(hours=1)).timestamp())}
    ),
    "sub names another organization": lambda org, now: forge(
        HS256, {**good_claims(org, now), "sub": str(org + 1)}
    ),
    "older key generation": lambda org, now: forge(HS256, good_claims(org, now, generation=0)),
    "huge exp": lambda org, now: forge(HS256, {**good_claims(org, now), "exp": 2**62}),
    "not base64": lambda org, now: "@@@.###.$$$",
    "too long": lambda org, now: forge(HS256, {**good_claims(org, now), "pad": "x" * 3500}),
}

# Accepted: within the leeway, the service's own clock decides.
ACCEPTED_TOKENS: dict[str, Callable[[int, datetime], str]] = {
    "fresh": lambda org, now: forge(HS256, good_claims(org, now)),
    "iat within the leeway": lambda org, now: forge(
        HS256, {**good_claims(org, now), "iat": int((now + timedelta(seconds=20)).timestamp())}
    ),
    "expired within the leeway": lambda org, now: forge(
        HS256,
        {
            **good_claims(org, now - timedelta(days=1)),
            "exp": int((now - timedelta(seconds=10)).timestamp()),
        },
    ),
}
