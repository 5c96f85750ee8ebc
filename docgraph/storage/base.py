"""The storage contract shared by the filesystem and S3 backends, plus the stream helpers both use.

Keys are chosen by the caller (blobs are content-addressed: ``{org}/blobs/{sha256}``); storage
never sees user file names except when building a download disposition.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol, runtime_checkable
from urllib.parse import quote

MiB = 1024 * 1024
# S3's rules, applied to both backends so that code tested on disk behaves the same on S3.
MIN_PART_SIZE = 5 * MiB
MAX_PART_NUMBER = 10_000
MAX_KEY_LENGTH = 1024

# Dot-prefixed components are forbidden: this excludes "." and "..", and leaves names such as
# ".multipart" and ".tmp-*" free for the filesystem backend's own bookkeeping.
_COMPONENT = r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}"
_KEY_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_PREFIX_RE = re.compile(rf"(?:{_COMPONENT}/)*(?:{_COMPONENT})?")


class StorageError(Exception):
    """The backend failed or refused the operation."""


class StorageSizeExceeded(StorageError):
    """A stream was longer than the allowed maximum; nothing was stored."""


class ObjectNotFound(StorageError):
    """No object (or multipart upload) under that key."""


class ObjectCorrupted(StorageError):
    """Stored bytes failed their integrity check (encrypted filesystem only)."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    sha256: str  # hex digest of the plaintext


class ObjectInfo(NamedTuple):
    key: str
    size: int
    last_modified: datetime  # timezone-aware UTC


@dataclass(frozen=True, slots=True)
class ReencryptionBatch:
    """One step of a key rotation pass over the stored objects."""

    cursor: list[str] | None  # where the next step starts; None once the pass reached the end
    examined: int
    reencrypted: int
    key_id: str | None  # the key objects were re-encrypted with (None: nothing to do here)


class PartInfo(NamedTuple):
    part_number: int
    etag: str
    size: int


@runtime_checkable
class Storage(Protocol):
    async def put_stream(
        self, key: str, chunks: AsyncIterable[bytes], *, max_size: int | None = None
    ) -> StoredObject:
        """Store a stream under ``key`` (replacing it) with constant memory.

        On StorageSizeExceeded or any other failure nothing is left behind.
        """

    async def promote(self, staging_key: str, final_key: str) -> None:
        """Move ``staging_key`` to ``final_key``; if ``final_key`` exists (same content, since
        keys are content hashes) the staging object is just deleted."""

    async def put_content_addressed(
        self, prefix: str, chunks: AsyncIterable[bytes], *, max_size: int | None = None
    ) -> StoredObject:
        """Stage, hash and promote to ``{prefix}/blobs/{sha256}``."""

    def open_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Async generator over bytes ``start..end`` (inclusive, like HTTP Range; ``end`` is
        clamped to the object). ObjectNotFound is raised on first iteration, so call ``head``
        first when a response status depends on it. An unsatisfiable range yields nothing."""

    async def head(self, key: str) -> int | None:
        """Size in bytes, or None if missing."""

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None:
        """Idempotent."""

    def list_keys(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        """Async generator over objects whose key starts with ``prefix`` (order unspecified)."""

    async def presigned_get_url(
        self,
        key: str,
        *,
        expires_in: int,
        filename: str,
        content_type: str,
        disposition: str = "attachment",
    ) -> str | None:
        """A direct download URL, or None when the app must serve the bytes itself."""

    async def create_multipart(self, key: str) -> str:
        """Start a resumable upload to ``key``; returns the upload id."""

    async def presigned_part_url(
        self, key: str, upload_id: str, part_number: int, *, expires_in: int
    ) -> str | None:
        """A URL the client PUTs one part to (its ETag header is the part's etag), or None
        when the app must receive parts itself and call ``put_part``."""

    async def put_part(
        self,
        key: str,
        upload_id: str,
        part_number: int,
        chunks: AsyncIterable[bytes],
        *,
        max_size: int | None = None,
    ) -> str:
        """Store one part (1..10000); uploading the same number again replaces it. Returns
        its etag. Every part but the last must be at least MIN_PART_SIZE (5 MiB)."""

    async def list_parts(self, key: str, upload_id: str) -> list[PartInfo]: ...

    async def complete_multipart(
        self, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> None:
        """Assemble ``(part_number, etag)`` parts, ascending, into ``key``."""

    async def abort_multipart(self, key: str, upload_id: str) -> None:
        """Idempotent."""

    async def check(self) -> None:
        """Raise StorageError if the backend is unusable (for /readyz)."""

    async def close(self) -> None: ...


def validate_key(key: str) -> str:
    """Allow only ``[A-Za-z0-9._-]`` components joined by single slashes, none dot-prefixed."""
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not _KEY_RE.fullmatch(key):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """Like a key, but may be empty or end with a slash (listing prefixes)."""
    if len(prefix) > MAX_KEY_LENGTH or not _PREFIX_RE.fullmatch(prefix):
        raise ValueError(f"invalid storage prefix: {prefix!r}")
    return prefix


def validate_part_number(part_number: int) -> int:
    if not 1 <= part_number <= MAX_PART_NUMBER:
        raise ValueError(f"part number must be 1..{MAX_PART_NUMBER}, got {part_number}")
    return part_number


def validate_parts(parts: list[tuple[int, str]]) -> list[int]:
    """Part numbers of a completion request: each once, ascending (as S3 demands)."""
    numbers = [number for number, _ in parts]
    if not numbers or numbers != sorted(set(numbers)):
        raise StorageError("parts must be listed once each, in ascending order")
    return numbers


def check_range(start: int, end: int | None) -> None:
    if start < 0 or (end is not None and end < start):
        raise ValueError(f"invalid byte range {start}-{end}")


class HashingStream:
    """Pass chunks through while counting and hashing them; enforce ``max_size``.

    The limit is checked before a chunk is handed on, so an oversized upload never writes more
    than ``max_size`` bytes.
    """

    def __init__(self, chunks: AsyncIterable[bytes], max_size: int | None = None):
        self._chunks = chunks
        self._max_size = max_size
        self._hash = hashlib.sha256()
        self.size = 0

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            if not chunk:
                continue
            self.size += len(chunk)
            if self._max_size is not None and self.size > self._max_size:
                raise StorageSizeExceeded(f"stream exceeds {self._max_size} bytes")
            self._hash.update(chunk)
            yield chunk


async def rechunk(chunks: AsyncIterable[bytes], size: int) -> AsyncGenerator[bytearray, None]:
    """Regroup a stream into blocks of exactly ``size`` bytes (the last may be shorter).

    Each block is a fresh preallocated bytearray handed over to the consumer, so nothing is
    copied twice and at most one block is being filled at a time.
    """
    buf, pos = bytearray(size), 0
    async for chunk in chunks:
        view = memoryview(chunk)
        while view:
            n = min(len(view), size - pos)
            buf[pos : pos + n] = view[:n]
            pos, view = pos + n, view[n:]
            if pos == size:
                yield buf
                buf, pos = bytearray(size), 0
    if pos:
        del buf[pos:]
        yield buf


def staging_key(prefix: str) -> str:
    return f"{prefix}/staging/{uuid.uuid4().hex}"


class StorageBase:
    """Behaviour written once in terms of the primitives every backend implements."""

    async def put_content_addressed(
        self, prefix: str, chunks: AsyncIterable[bytes], *, max_size: int | None = None
    ) -> StoredObject:
        validate_key(prefix)
        staged = await self.put_stream(staging_key(prefix), chunks, max_size=max_size)
        final_key = f"{prefix}/blobs/{staged.sha256}"
        try:
            await self.promote(staged.key, final_key)
        except BaseException:
            await self.delete(staged.key)
            raise
        return StoredObject(final_key, staged.size, staged.sha256)

    async def exists(self, key: str) -> bool:
        return await self.head(key) is not None

    # Key rotation: only the encrypted filesystem backend seals objects itself; S3 encrypts on
    # the server (SSE-S3 or SSE-KMS, whose keys rotate in KMS), so there is nothing to do.

    def needs_reencryption(self) -> bool:
        """Whether some object may be sealed with another key than the newest (or none)."""
        return False

    async def reencrypt(self, after: list[str] | None, *, limit: int, max_bytes: int) -> ReencryptionBatch:
        """Re-encrypt the next `limit` objects after `after` (at most about `max_bytes` of them)
        that are not under the newest key."""
        return ReencryptionBatch(None, 0, 0, None)

    async def finish_reencryption(self, key_id: str) -> None:
        """Record that a whole pass found every object under `key_id`."""

    async def key_usage(self) -> dict[str, int]:
        """How many objects each key seals ("plaintext": none)."""
        return {}


async def hash_object(storage: Storage, key: str) -> StoredObject:
    """Read an object back to get its size and SHA-256 (e.g. after a multipart upload)."""
    stream = HashingStream(storage.open_range(key))
    async for _ in stream:
        pass
    return StoredObject(key, stream.size, stream.sha256)


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """RFC 6266 header value: an ASCII fallback plus the exact UTF-8 name in ``filename*``."""
    if disposition not in ("attachment", "inline"):
        raise ValueError(f"invalid disposition: {disposition!r}")
    name = "".join(c for c in filename if c.isprintable()).replace("/", "_").replace("\\", "_")
    name = name.strip() or "download"
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r'["%;]', "_", ascii_name).strip() or "download"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
