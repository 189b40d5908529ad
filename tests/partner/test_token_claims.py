"""The token's claims as the README describes them: `sub` the organization id as a string
(RFC 7519's StringOrURI), `org`, `kgen`, `iat` and `exp` integers; the service's verification
accepts exactly that and refuses a `sub` that is a number."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest

from server.tokens import InvalidToken, mint_token, read_token
from tests.reliability.forged import HS256, forge

README = Path(__file__).resolve().parents[2] / "README.md"
SECRET = "token-claims-test-secret-0123456789abcdef"
NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
ORG = 5


def _claims(**changes: Any) -> dict[str, Any]:
    claims = {
        "sub": str(ORG),
        "org": ORG,
        "kgen": 1,
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + timedelta(hours=24)).timestamp()),
    }
    return {**claims, **changes}


def test_an_issued_tokens_sub_is_the_organization_id_as_a_string() -> None:
    token, _ = mint_token(SECRET, ORG, 1, NOW, timedelta(hours=24))
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "5" and claims["org"] == 5
    assert all(type(claims[name]) is int for name in ("org", "kgen", "iat", "exp"))


def test_verification_accepts_the_documented_claims() -> None:
    token = jwt.encode(_claims(), SECRET, algorithm="HS256")
    assert read_token(SECRET, token, NOW).organization_id == ORG


@pytest.mark.parametrize(
    "sub", [ORG, "05", " 5", "6"], ids=["a number", "zero-padded", "spaced", "another org"]
)
def test_verification_refuses_any_other_sub(sub: Any) -> None:
    # PyJWT refuses a non-string `sub` when encoding too; the header and payload are built
    # by hand so that the service's own check is what refuses it.
    token = forge(HS256, _claims(sub=sub), key=SECRET.encode())
    with pytest.raises(InvalidToken):
        read_token(SECRET, token, NOW)


def test_the_readme_says_sub_is_a_string() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert re.search(r"`sub` a required string", text)
    assert not re.search(r"`sub`[^.;]*required integers", text)
