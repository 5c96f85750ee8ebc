"""Content: staging uploaded bytes, and turning staged bytes into the organization's blob.

Write order (DESIGN "Crash-safe writes"): the bytes are streamed to a staging key first
(`stage_stream`, outside any transaction, hashed on the way). The use case's one transaction then
checks everything, and `store_blob` promotes the staging object to its content key
`{organization_id}/blobs/{sha256}` and upserts the `blob` row while holding a per-content
advisory lock. The orphan sweep takes the same lock before it deletes an unreferenced object,
so it can never delete an object that a committing version is about to reference. A crash
leaves at most a staging object or an unreferenced blob object, which the sweep reclaims after
the grace period; a refusal found before `store_blob` leaves nothing (the caller deletes the
staging object).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from sqlalchemy import exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import Database
from ..errors import Conflict, NotFound, PayloadTooLarge, QuotaExceeded
from ..models import Blob, Document, DocumentVersion, Organization, UploadSession
from ..models.base import utcnow
from ..storage import ObjectNotFound, Storage, StorageSizeExceeded
from ..storage.base import staging_key
from .validation import SNIFF_HEAD, SNIFF_TAIL, ContentPolicy

_CONTENT_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 11))")


@dataclass(frozen=True)
class NewContent:
    """Bytes a client sent, already in storage, not yet a blob of the organization."""

    organization_id: uuid.UUID
    size: int
    sha256: str
    sample: bytes             # the first and last bytes, for the type check
    content_type: str         # declared by the client, normalized
    file_name: str | None     # the client's name for it; never used as a storage path
    # Where the bytes wait; None when the organization already stores this content (an upload
    # session that found it at start: nothing was transferred).
    staging_key: str | None


@dataclass(frozen=True)
class StoredContent:
    """Content recorded as the organization's blob: what a new version (or an approval's
    staged content) points at."""

    blob_id: uuid.UUID
    size: int
    content_type: str
    sha256: str
    file_name: str | None

    @classmethod
    def of(cls, blob: Blob, content: NewContent) -> StoredContent:
        return cls(blob_id=blob.id, size=content.size, content_type=content.content_type, sha256=content.sha256,
                   file_name=content.file_name)


def blob_key(organization_id: uuid.UUID, sha256: str) -> str:
    return f"{organization_id}/blobs/{sha256}"


def staging_prefix(organization_id: uuid.UUID) -> str:
    return f"{organization_id}/staging/"


class Sampler:
    """Pass chunks through, keeping the first SNIFF_HEAD and the last SNIFF_TAIL bytes."""

    def __init__(self, chunks: AsyncIterable[bytes]):
        self._chunks = chunks
        self._head = bytearray()
        self._tail = bytearray()

    @property
    def sample(self) -> bytes:
        return bytes(self._head + self._tail)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            self._keep(chunk)
            yield chunk

    def _keep(self, chunk: bytes) -> None:
        room = SNIFF_HEAD - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if len(chunk) >= SNIFF_TAIL:
            self._tail = bytearray(chunk[-SNIFF_TAIL:])
        elif chunk:
            self._tail += chunk
            del self._tail[:-SNIFF_TAIL]


async def stage_stream(storage: Storage, organization_id: uuid.UUID, chunks: AsyncIterable[bytes], *,
                       max_size: int, content_type: str, file_name: str | None) -> NewContent:
    """Write a stream to a fresh staging key with constant memory, hashing it on the way.
    Over `max_size` the write stops at once and nothing is left: PAYLOAD_TOO_LARGE."""
    sampler = Sampler(chunks)
    try:
        stored = await storage.put_stream(staging_key(str(organization_id)), sampler, max_size=max_size)
    except StorageSizeExceeded:
        raise PayloadTooLarge(f"A document may be at most {max_size} bytes", maxSize=max_size) from None
    return NewContent(organization_id=organization_id, size=stored.size, sha256=stored.sha256,
                      sample=sampler.sample, content_type=content_type, file_name=file_name,
                      staging_key=stored.key)


async def describe_stored(storage: Storage, organization_id: uuid.UUID, key: str, *, content_type: str,
                          file_name: str | None) -> NewContent:
    """Hash and sample an object assembled in staging (an upload session's parts), in one read."""
    digest, size = hashlib.sha256(), 0
    sampler = Sampler(storage.open_range(key))
    async for chunk in sampler:
        digest.update(chunk)
        size += len(chunk)
    return NewContent(organization_id=organization_id, size=size, sha256=digest.hexdigest(), sample=sampler.sample,
                      content_type=content_type, file_name=file_name, staging_key=key)


async def read_sample(storage: Storage, key: str, size: int) -> bytes:
    """The sample of an object already in storage (two range reads)."""
    head = b"".join([chunk async for chunk in storage.open_range(key, 0, min(size, SNIFF_HEAD) - 1)]) \
        if size else b""
    if size <= SNIFF_HEAD:
        return head
    start = max(SNIFF_HEAD, size - SNIFF_TAIL)
    return head + b"".join([chunk async for chunk in storage.open_range(key, start, size - 1)])


async def discard_staged(storage: Storage, *contents: NewContent) -> None:
    """Delete staging objects (idempotent: a promoted one is already gone)."""
    for content in contents:
        if content.staging_key is not None:
            await storage.delete(content.staging_key)


# --- the organization's side ----------------------------------------------------------------------

async def policy_in(session: AsyncSession, organization_id: uuid.UUID) -> ContentPolicy:
    organization = await session.get(Organization, organization_id)
    if organization is None:
        raise NotFound("Organization not found")
    return ContentPolicy.of(organization.settings)


async def content_policy(db: Database, organization_id: uuid.UUID) -> ContentPolicy:
    """The policy read in its own short session (for the upload stream, before any use case)."""
    async with db.reading() as session:
        return await policy_in(session, organization_id)


async def lock_content(session: AsyncSession, organization_id: uuid.UUID, sha256: str) -> None:
    """Serialize everything that creates or deletes the object for this content (until commit)."""
    await session.execute(_CONTENT_LOCK, {"key": f"blob:{organization_id}:{sha256}"})


async def storage_used(session: AsyncSession, organization_id: uuid.UUID) -> int:
    """Bytes of the organization's live (not purged) blobs: each content counts once."""
    query = select(func.coalesce(func.sum(Blob.size), 0)).where(
        Blob.organization_id == organization_id, Blob.purged_at.is_(None))
    return int((await session.execute(query)).scalar_one())


async def storage_reserved(session: AsyncSession, organization_id: uuid.UUID) -> int:
    """Bytes that the organization's open upload sessions have declared and may still send."""
    query = select(func.coalesce(func.sum(UploadSession.size), 0)).where(
        UploadSession.organization_id == organization_id, UploadSession.status == "OPEN",
        UploadSession.expires_at > utcnow(), UploadSession.multipart_upload_id.is_not(None))
    return int((await session.execute(query)).scalar_one())


async def lock_quota(session: AsyncSession, organization_id: uuid.UUID) -> None:
    """Serializes what counts against one organization's quota, until the transaction ends."""
    await session.execute(_CONTENT_LOCK, {"key": f"quota:{organization_id}"})


async def check_quota(session: AsyncSession, policy: ContentPolicy, organization_id: uuid.UUID,
                      added: int) -> None:
    """QUOTA_EXCEEDED when `added` new bytes would pass the quota, counting the stored content
    and the sizes open upload sessions reserved. Concurrent checks of one organization are
    serialized (transaction lock), so two uploads cannot both fit the last gap."""
    if policy.storage_quota is None or added == 0:
        return
    await lock_quota(session, organization_id)
    used = await storage_used(session, organization_id)
    reserved = await storage_reserved(session, organization_id)
    if used + reserved + added > policy.storage_quota:
        raise QuotaExceeded(f"This upload needs {added} bytes; the organization uses {used} and uploads in "
                            f"progress reserve {reserved} of its {policy.storage_quota}",
                            used=used, reserved=reserved, quota=policy.storage_quota)


async def existing_blob(session: AsyncSession, organization_id: uuid.UUID, sha256: str, *,
                        for_update: bool = False) -> Blob | None:
    query = select(Blob).where(Blob.organization_id == organization_id, Blob.sha256 == sha256)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(query)).scalar_one_or_none()


async def store_blob(session: AsyncSession, storage: Storage, policy: ContentPolicy,
                     content: NewContent) -> Blob:
    """The organization's blob for `content`, inside the caller's transaction: new content is
    checked against the quota, promoted from staging to its content key and recorded; known
    content is shared (dedupe) and its staging copy dropped."""
    organization_id = content.organization_id
    await lock_content(session, organization_id, content.sha256)
    blob = await existing_blob(session, organization_id, content.sha256, for_update=True)
    stored = blob is not None and blob.purged_at is None
    if not stored:
        await check_quota(session, policy, organization_id, content.size)
    key = blob_key(organization_id, content.sha256)
    if content.staging_key is not None:
        await _promote(storage, content, key)
    elif not stored:
        raise Conflict("This content is no longer stored; upload the file again")
    if blob is None:
        blob = Blob(organization_id=organization_id, sha256=content.sha256, size=content.size, storage_key=key)
        session.add(blob)
        await session.flush()
    elif blob.purged_at is not None:  # purged earlier, stored again now
        blob.purged_at = None
        await session.flush()
    return blob


async def _promote(storage: Storage, content: NewContent, key: str) -> None:
    try:
        await storage.promote(content.staging_key, key)
    except ObjectNotFound:
        # The same staged file was already promoted (one file mapped to two variables).
        if await storage.head(key) != content.size:
            raise


async def live_blob_row(session: AsyncSession, organization_id: uuid.UUID, sha256: str) -> Blob | None:
    return (await session.execute(
        select(Blob).where(Blob.organization_id == organization_id, Blob.sha256 == sha256,
                           Blob.purged_at.is_(None))
        .with_for_update().execution_options(populate_existing=True)
    )).scalar_one_or_none()


async def has_purged_content(session: AsyncSession, *documents) -> bool:
    """Whether a document matching `documents` lost its content to the trash purge: such a
    document cannot come back, its bytes are gone for good."""
    purged = exists().where(
        Document.current_version_id == DocumentVersion.id, DocumentVersion.blob_id == Blob.id,
        Blob.purged_at.is_not(None), *documents)
    return bool((await session.execute(select(purged))).scalar())
