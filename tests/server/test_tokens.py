from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from server.tokens import InvalidToken, mint_token, read_token

SECRET = "a-secret-long-enough-for-hs256-signing-0123456789"
NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def test_a_minted_token_reads_back_with_its_organization_and_key_generation() -> None:
    token, expires_at = mint_token(SECRET, 5, 3, NOW, DAY)
    claims = read_token(SECRET, token, NOW)
    assert (claims.organization_id, claims.key_generation) == (5, 3)
    assert expires_at == NOW + DAY


def test_a_token_expires_24_hours_after_issue() -> None:
    token, _ = mint_token(SECRET, 5, 1, NOW, DAY)
    read_token(SECRET, token, NOW + DAY - timedelta(seconds=1))
    with pytest.raises(InvalidToken):
        read_token(SECRET, token, NOW + DAY + timedelta(minutes=1))


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token, _ = mint_token("another-secret-of-the-same-length-0123456789ab", 5, 1, NOW, DAY)
    with pytest.raises(InvalidToken):
        read_token(SECRET, token, NOW)


def test_an_unsigned_token_is_refused() -> None:
    claims = {
        "sub": "5",
        "org": 5,
        "kgen": 1,
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + DAY).timestamp()),
    }
    token = jwt.encode(claims, None, algorithm="none")
    with pytest.raises(InvalidToken):
        read_token(SECRET, token, NOW)


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "org", "kgen"])
def test_a_token_without_a_required_claim_is_refused(missing: str) -> None:
    claims = {
        "sub": "5",
        "org": 5,
        "kgen": 1,
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + DAY).timestamp()),
    }
    del claims[missing]
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    with pytest.raises(InvalidToken):
        read_token(SECRET, token, NOW)


@pytest.mark.parametrize("garbage", ["", "x", "x.y.z", "Bearer", "eyJ.eyJ.sig"])
def test_malformed_tokens_are_refused(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        read_token(SECRET, garbage, NOW)


def test_a_signature_is_checked_once_per_token_and_the_times_at_every_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decoded: list[str] = []
    real_decode = jwt.decode

    def counting_decode(token: str, *args: Any, **kwargs: Any) -> Any:
        decoded.append(token)
        return real_decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting_decode)
    token, _ = mint_token(SECRET, 8, 1, NOW + timedelta(seconds=7), DAY)
    for _ in range(3):
        assert read_token(SECRET, token, NOW + timedelta(hours=1)).organization_id == 8
    assert decoded == [token]
    # Issued in the future, then expired: both refused although the signature was kept.
    with pytest.raises(InvalidToken):
        read_token(SECRET, token, NOW - timedelta(hours=1))
    with pytest.raises(InvalidToken):
        read_token(SECRET, token, NOW + 2 * DAY)
    # The kept signature is the one of this secret only.
    with pytest.raises(InvalidToken):
        read_token("another-secret-of-the-same-length-0123456789ab", token, NOW)
    assert decoded == [token, token]
