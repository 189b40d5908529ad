"""Access keys to tokens, and tokens to the organization a request may act for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from server.config import Clock
from server.errors import PermissionDenied, Unauthenticated
from server.tokens import InvalidToken, mint_token, read_token
from store import organizations
from store.keys import ACCESS_KEY_LENGTH, access_key_matches
from store.models import Organization

INVALID_ACCESS_KEY = "Invalid Access Key"
UNAUTHORIZED_ACCESS = "Unauthorized Access"
NOT_AUTHORIZED = "Not Authorized"
# Keys are 24 characters; a much longer value is refused without hashing it.
MAX_ACCESS_KEY_CHARS = 16 * ACCESS_KEY_LENGTH


@dataclass(frozen=True)
class IssuedToken:
    token: str
    organization_id: int
    expires_at: datetime


def bearer_token(authorization: str | None) -> str | None:
    """The token of an authorization value; "Bearer " is optional for legacy clients."""
    if not authorization:
        return None
    value = authorization.strip()
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() == "bearer":
        value = rest.strip()
    return value or None


class Authenticator:
    """Mints tokens for access keys and resolves tokens to organizations."""

    def __init__(self, secret: str, ttl: timedelta, clock: Clock) -> None:
        self._secret = secret
        self._ttl = ttl
        self._clock = clock

    def authenticate(self, access_key: str) -> IssuedToken:
        """A token for the organization holding `access_key`; Unauthenticated otherwise.

        The key is looked up by its sha256 digest, so the database compares digests, never
        the key: how long that comparison takes can tell an attacker at most a prefix of the
        digest of a key they already hold, which brings them no closer to another key (that
        would take a sha256 preimage). The key found is then checked against the digest
        once more in constant time (hmac.compare_digest).
        """
        usable = 0 < len(access_key) <= MAX_ACCESS_KEY_CHARS
        org = organizations.find_by_access_key(access_key) if usable else None
        if org is None or not access_key_matches(access_key, org.access_key_digest or ""):
            raise Unauthenticated(INVALID_ACCESS_KEY)
        token, expires_at = mint_token(
            self._secret, org.id, org.key_generation, self._clock(), self._ttl
        )
        return IssuedToken(token, org.id, expires_at)

    def organization_for(self, authorization: str | None) -> Organization:
        """The organization a token names; Unauthenticated when it names none that exists."""
        token = bearer_token(authorization)
        if token is None:
            raise Unauthenticated(UNAUTHORIZED_ACCESS)
        try:
            claims = read_token(self._secret, token, self._clock())
        except InvalidToken as exc:
            raise Unauthenticated(UNAUTHORIZED_ACCESS) from exc
        org = organizations.get_organization(claims.organization_id)
        # A rotated key revokes every token minted from the old one.
        if org is None or org.key_generation != claims.key_generation:
            raise Unauthenticated(UNAUTHORIZED_ACCESS)
        return org

    def authorize(self, authorization: str | None, organization_id: int) -> Organization:
        """The token's organization, which must be the one the request names."""
        org = self.organization_for(authorization)
        if org.id != organization_id:
            raise PermissionDenied(NOT_AUTHORIZED)
        return org
