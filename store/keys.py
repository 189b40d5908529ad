"""Organization access keys: generated once, stored only as a digest."""

from __future__ import annotations

import hashlib
import hmac
import secrets

ACCESS_KEY_LENGTH = 24


def generate_access_key() -> str:
    """A new random key of 24 URL-safe characters (144 bits)."""
    # 18 random bytes are exactly 24 base64url characters, with no padding.
    return secrets.token_urlsafe(ACCESS_KEY_LENGTH * 3 // 4)


def digest_access_key(key: str) -> str:
    """The sha256 hex digest under which a key is stored and looked up."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def access_key_matches(key: str, digest: str) -> bool:
    """Whether a key has this digest, compared in constant time."""
    return hmac.compare_digest(digest_access_key(key), digest)
