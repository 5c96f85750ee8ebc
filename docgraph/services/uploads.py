"""Upload sessions: large or resumable uploads in parts, then one completion.

startUpload checks what it can up front (target, permission, lock, declared type, size, quota)
and opens a multipart upload on a staging key: on S3 the client PUTs each part to a presigned
URL; on the filesystem to the app's part endpoint (`receive_part`). Parts can be sent again
(the last one sent wins). completeUpload checks every part, assembles them, verifies the size
and the SHA-256 (when given), and creates the document or version through the same use case as
uploadDocument / replaceDocument, in the same transaction that marks the session COMPLETED.

When the organization already stores content with the given SHA-256 and size, the session
needs no parts at all: completion makes the version from the stored blob.

Storage is reserved at start: an open session's declared size counts against the organization's
quota until it completes or closes (content.check_quota), and a user and an organization may
hold only so many open sessions (`OpenLimits`). Parts go as soon as a session closes: at
completion, when its owner cancels it (`cancel_upload`), when it has made no progress for
`upload_idle_seconds` (`reclaim_abandoned`), and at its expiry (`expire_sessions`) — the last
three run by the worker's sweep or at once, and mark the session ABORTED or EXPIRED.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .. import permissions
from ..auth.principal import Principal
from ..config import Settings
from ..db import Database
from ..errors import BadInput, Conflict, DocgraphError, NotFound, PayloadTooLarge, QuotaExceeded
from ..models import Approval, Blob, Document, UploadSession
from ..models.base import utcnow
from ..permissions import DOCUMENT, FOLDER, Capability
from ..storage import MIN_PART_SIZE, ObjectNotFound, Storage, StorageError, StorageSizeExceeded
from ..storage.base import MAX_PART_NUMBER, staging_key
from . import audit
from .content import (
    NewContent,
    check_quota,
    describe_stored,
    discard_staged,
    existing_blob,
    lock_quota,
    policy_in,
    read_sample,
)
from .documents import create_document_in, ensure_may_change, replace_document_in
from .validation import (
    MAX_NAME_LENGTH,
    clean_document_name,
    clean_sha256,
    name_from_file_name,
    normalize_content_type,
)


@dataclass(frozen=True)
class OpenLimits:
    """Open sessions one user, and one organization, may hold."""

    per_user: int
    per_organization: int

    @classmethod
    def of(cls, settings: Settings) -> OpenLimits:
        return cls(settings.max_open_uploads_per_user, settings.max_open_uploads_per_organization)


@dataclass(frozen=True)
class StartedUpload:
    session: UploadSession
    # One entry per part: a presigned URL, or None where the app's part endpoint takes it.
    part_urls: list[str | None]


def part_count(session: UploadSession) -> int:
    """Parts a session needs: none when the content is already stored, else at least one."""
    if session.multipart_upload_id is None:
        return 0
    return max(1, -(-session.size // session.part_size))


def expected_part_size(session: UploadSession, part_number: int) -> int:
    count = part_count(session)
    return session.part_size if part_number < count else session.size - (count - 1) * session.part_size


@audit.audited("CREATE", "DOCUMENT", resource="document_id")
async def start_upload(db: Database, actor: Principal, *, storage: Storage, folder_id: uuid.UUID | None,
                       document_id: uuid.UUID | None, file_name: str, content_type: str, size: int,
                       sha256: str | None, part_size: int, ttl_seconds: int, limits: OpenLimits) -> StartedUpload:
    organization_id = actor.require_organization()
    if (folder_id is None) == (document_id is None):
        raise BadInput("Give exactly one of folderId (new document) or documentId (new version)")
    if folder_id is not None:
        clean_document_name(name_from_file_name(file_name))  # it becomes the default name
    file_name = (name_from_file_name(file_name) or "")[:MAX_NAME_LENGTH]
    if not file_name:
        raise BadInput("fileName cannot be empty", field="fileName")
    if size < 0:
        raise BadInput("size cannot be negative", field="size")
    content_type, sha256 = normalize_content_type(content_type), clean_sha256(sha256)
    # Enough parts for the size, within S3's 10,000.
    part_size = max(part_size, MIN_PART_SIZE, -(-size // MAX_PART_NUMBER))
    now = utcnow()
    async with db.transaction() as session:
        if folder_id is not None:
            await permissions.require(session, actor, FOLDER, folder_id, Capability.CREATE)
        else:
            access = await permissions.require(session, actor, DOCUMENT, document_id, Capability.UPDATE)
            ensure_may_change(await session.get(Document, document_id), actor, access)
        policy = await policy_in(session, organization_id)
        policy.check_declared_type(content_type)
        policy.check_size(size)
        await lock_quota(session, organization_id)  # the caps and the reservation, one start at a time
        await _check_open_sessions(session, actor, limits, now)
        stored = await existing_blob(session, organization_id, sha256) if sha256 else None
        if stored is not None and (stored.purged_at is not None or stored.size != size):
            stored = None
        if stored is None:
            await check_quota(session, policy, organization_id, size)  # reserved from now on
        row = UploadSession(
            organization_id=organization_id, user_id=actor.user_id, folder_id=folder_id, document_id=document_id,
            file_name=file_name, content_type=content_type, size=size, sha256=sha256, part_size=part_size,
            existing_blob_id=stored.id if stored else None, expires_at=now + timedelta(seconds=ttl_seconds),
        )
        if stored is not None:
            session.add(row)
            return StartedUpload(row, [])
        row.staging_key = staging_key(str(organization_id))
        row.multipart_upload_id = await storage.create_multipart(row.staging_key)
        try:
            session.add(row)
            await session.flush()
            urls = [await storage.presigned_part_url(row.staging_key, row.multipart_upload_id, number,
                                                     expires_in=ttl_seconds)
                    for number in range(1, part_count(row) + 1)]
        except BaseException:
            await storage.abort_multipart(row.staging_key, row.multipart_upload_id)
            raise
    return StartedUpload(row, urls)


async def receive_part(db: Database, *, storage: Storage, session_id: uuid.UUID, user_id: uuid.UUID,
                       part_number: int, chunks: AsyncIterable[bytes]) -> str:
    """Store one part sent to the app's endpoint (filesystem backend); returns its etag."""
    async with db.reading() as session:
        row = await session.get(UploadSession, session_id)
    if row is None or row.user_id != user_id:
        raise NotFound("Upload session not found")
    _ensure_open(row)
    if not 1 <= part_number <= part_count(row):
        raise BadInput(f"This upload has parts 1 to {part_count(row)}", field="partNumber")
    limit = expected_part_size(row, part_number)
    try:
        etag = await storage.put_part(row.staging_key, row.multipart_upload_id, part_number, chunks, max_size=limit)
    except StorageSizeExceeded:
        raise PayloadTooLarge(f"Part {part_number} must be {limit} bytes", maxSize=limit) from None
    except ObjectNotFound:  # completed, aborted or expired meanwhile
        raise Conflict("This upload session is closed") from None
    async with db.transaction() as session:
        await session.execute(update(UploadSession).where(UploadSession.id == row.id).values(active_at=utcnow()))
    return etag


async def _check_open_sessions(session: AsyncSession, actor: Principal, limits: OpenLimits, now: datetime) -> None:
    counts = (await session.execute(
        select(func.count().filter(UploadSession.user_id == actor.user_id), func.count())
        .where(UploadSession.organization_id == actor.organization_id, UploadSession.status == "OPEN",
               UploadSession.expires_at > now))).one()
    for held, limit, whose in ((counts[0], limits.per_user, "You have"), (counts[1], limits.per_organization,
                                                                          "Your organization has")):
        if held >= limit:
            raise QuotaExceeded(f"{whose} {held} uploads in progress, the most allowed: complete or cancel "
                                f"some first", openUploads=held, limit=limit)


async def resume_upload(db: Database, actor: Principal, *, storage: Storage,
                        session_id: uuid.UUID) -> StartedUpload | None:
    """The actor's own open upload session, with its part URLs issued again until it expires, so
    a client that lost them can go on; None for anyone else's, a closed or an expired one."""
    async with db.reading() as session:
        row = await session.get(UploadSession, session_id)
    now = utcnow()
    if (row is None or row.user_id != actor.user_id or row.organization_id != actor.organization_id
            or row.status != "OPEN" or row.expires_at <= now):
        return None
    if row.multipart_upload_id is None:
        return StartedUpload(row, [])
    seconds = max(1, int((row.expires_at - now).total_seconds()))
    return StartedUpload(row, [await storage.presigned_part_url(row.staging_key, row.multipart_upload_id, number,
                                                                expires_in=seconds)
                               for number in range(1, part_count(row) + 1)])


def _ensure_open(row: UploadSession, now: datetime | None = None) -> None:
    if row.status != "OPEN":
        raise Conflict(f"This upload session is {row.status.lower()}")
    if row.expires_at <= (now or utcnow()):
        raise Conflict("This upload session has expired")


@audit.audited("CREATE", "DOCUMENT", resource="document_id")
async def complete_upload(db: Database, actor: Principal, *, storage: Storage, upload_id: uuid.UUID,
                          change_comment: str | None = None, name: str | None = None,
                          description: str | None = None, tags: list[str] | None = None,
                          metadata: Any = None) -> Document | Approval:
    actor.require_organization()
    async with db.reading() as session:
        row = await session.get(UploadSession, upload_id)
    if row is None or row.user_id != actor.user_id or row.organization_id != actor.organization_id:
        raise NotFound("Upload session not found")
    _ensure_open(row)
    content = await _assembled_content(db, storage, row)
    try:
        async with db.transaction() as session:
            locked = await session.get(UploadSession, row.id, with_for_update=True, populate_existing=True)
            _ensure_open(locked)
            # Closed first, so its own reservation does not count against the content it brings.
            locked.status, locked.completed_at = "COMPLETED", utcnow()
            await session.flush()
            if locked.document_id is not None:
                document = await replace_document_in(session, actor, storage, document_id=locked.document_id,
                                                     content=content, change_comment=change_comment)
            else:
                document = await create_document_in(
                    session, actor, storage, folder_id=locked.folder_id, content=content, name=name,
                    description=description, tags=tags, metadata=metadata)
    except DocgraphError:
        # The parts are assembled now: the session cannot be completed again. Start over.
        await _abort(db, storage, row, content)
        raise
    return document


async def _assembled_content(db: Database, storage: Storage, row: UploadSession) -> NewContent:
    """The session's content: the stored blob it found at start, or its parts assembled in
    staging and verified against the declared size and SHA-256."""
    if row.existing_blob_id is not None:
        async with db.reading() as session:
            blob = await session.get(Blob, row.existing_blob_id)
        return NewContent(organization_id=row.organization_id, size=blob.size, sha256=blob.sha256,
                          sample=await read_sample(storage, blob.storage_key, blob.size),
                          content_type=row.content_type, file_name=row.file_name, staging_key=None)
    try:
        parts = {p.part_number: p for p in await storage.list_parts(row.staging_key, row.multipart_upload_id)}
    except StorageError:
        raise Conflict("This upload is already being completed") from None
    for number in range(1, part_count(row) + 1):
        part, expected = parts.get(number), expected_part_size(row, number)
        if part is None or part.size != expected:
            raise BadInput(f"Part {number} is missing or is not {expected} bytes; send it again",
                           partNumber=number)
    try:
        await storage.complete_multipart(row.staging_key, row.multipart_upload_id,
                                         [(n, parts[n].etag) for n in range(1, part_count(row) + 1)])
    except StorageError:
        raise Conflict("This upload is already being completed") from None
    content = await describe_stored(storage, row.organization_id, row.staging_key,
                                    content_type=row.content_type, file_name=row.file_name)
    if content.size != row.size or (row.sha256 is not None and content.sha256 != row.sha256):
        await _abort(db, storage, row, content)
        raise BadInput("The uploaded content does not match the declared size or sha256; start again",
                       field="sha256")
    return content


async def _abort(db: Database, storage: Storage, row: UploadSession, content: NewContent) -> None:
    await discard_staged(storage, content)
    async with db.transaction() as session:
        locked = await session.get(UploadSession, row.id, with_for_update=True, populate_existing=True)
        if locked.status == "OPEN":
            locked.status = "ABORTED"


async def cancel_upload(db: Database, actor: Principal, *, storage: Storage, upload_id: uuid.UUID) -> None:
    """The owner gives up an open session: its parts go at once, its reservation with them."""
    async with db.transaction() as session:
        row = await session.get(UploadSession, upload_id, with_for_update=True, populate_existing=True)
        if row is None or row.user_id != actor.user_id or row.organization_id != actor.organization_id:
            raise NotFound("Upload session not found")
        _ensure_open(row)
        await _discard_parts(storage, row)
        row.status = "ABORTED"


async def expire_sessions(session: AsyncSession, storage: Storage, *, limit: int = 200) -> int:
    """Abort the multipart uploads of open sessions past their expiry and mark them EXPIRED
    (in the caller's transaction; idempotent). Returns how many expired."""
    rows = (await session.execute(
        select(UploadSession)
        .where(UploadSession.status == "OPEN", UploadSession.expires_at < utcnow())
        .order_by(UploadSession.expires_at).limit(limit).with_for_update(skip_locked=True)
    )).scalars().all()
    for row in rows:
        await _discard_parts(storage, row)
        row.status = "EXPIRED"
    await session.flush()
    return len(rows)


async def reclaim_abandoned(session: AsyncSession, storage: Storage, *, idle: timedelta, limit: int = 200) -> int:
    """Close open sessions that made no progress for `idle` (in the caller's transaction): no
    part arrived through the app, and the parts in storage (where clients PUT them directly,
    S3) hold no more bytes than at the last look. Returns how many were closed."""
    now = utcnow()
    rows = (await session.execute(
        select(UploadSession)
        .where(UploadSession.status == "OPEN", UploadSession.active_at < now - idle)
        .order_by(UploadSession.active_at).limit(limit).with_for_update(skip_locked=True)
    )).scalars().all()
    closed = 0
    for row in rows:
        received = await _bytes_received(storage, row)
        if received != row.received_bytes:  # progress since the last look: still alive
            row.received_bytes, row.active_at = received, now
            continue
        await _discard_parts(storage, row)
        row.status = "EXPIRED"
        closed += 1
    await session.flush()
    return closed


async def _bytes_received(storage: Storage, row: UploadSession) -> int:
    if row.multipart_upload_id is None:
        return 0
    try:
        parts = await storage.list_parts(row.staging_key, row.multipart_upload_id)
    except StorageError:  # the multipart upload is gone already
        return row.received_bytes
    return sum((part.size for part in parts), 0)


async def _discard_parts(storage: Storage, row: UploadSession) -> None:
    if row.multipart_upload_id is not None:
        await storage.abort_multipart(row.staging_key, row.multipart_upload_id)
        await storage.delete(row.staging_key)  # in case the parts were assembled already
