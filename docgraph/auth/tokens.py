"""Access JWTs (joserfc, Authlib's JOSE library) and opaque rotating refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from ..errors import Unauthenticated

ISSUER = "docgraph"
AUDIENCE = "docgraph-api"
ACCESS_TYPE = "at+jwt"
ALGORITHM = "HS256"  # the only algorithm accepted: no `none`, no RSA/HMAC confusion


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    organization_id: uuid.UUID | None
    session_id: uuid.UUID  # the refresh-token family; logout revokes it
    token_id: str
    expires_at: int


class TokenSigner:
    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._key = OctKey.import_key(secret.encode())
        self._kid = hashlib.sha256(secret.encode()).hexdigest()[:16]
        self.ttl = ttl_seconds
        self._registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": ISSUER},
            aud={"essential": True, "value": AUDIENCE},
            sub={"essential": True},
            exp={"essential": True},
            sid={"essential": True},
            leeway=5,
        )

    def issue(self, user_id: uuid.UUID, organization_id: uuid.UUID | None, session_id: uuid.UUID) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER, "aud": AUDIENCE, "sub": str(user_id),
            "org": str(organization_id) if organization_id else None,
            "sid": str(session_id), "jti": secrets.token_hex(8),
            "iat": now, "nbf": now, "exp": now + self.ttl,
        }
        header = {"alg": ALGORITHM, "typ": ACCESS_TYPE, "kid": self._kid}
        return jwt.encode(header, claims, self._key, algorithms=[ALGORITHM])

    def verify(self, token: str) -> AccessClaims:
        try:
            decoded = jwt.decode(token, self._key, algorithms=[ALGORITHM])
            if decoded.header.get("typ") != ACCESS_TYPE or decoded.header.get("kid") != self._kid:
                raise Unauthenticated("Invalid access token")
            self._registry.validate(decoded.claims)
            claims = decoded.claims
            return AccessClaims(
                user_id=uuid.UUID(claims["sub"]),
                organization_id=uuid.UUID(claims["org"]) if claims.get("org") else None,
                session_id=uuid.UUID(claims["sid"]),
                token_id=str(claims.get("jti", "")),
                expires_at=int(claims["exp"]),
            )
        except Unauthenticated:
            raise
        except (JoseError, ValueError, KeyError, TypeError) as exc:
            raise Unauthenticated("Invalid or expired access token") from exc


def new_refresh_token() -> tuple[str, str]:
    """A fresh opaque refresh token and the hash that is stored in its place."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
