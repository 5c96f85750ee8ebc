"""bcrypt hashing, off the event loop (a cost-12 hash takes ~250 ms of CPU)."""

from __future__ import annotations

import asyncio
from functools import lru_cache

import bcrypt

from ..errors import BadInput

MIN_PASSWORD_BYTES = 8
# bcrypt silently ignores everything past 72 bytes; refusing longer passwords is honest.
MAX_PASSWORD_BYTES = 72


def validate_password(password: str) -> bytes:
    raw = password.encode()
    if not MIN_PASSWORD_BYTES <= len(raw) <= MAX_PASSWORD_BYTES:
        raise BadInput(
            f"Password must be {MIN_PASSWORD_BYTES} to {MAX_PASSWORD_BYTES} bytes long", field="password"
        )
    return raw


async def hash_password(password: str, rounds: int) -> str:
    raw = validate_password(password)
    hashed = await asyncio.to_thread(bcrypt.hashpw, raw, bcrypt.gensalt(rounds))
    return hashed.decode()


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(rounds))


async def verify_password(password: str, password_hash: str | None, rounds: int) -> bool:
    """Checks a password. With no hash (unknown user) it still spends a full bcrypt check,
    so the answer for an unknown email takes as long as for a wrong password."""
    raw = password.encode()[: MAX_PASSWORD_BYTES + 1]
    target = password_hash.encode() if password_hash else _dummy_hash(rounds)
    matches = await asyncio.to_thread(bcrypt.checkpw, raw, target)
    return matches and password_hash is not None
