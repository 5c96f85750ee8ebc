"""Short-lived signed links: /files/<token> downloads and /uploads/<id>/parts/<n> part uploads.

A token is base64url(JSON claims) "." base64url(HMAC-SHA256); the key is derived from the app
secret and the token's purpose, so a download token can never pass as a part-upload token.
The claims carry their expiry ("exp", Unix seconds) and what they are bound to.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from functools import lru_cache
from typing import Any


class BadToken(Exception):
    """Malformed, forged, for another purpose, or expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    @lru_cache(maxsize=8)  # noqa: B019 - one signer per process, a handful of purposes
    def _key(self, purpose: str) -> bytes:
        return hmac.new(self._secret, f"docgraph link:{purpose}".encode(), hashlib.sha256).digest()

    def sign(self, purpose: str, claims: dict[str, Any], *, expires_at: float) -> str:
        body = _b64(json.dumps({**claims, "exp": int(expires_at)}, separators=(",", ":")).encode())
        mac = hmac.new(self._key(purpose), body.encode(), hashlib.sha256).digest()
        return f"{body}.{_b64(mac)}"

    def verify(self, purpose: str, token: str) -> dict[str, Any]:
        body, _, mac = token.partition(".")
        try:
            expected = hmac.new(self._key(purpose), body.encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(mac)):
                raise BadToken("bad signature")
            claims = json.loads(_unb64(body))
        except (binascii.Error, ValueError, UnicodeError):
            raise BadToken("malformed token") from None
        if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int) or claims["exp"] < time.time():
            raise BadToken("expired token")
        return claims


@lru_cache(maxsize=4)
def link_signer(secret: str) -> LinkSigner:
    return LinkSigner(secret)
