"""Small helpers shared by the storage tests."""

from __future__ import annotations

import hashlib
import random
from collections.abc import AsyncIterator

KiB, MiB = 1024, 1024 * 1024


def blob(size: int, seed: int = 0) -> bytes:
    return random.Random(seed * 1_000_003 + size).randbytes(size)


async def stream(data: bytes, chunk: int = 64 * KiB) -> AsyncIterator[bytes]:
    for i in range(0, len(data), chunk):
        yield data[i : i + chunk]


async def read(storage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in storage.open_range(key, start, end)])


async def keys(storage, prefix: str = "") -> list[str]:
    return sorted([info.key async for info in storage.list_keys(prefix)])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
