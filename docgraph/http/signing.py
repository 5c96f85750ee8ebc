"""Short-lived signed links: /files/<token> downloads and /uploads/<id>/parts/<n> part uploads.

A token is kid "." base64url(JSON claims) "." base64url(HMAC-SHA256 of kid "." claims). The
kid names the signing key (the newest of the keyring when signed; any key still in the keyring
verifies, so links signed before a rotation work until they expire). The HMAC key is derived
from that key and the token's purpose, so a download token can never pass as a part-upload
token. The claims carry their expiry ("exp", Unix seconds) and what they are bound to.

Tokens from before key ids (two parts: claims "." mac) are checked against every key.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import time
from typing import Any

from ..keyring import Key, Keyring


class BadToken(Exception):
    """Malformed, forged, for another purpose, or expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@functools.lru_cache(maxsize=64)
def _purpose_key(key: Key, purpose: str) -> bytes:
    return hmac.new(key.material, f"docgraph link:{purpose}".encode(), hashlib.sha256).digest()


def _mac(key: Key, purpose: str, signed: str) -> bytes:
    return hmac.new(_purpose_key(key, purpose), signed.encode(), hashlib.sha256).digest()


class LinkSigner:
    def __init__(self, keys: Keyring) -> None:
        self.keys = keys

    def sign(self, purpose: str, claims: dict[str, Any], *, expires_at: float) -> str:
        key = self.keys.current
        body = _b64(json.dumps({**claims, "exp": int(expires_at)}, separators=(",", ":")).encode())
        signed = f"{key.id}.{body}"
        return f"{signed}.{_b64(_mac(key, purpose, signed))}"

    def verify(self, purpose: str, token: str) -> dict[str, Any]:
        parts = token.split(".")
        try:
            if len(parts) == 3:
                kid, body, mac = parts
                key = self.keys.find(kid)
                candidates = [(key, f"{kid}.{body}")] if key else []
            elif len(parts) == 2:
                body, mac = parts
                candidates = [(key, body) for key in self.keys.keys]
            else:
                raise BadToken("malformed token")
            given = _unb64(mac)
            if not any(hmac.compare_digest(_mac(key, purpose, signed), given) for key, signed in candidates):
                raise BadToken("bad signature")
            claims = json.loads(_unb64(body))
        except (binascii.Error, ValueError, UnicodeError):
            raise BadToken("malformed token") from None
        if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
            raise BadToken("expired token")
        return claims


@functools.lru_cache(maxsize=4)
def link_signer(keys: Keyring) -> LinkSigner:
    return LinkSigner(keys)
