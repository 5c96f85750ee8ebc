"""Access JWTs (joserfc, Authlib's JOSE library) and opaque rotating refresh tokens.

Access tokens are signed with the newest key of the signing keyring and name it in their `kid`
header; any key still in the keyring verifies, so a token signed before a rotation keeps
working until it expires."""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import GuestProtocol, OctKey

from ..config import Settings
from ..errors import Unauthenticated
from ..keyring import Key, Keyring, add_key, configured, file_keyring

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


SIGNING_KEY_FILE = "signing_keys.json"
LEGACY_SECRET_FILE = "secret_key"  # noqa: S105 - a file name: where versions before keyrings kept their one key


def signing_keyring(secrets: str) -> Keyring:
    """A keyring of comma-separated secrets, newest first (the SECRET_KEY setting)."""
    return configured(secrets, str.encode)


def signing_keys(settings: Settings) -> Keyring:
    """`SECRET_KEY` when set, else the keyring kept in the data directory (made on first use)."""
    if settings.secret_key:
        return _configured_signing_keys(settings.secret_key)
    return _data_dir_signing_keys(settings.data_dir.resolve())


@functools.cache
def _configured_signing_keys(secrets: str) -> Keyring:
    return signing_keyring(secrets)


def _new_secret() -> bytes:
    return secrets.token_urlsafe(48).encode()


@functools.cache  # one keyring object per process and data dir: it reloads itself
def _data_dir_signing_keys(data_dir: Path) -> Keyring:
    legacy = data_dir / LEGACY_SECRET_FILE
    keys = file_keyring(data_dir / SIGNING_KEY_FILE, _new_secret,
                        first=lambda: legacy.read_text().strip().encode() if legacy.exists() else None)
    legacy.unlink(missing_ok=True)  # its key lives on in the keyring, with the same id
    return keys


def longest_signed_lifetime(settings: Settings) -> int:
    """Seconds the longest-lived thing signed with a key stays valid: access tokens, download
    links, upload part links (valid as long as their session)."""
    return max(settings.access_token_ttl, settings.download_url_ttl, settings.upload_session_ttl)


def rotate_signing_key(settings: Settings) -> Key:
    """A new signing key, first in the data directory's keyring. Keys superseded longer ago than
    anything they signed can live are dropped: nothing they signed is valid any more."""
    if settings.secret_key:
        raise ValueError("SECRET_KEY is set: put the new key first in it instead")
    keys = signing_keys(settings)
    if keys.path is None:  # not from SECRET_KEY, checked above: from the data directory's file
        raise ValueError("the signing keys are not kept in a file")
    horizon = time.time() - longest_signed_lifetime(settings) - 60
    return add_key(keys.path, _new_secret, keep=lambda key, superseded_at: superseded_at > horizon)


class TokenSigner:
    def __init__(self, keys: Keyring | str, ttl_seconds: int) -> None:
        self.keys = signing_keyring(keys) if isinstance(keys, str) else keys
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
        key = self.keys.current
        header = {"alg": ALGORITHM, "typ": ACCESS_TYPE, "kid": key.id}
        return jwt.encode(header, claims, _jwk(key), algorithms=[ALGORITHM])

    def _verifying_key(self, token: GuestProtocol) -> OctKey:
        kid = token.headers().get("kid")
        key = self.keys.find(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthenticated("Invalid access token")
        return _jwk(key)

    def verify(self, token: str) -> AccessClaims:
        try:
            decoded = jwt.decode(token, self._verifying_key, algorithms=[ALGORITHM])
            if decoded.header.get("typ") != ACCESS_TYPE:
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


@functools.lru_cache(maxsize=16)
def _jwk(key: Key) -> OctKey:
    return OctKey.import_key(key.material)


def new_refresh_token() -> tuple[str, str]:
    """A fresh opaque refresh token and the hash that is stored in its place."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
