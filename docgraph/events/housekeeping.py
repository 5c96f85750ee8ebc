"""Periodic housekeeping jobs: the trash purge after each organization's retention, expired
grants and ended throttling windows (services/throttle.py). Each is idempotent: a second run
finds nothing to do.

Trash purge: a blob whose every version belongs to a document deleted longer ago than the
organization's retention (and that no live document, pending approval or open upload session
needs) loses its stored object; the rows stay as tombstones (`blob.purged_at`), so the audit
trail and version history remain readable while the content is gone for good.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Approval, Blob, Document, DocumentVersion, Grant, Organization, UploadSession
from ..models.base import utcnow
from ..services import throttle
from ..services.content import live_blob_row, lock_content
from ..services.organization_settings import OrganizationSettings
from ..storage import Storage
from .jobs import JobContext, job_storage, periodic
from .publish import enqueue

log = logging.getLogger("docgraph.housekeeping")

TRASH_PURGE = "trash.purge"
MAX_PURGES = 500
# Expired grants decide nothing; they are kept a while so a share's expiry can be explained.
EXPIRED_GRANT_KEEP = timedelta(days=7)


def _needed_beyond_trash(cutoff: datetime):
    """Whether a blob is still needed by anything but documents in the trash past `cutoff`."""
    live_version = exists().where(
        DocumentVersion.blob_id == Blob.id, Document.id == DocumentVersion.document_id,
        or_(Document.deleted_at.is_(None), Document.deleted_at >= cutoff))
    return (live_version
            | exists().where(Approval.staged_blob_id == Blob.id, Approval.status == "PENDING")
            | exists().where(UploadSession.existing_blob_id == Blob.id, UploadSession.status == "OPEN"))


def _expired_in_trash(cutoff: datetime):
    return exists().where(DocumentVersion.blob_id == Blob.id, Document.id == DocumentVersion.document_id,
                          Document.deleted_at < cutoff)


async def purge_trash(session: AsyncSession, storage: Storage, organization_id: uuid.UUID,
                      retention: timedelta, now: datetime | None = None) -> int:
    """Delete the content of documents trashed longer than `retention`; returns blobs purged."""
    cutoff = (now or utcnow()) - retention
    candidates = (await session.execute(
        select(Blob.sha256).where(Blob.organization_id == organization_id, Blob.purged_at.is_(None),
                                  _expired_in_trash(cutoff), ~_needed_beyond_trash(cutoff))
        .limit(MAX_PURGES))).scalars().all()
    purged = 0
    for sha256 in candidates:
        # Re-checked under the per-content lock uploads take: a restore or an upload of the same
        # bytes committed meanwhile keeps the content.
        await lock_content(session, organization_id, sha256)
        blob = await live_blob_row(session, organization_id, sha256)
        if blob is None:
            continue
        still_needed = (await session.execute(
            select(_needed_beyond_trash(cutoff)).where(Blob.id == blob.id))).scalar()
        if still_needed:
            continue
        await storage.delete(blob.storage_key)
        blob.purged_at = utcnow()
        purged += 1
    await session.flush()
    return purged


@periodic(TRASH_PURGE, every=timedelta(hours=6))
async def trash_purge_job(context: JobContext, payload: dict) -> None:
    organizations = (await context.session.execute(
        select(Organization.id, Organization.settings).where(Organization.deleted_at.is_(None)))).all()
    total = 0
    async with job_storage(context) as storage:
        for organization_id, settings in organizations:
            retention = timedelta(days=OrganizationSettings.of(settings).trash_retention_days)
            total += await purge_trash(context.session, storage, organization_id, retention)
    log.info("trash purge: %d blobs", total)
    if total >= MAX_PURGES:
        await enqueue(context.session, TRASH_PURGE, {})


@periodic("grants.expired", every=timedelta(hours=1))
async def expired_grants_job(context: JobContext, payload: dict) -> None:
    await context.session.execute(
        delete(Grant).where(and_(Grant.expires_at.is_not(None), Grant.expires_at < utcnow() - EXPIRED_GRANT_KEEP)))


@periodic("auth_throttle.flush", every=timedelta(minutes=5))
async def auth_throttle_job(context: JobContext, payload: dict) -> None:
    """Ended throttling windows: one audit row each for the attempts they refused, then gone."""
    if context.settings is not None:
        appended = await throttle.flush_ended_windows(context.session, context.settings)
        if appended:
            log.info("throttling: %d windows with refused attempts audited", appended)
