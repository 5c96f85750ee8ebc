"""Downloads: issuing a short-lived link counts a download of the version and audits it.

The link itself is a presigned GET on S3; the filesystem backend has none, so the caller (the
API layer) signs an app link `/files/<token>` bound to the version, and `file_for_link` finds
what that link serves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update

from .. import permissions
from ..auth.principal import Principal
from ..db import Database
from ..errors import NotFound
from ..models import Blob, Document, DocumentVersion
from ..models.base import utcnow
from ..permissions import DOCUMENT, Capability
from ..storage import Storage
from . import audit


@dataclass(frozen=True)
class Download:
    version_id: uuid.UUID
    storage_key: str
    file_name: str
    content_type: str
    size: int
    url: str | None  # a direct (presigned) URL, or None: serve it through the app


@audit.audited("DOWNLOAD", "DOCUMENT", resource="document_id")
async def start_download(db: Database, actor: Principal, *, storage: Storage, document_id: uuid.UUID,
                         version_id: uuid.UUID | None = None, expires_in: int) -> Download:
    """A download of `version_id` (default: the current version) of a document the actor may
    VIEW: counts it on the version, writes a DOWNLOAD audit row, and presigns a URL when the
    storage can."""
    actor.require_organization()
    async with db.transaction() as session:
        await permissions.require(session, actor, DOCUMENT, document_id, Capability.VIEW)
        document = await session.get(Document, document_id)
        version_id = version_id or document.current_version_id
        counted = await session.execute(
            update(DocumentVersion)
            .where(DocumentVersion.id == version_id, DocumentVersion.document_id == document_id)
            .values(download_count=DocumentVersion.download_count + 1, last_downloaded_at=utcnow())
            .returning(DocumentVersion.version_number, DocumentVersion.content_type, DocumentVersion.file_size,
                       DocumentVersion.blob_id))
        row = counted.first()
        if row is None:
            raise NotFound("Version not found")
        key = (await session.execute(select(Blob.storage_key).where(Blob.id == row.blob_id))).scalar_one()
        await audit.record_by(session, actor, "DOWNLOAD", "DOCUMENT", resource_id=document.id,
                              resource_name=document.name,
                              details={"versionId": str(version_id), "version": row.version_number})
    url = await storage.presigned_get_url(key, expires_in=expires_in, filename=document.name,
                                          content_type=row.content_type)
    return Download(version_id, key, document.name, row.content_type, row.file_size, url)


async def file_for_link(db: Database, version_id: uuid.UUID) -> Download:
    """What an app download link serves: the version's object, under the document's name."""
    query = (select(Blob.storage_key, Document.name, DocumentVersion.content_type, DocumentVersion.file_size)
             .select_from(DocumentVersion)
             .join(Blob, Blob.id == DocumentVersion.blob_id)
             .join(Document, Document.id == DocumentVersion.document_id)
             .where(DocumentVersion.id == version_id))
    async with db.reading() as session:
        row = (await session.execute(query)).first()
    if row is None:
        raise NotFound("File not found")
    return Download(version_id, row.storage_key, row.name, row.content_type, row.file_size, None)
