"""The orphan sweep: a periodic worker job that reclaims storage nothing refers to.

What a crash or a refused upload can leave (see services/content.py):
- staging objects (`{org}/staging/...`): an upload that never reached its transaction;
- content objects without a `blob` row (`{org}/blobs/{sha256}`): promoted, then rolled back;
- `blob` rows no version, pending approval or open upload session refers to (a version's
  blob is kept even when its document is in the trash: retention purges those).
Only things older than the grace period (`upload_grace_seconds`) are touched: younger ones may
belong to an upload in flight. A content object is deleted while holding the same per-content
lock that uploads hold while they promote and record it, after checking again that nothing
refers to it; the blob row stays as a tombstone (`purged_at`), revived if the content comes back.
Expired upload sessions, and open ones that made no progress for `upload_idle_seconds`, are
closed first (their multipart uploads aborted).

The same check and deletion serve the `approval.cleanup` job: the staged content of a rejected or
cancelled approval is reclaimed at once, not after the grace period.

Everything is idempotent: deleting a missing object is a no-op, and the checks are repeated.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Approval, Blob, DocumentVersion, Organization, UploadSession
from ..models.base import utcnow
from ..services.approvals import CLEANUP_JOB as APPROVAL_CLEANUP
from ..services.content import live_blob_row, lock_content, staging_prefix
from ..services.uploads import expire_sessions, reclaim_abandoned
from ..storage import Storage
from .jobs import JobContext, handler, job_storage, periodic
from .publish import enqueue

log = logging.getLogger("docgraph.sweep")

KIND = "storage.sweep"
EVERY = timedelta(minutes=15)
DEFAULT_GRACE = timedelta(hours=1)
DEFAULT_SESSION_TTL = timedelta(hours=24)
DEFAULT_IDLE = timedelta(hours=1)
# Deletions per run: each holds a transaction lock until the job commits. More: run again.
MAX_DELETIONS = 500
_CHECK_BATCH = 500
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass
class SweepReport:
    expired_sessions: int = 0
    staging_objects: int = 0
    blob_objects: int = 0
    blob_rows: int = 0

    @property
    def deletions(self) -> int:
        return self.staging_objects + self.blob_objects + self.blob_rows


@periodic(KIND, every=EVERY)
async def sweep_job(context: JobContext, payload: dict) -> None:
    settings = context.settings
    grace = timedelta(seconds=settings.upload_grace_seconds) if settings is not None else DEFAULT_GRACE
    # Parts of an open session may rest untouched until it expires; only older ones are leftovers.
    session_ttl = timedelta(seconds=settings.upload_session_ttl) if settings is not None else DEFAULT_SESSION_TTL
    idle = timedelta(seconds=settings.upload_idle_seconds) if settings is not None else DEFAULT_IDLE
    async with job_storage(context) as storage:
        report = await sweep(context.session, storage, grace=grace, leftovers_after=session_ttl + grace,
                             idle=idle)
    log.info("storage sweep: %s", report)
    if report.deletions >= MAX_DELETIONS:  # more to do: go on right after this run commits
        await enqueue(context.session, KIND, {})


async def sweep(session: AsyncSession, storage: Storage, *, grace: timedelta, leftovers_after: timedelta,
                idle: timedelta = DEFAULT_IDLE, now: datetime | None = None) -> SweepReport:
    """One pass over every organization, in the caller's transaction. `leftovers_after`: the age
    at which the filesystem's temporary files and multipart directories are crash leftovers;
    `idle`: how long an upload session may make no progress before it is abandoned."""
    cutoff = (now or utcnow()) - grace
    report = SweepReport(expired_sessions=await expire_sessions(session, storage)
                         + await reclaim_abandoned(session, storage, idle=idle))
    organizations = (await session.execute(select(Organization.id))).scalars().all()
    for organization_id in organizations:
        if report.deletions >= MAX_DELETIONS:
            break
        report.staging_objects += await _sweep_staging(session, storage, organization_id, cutoff)
        report.blob_objects += await _sweep_unrecorded_objects(session, storage, organization_id, cutoff)
        report.blob_rows += await _sweep_unreferenced_blobs(session, storage, organization_id, cutoff)
    if hasattr(storage, "sweep_temporary"):  # filesystem: crash leftovers and abandoned parts
        await storage.sweep_temporary(older_than=leftovers_after.total_seconds())
    return report


async def _sweep_staging(session: AsyncSession, storage: Storage, organization_id: uuid.UUID,
                         cutoff: datetime) -> int:
    """Staging objects are never referenced by rows, except while an open upload session's
    assembled parts wait for their completion to promote them."""
    waiting = set((await session.execute(select(UploadSession.staging_key).where(
        UploadSession.organization_id == organization_id, UploadSession.status == "OPEN",
        UploadSession.staging_key.is_not(None)))).scalars())
    deleted = 0
    async for info in storage.list_keys(staging_prefix(organization_id)):
        if info.last_modified < cutoff and info.key not in waiting:
            await storage.delete(info.key)
            deleted += 1
            if deleted >= MAX_DELETIONS:
                return deleted
    return deleted + await _abort_stale_multipart(session, storage, organization_id, cutoff)


async def _abort_stale_multipart(session: AsyncSession, storage: Storage, organization_id: uuid.UUID,
                                 cutoff: datetime) -> int:
    """S3 multipart uploads a crash left unfinished under staging (the filesystem's own are
    removed by `sweep_temporary`), except those of open resumable upload sessions."""
    if not hasattr(storage, "list_multipart"):
        return 0
    open_uploads = set((await session.execute(select(UploadSession.multipart_upload_id).where(
        UploadSession.organization_id == organization_id, UploadSession.status == "OPEN",
        UploadSession.multipart_upload_id.is_not(None)))).scalars())
    aborted = 0
    async for key, upload_id, initiated in storage.list_multipart(staging_prefix(organization_id)):
        if initiated < cutoff and upload_id not in open_uploads:
            await storage.abort_multipart(key, upload_id)
            aborted += 1
    return aborted


async def _sweep_unrecorded_objects(session: AsyncSession, storage: Storage, organization_id: uuid.UUID,
                                    cutoff: datetime) -> int:
    """Content objects with no live blob row."""
    old: list[str] = []
    async for info in storage.list_keys(f"{organization_id}/blobs/"):
        if info.last_modified < cutoff and _SHA256.fullmatch(info.key.rsplit("/", 1)[-1]):
            old.append(info.key)
    deleted = 0
    for start in range(0, len(old), _CHECK_BATCH):
        batch = old[start:start + _CHECK_BATCH]
        recorded = set((await session.execute(select(Blob.storage_key).where(
            Blob.storage_key.in_(batch), Blob.purged_at.is_(None)))).scalars())
        for key in batch:
            if key in recorded:
                continue
            sha256 = key.rsplit("/", 1)[-1]
            await lock_content(session, organization_id, sha256)
            if await live_blob_row(session, organization_id, sha256) is None:  # still unrecorded
                await storage.delete(key)
                deleted += 1
                if deleted >= MAX_DELETIONS:
                    return deleted
    return deleted


def _referenced():
    """Whether anything still needs a blob row's content."""
    return (exists().where(DocumentVersion.blob_id == Blob.id)
            | exists().where(Approval.staged_blob_id == Blob.id, Approval.status == "PENDING")
            | exists().where(UploadSession.existing_blob_id == Blob.id, UploadSession.status == "OPEN"))


async def _sweep_unreferenced_blobs(session: AsyncSession, storage: Storage, organization_id: uuid.UUID,
                                    cutoff: datetime) -> int:
    candidates = (await session.execute(
        select(Blob.sha256).where(Blob.organization_id == organization_id, Blob.purged_at.is_(None),
                                  Blob.created_at < cutoff, ~_referenced())
        .limit(MAX_DELETIONS)
    )).scalars().all()
    purged = 0
    for sha256 in candidates:
        purged += await purge_if_unreferenced(session, storage, organization_id, sha256)
    return purged


async def purge_if_unreferenced(session: AsyncSession, storage: Storage, organization_id: uuid.UUID,
                                sha256: str) -> bool:
    """Delete the content's object and mark its blob row purged, when nothing refers to it
    any more; checked under the per-content lock uploads take. Idempotent."""
    await lock_content(session, organization_id, sha256)
    blob = await live_blob_row(session, organization_id, sha256)
    if blob is None:
        return False
    still_needed = (await session.execute(select(_referenced()).where(Blob.id == blob.id))).scalar()
    if still_needed:
        return False
    await storage.delete(blob.storage_key)
    blob.purged_at = utcnow()
    await session.flush()
    return True


@handler(APPROVAL_CLEANUP)
async def approval_cleanup_job(context: JobContext, payload: dict) -> None:
    """The staged content of a rejected or cancelled approval, unless a version, another
    pending approval or an open upload session still uses the same content."""
    approval = await context.session.get(Approval, uuid.UUID(payload["approvalId"]))
    if approval is None or approval.status == "PENDING" or approval.staged_blob_id is None:
        return
    blob = await context.session.get(Blob, approval.staged_blob_id)
    async with job_storage(context) as storage:
        await purge_if_unreferenced(context.session, storage, blob.organization_id, blob.sha256)
