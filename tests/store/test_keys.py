from __future__ import annotations

import hashlib
import re

from store.keys import access_key_matches, digest_access_key, generate_access_key


def test_generated_key_is_24_url_safe_characters() -> None:
    key = generate_access_key()
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", key)


def test_generated_keys_differ() -> None:
    assert len({generate_access_key() for _ in range(100)}) == 100


def test_digest_is_sha256_hex_of_the_key() -> None:
    key = "abcdefghijklmnopqrstuvwx"
    assert digest_access_key(key) == hashlib.sha256(key.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", digest_access_key(key))


def test_access_key_matches_only_its_own_digest() -> None:
    key, other = generate_access_key(), generate_access_key()
    assert access_key_matches(key, digest_access_key(key))
    assert not access_key_matches(other, digest_access_key(key))
