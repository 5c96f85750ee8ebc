"""Documents and their versions: one entry point per change, so that the approval workflow can
wrap each one later (create, replace, update, move, delete, restore, lock, unlock).

Every entry point opens ONE transaction; content was staged before it (see content.py). The
`*_in(session, ...)` helpers do the work inside a caller's transaction: upload sessions complete
through them too. Version numbers are gapless under concurrency: a new version locks its
document row (FOR UPDATE) and takes version_count + 1.

Approvals: replace and delete by someone who is not a reviewer of the document go to review
when the organization's policy says so (approval_requests.py): the entry points then return the
PENDING `Approval` instead of the document. `add_version_in` and `delete_document_in` apply
those changes; approvals.py calls them too when a request is approved.

Locks: a document locked by someone else (and not expired) refuses update, replace, move and
delete with LOCKED, except for the document's reviewers (super admin, organization admin, its
department's admins, its My Drive's owner: DESIGN's "admins"), who may also force-unlock.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .. import permissions
from ..auth.principal import Principal
from ..db import Database
from ..errors import (
    BadInput,
    Conflict,
    Forbidden,
    Locked,
)
from ..events import publish
from ..models import Approval, Document, DocumentVersion, Folder
from ..models.base import utcnow
from ..pagination import CountFn, Key, Keyset, Page, PageRequest, SortOrder, counter, read_page
from ..permissions import DOCUMENT, FOLDER, Access, Actor, Capability
from ..storage import Storage
from . import audit
from .approval_requests import approval_details, approval_required, request_approval_in
from .content import (
    NewContent,
    StoredContent,
    has_purged_content,
    policy_in,
    store_blob,
)
from .folders import lock_folder_tree
from .listings import (
    Listing,
    Relation,
    document_keyset,
    in_order,
    page_then_rows,
    read_listing,
    visible_documents,
)
from .unchanged import UNCHANGED
from .validation import (
    ContentPolicy,
    clean_comment,
    clean_document_description,
    clean_document_name,
    clean_metadata,
    clean_tags,
    name_from_file_name,
)

NAME_INDEX = "uq_document_live_name"
_UUID = UUID(as_uuid=True)


# --- shared rules ---------------------------------------------------------------------------------

def lock_is_active(document: Document, now: datetime | None = None) -> bool:
    """An expired lock is no lock."""
    if document.locked_by is None:
        return False
    return document.lock_expires_at is None or document.lock_expires_at > (now or utcnow())


def ensure_may_change(document: Document, actor: Principal, access: Access) -> None:
    """LOCKED when someone else holds a live lock and the actor is not one of the document's admins."""
    if lock_is_active(document) and document.locked_by != actor.user_id and not access.is_reviewer:
        raise Locked("The document is locked by another user", lockedAt=document.locked_at.isoformat())


def _name_conflict(name: str) -> Conflict:
    return Conflict(f'A document named "{name}" already exists in this folder', field="name")


async def _name_taken(session: AsyncSession, folder_id: uuid.UUID, name: str, *,
                      other_than: uuid.UUID | None = None) -> bool:
    query = select(Document.id).where(
        Document.folder_id == folder_id, func.lower(Document.name) == func.lower(name), Document.deleted_at.is_(None))
    if other_than is not None:
        query = query.where(Document.id != other_than)
    return (await session.execute(query.limit(1))).first() is not None


async def _flush_named(session: AsyncSession, name: str) -> None:
    """Flush; a live namesake that slipped in concurrently is a CONFLICT."""
    try:
        await session.flush()
    except IntegrityError as exc:
        if NAME_INDEX in str(exc.orig):
            raise _name_conflict(name) from None
        raise


async def _announce(session: AsyncSession, document: Document, kind: str) -> None:
    """A folderEvents event for the document's folder, delivered on commit."""
    await publish.folder_event(session, document.organization_id, document.folder_id, kind, DOCUMENT, document.id)


async def _tell_creator(session: AsyncSession, document: Document, author_id: uuid.UUID, type: str,
                        title: str, message: str) -> None:
    """DOCUMENT_REPLACED / DOCUMENT_DELETED reach the document's creator when someone else did it."""
    if document.created_by != author_id:
        await publish.notify_users(session, document.organization_id, [document.created_by], type, title,
                                   message, DOCUMENT, document.id)


async def _document_for_update(session: AsyncSession, document_id: uuid.UUID) -> Document:
    query = (select(Document).where(Document.id == document_id).with_for_update()
             .execution_options(populate_existing=True))
    return (await session.execute(query)).scalar_one()


def _check_content(policy: ContentPolicy, actor: Principal, content: NewContent) -> None:
    if content.organization_id != actor.organization_id:
        raise BadInput("The file was uploaded for another organization", field="file")
    policy.check_size(content.size)
    policy.check_content(content.content_type, content.sample)


def _version(document: Document, number: int, blob_id: uuid.UUID, content: NewContent | StoredContent,
             created_by: uuid.UUID, change_comment: str | None) -> DocumentVersion:
    file_name = name_from_file_name(content.file_name)
    return DocumentVersion(
        organization_id=document.organization_id, document_id=document.id, version_number=number,
        file_size=content.size, content_type=content.content_type, content_hash=content.sha256, blob_id=blob_id,
        original_filename=file_name[:255] if file_name else None,
        change_comment=change_comment, created_by=created_by,
    )


# --- new content ----------------------------------------------------------------------------------

@audit.audited("CREATE", "DOCUMENT", resource="document_id")
async def create_document(db: Database, actor: Principal, *, storage: Storage, folder_id: uuid.UUID,
                          content: NewContent, name: str | None = None, description: str | None = None,
                          tags: list[str] | None = None, metadata: Any = None) -> Document:
    """A new document in `folder_id` (needs CREATE there) with `content` as version 1. The name
    defaults to the uploaded file's name."""
    async with db.transaction() as session:
        return await create_document_in(session, actor, storage, folder_id=folder_id, content=content, name=name,
                                        description=description, tags=tags, metadata=metadata)


async def create_document_in(session: AsyncSession, actor: Principal, storage: Storage, *, folder_id: uuid.UUID,
                             content: NewContent, name: str | None, description: str | None,
                             tags: list[str] | None, metadata: Any) -> Document:
    organization_id = actor.require_organization()
    name = clean_document_name(name if name is not None else name_from_file_name(content.file_name))
    description = clean_document_description(description)
    tags, metadata = clean_tags(tags), clean_metadata(metadata)
    # Shared with folder moves/deletes: nothing is created inside a folder being deleted.
    await lock_folder_tree(session, organization_id, exclusive=False)
    await permissions.require(session, actor, FOLDER, folder_id, Capability.CREATE)
    policy = await policy_in(session, organization_id)
    _check_content(policy, actor, content)
    if await _name_taken(session, folder_id, name):
        raise _name_conflict(name)
    blob = await store_blob(session, storage, policy, content)
    document = Document(
        organization_id=organization_id, folder_id=folder_id, name=name, description=description,
        content_type=content.content_type, file_size=content.size, version_count=1, tags=tags,
        metadata_=metadata, created_by=actor.user_id,
    )
    session.add(document)
    await _flush_named(session, name)
    version = _version(document, 1, blob.id, content, actor.user_id, None)
    session.add(version)
    await session.flush()
    document.current_version_id = version.id
    await session.flush()
    await audit.record_by(session, actor, "CREATE", "DOCUMENT", resource_id=document.id, resource_name=name,
                          details={"folderId": str(folder_id), "version": 1, "contentHash": content.sha256,
                                   "fileSize": content.size, "contentType": content.content_type})
    await _announce(session, document, "ADDED")
    return document


@audit.audited("UPDATE", "DOCUMENT", resource="document_id")
async def replace_document(db: Database, actor: Principal, *, storage: Storage, document_id: uuid.UUID,
                           content: NewContent, change_comment: str | None = None) -> Document | Approval:
    """`content` becomes the next version (needs UPDATE; refused with LOCKED while someone
    else holds the lock). Earlier versions stay as they are. When the change needs approval,
    the content is stored but only staged: the PENDING approval is returned."""
    async with db.transaction() as session:
        return await replace_document_in(session, actor, storage, document_id=document_id, content=content,
                                         change_comment=change_comment)


async def replace_document_in(session: AsyncSession, actor: Principal, storage: Storage, *,
                              document_id: uuid.UUID, content: NewContent,
                              change_comment: str | None) -> Document | Approval:
    organization_id = actor.require_organization()
    change_comment = clean_comment(change_comment)
    access = await permissions.require(session, actor, DOCUMENT, document_id, Capability.UPDATE)
    document = await _document_for_update(session, document_id)
    ensure_may_change(document, actor, access)
    policy = await policy_in(session, organization_id)
    _check_content(policy, actor, content)
    blob = await store_blob(session, storage, policy, content)
    stored = StoredContent.of(blob, content)
    if await approval_required(session, actor, access, "DOCUMENT_REPLACE"):
        return await request_approval_in(session, actor, "DOCUMENT_REPLACE", document=document,
                                         comment=change_comment, staged=stored)
    return await add_version_in(session, actor, document, stored, change_comment=change_comment)


async def add_version_in(session: AsyncSession, actor: Principal, document: Document, content: StoredContent, *,
                         change_comment: str | None, created_by: uuid.UUID | None = None,
                         approval: Approval | None = None) -> Document:
    """`content` becomes the next version of `document`, which the caller locked (FOR UPDATE)
    after checking everything. `created_by`: the requester, when `approval` applies it."""
    number = document.version_count + 1
    version = _version(document, number, content.blob_id, content, created_by or actor.user_id, change_comment)
    session.add(version)
    await session.flush()
    document.current_version_id = version.id
    document.version_count = number
    document.file_size = content.size
    document.content_type = content.content_type
    document.updated_at = utcnow()
    await session.flush()
    await audit.record_by(session, actor, "UPDATE", "DOCUMENT", resource_id=document.id, resource_name=document.name,
                          details={"version": number, "contentHash": content.sha256, "fileSize": content.size,
                                   "contentType": content.content_type, "changeComment": change_comment,
                                   **approval_details(approval)})
    await _announce(session, document, "UPDATED")
    await _tell_creator(session, document, version.created_by, "DOCUMENT_REPLACED", "Document replaced",
                        f'"{document.name}" has a new version ({number})')
    return document


# --- attributes and place -------------------------------------------------------------------------

@audit.audited("UPDATE", "DOCUMENT", resource="document_id")
async def update_document(db: Database, actor: Principal, *, document_id: uuid.UUID, name: str | None = None,
                          description: Any = UNCHANGED, tags: list[str] | None = None,
                          metadata: Any = UNCHANGED) -> Document:
    """Rename, describe, tag (the list replaces the old one) or set metadata (the object
    replaces the old one). Needs UPDATE. None / UNCHANGED: keep."""
    actor.require_organization()
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = clean_document_name(name)
    if description is not UNCHANGED:
        changes["description"] = clean_document_description(description)
    if tags is not None:
        changes["tags"] = clean_tags(tags)
    if metadata is not UNCHANGED:
        changes["metadata_"] = clean_metadata(metadata)
    async with db.transaction() as session:
        access = await permissions.require(session, actor, DOCUMENT, document_id, Capability.UPDATE)
        document = await _document_for_update(session, document_id)
        ensure_may_change(document, actor, access)
        before = {key: getattr(document, key) for key in changes}
        changed = {key: value for key, value in changes.items() if before[key] != value}
        if not changed:
            return document
        if "name" in changed and await _name_taken(session, document.folder_id, changed["name"],
                                                   other_than=document.id):
            raise _name_conflict(changed["name"])
        for key, value in changed.items():
            setattr(document, key, value)
        document.updated_at = utcnow()
        await _flush_named(session, document.name)
        public = {"metadata_": "metadata"}
        await audit.record_by(
            session, actor, "UPDATE", "DOCUMENT", resource_id=document.id, resource_name=document.name,
            details={"before": {public.get(k, k): before[k] for k in changed},
                     "after": {public.get(k, k): v for k, v in changed.items()}})
        await _announce(session, document, "UPDATED")
    return document


@audit.audited("MOVE", "DOCUMENT", resource="document_id")
async def move_document(db: Database, actor: Principal, *, document_id: uuid.UUID, folder_id: uuid.UUID) -> Document:
    """Move to another folder of the organization: DELETE on the document (its source side) and
    CREATE on the target folder."""
    organization_id = actor.require_organization()
    async with db.transaction() as session:
        await lock_folder_tree(session, organization_id, exclusive=False)
        access = await permissions.require(session, actor, DOCUMENT, document_id, Capability.DELETE)
        document = await _document_for_update(session, document_id)
        ensure_may_change(document, actor, access)
        await permissions.require(session, actor, FOLDER, folder_id, Capability.CREATE)
        if document.folder_id == folder_id:
            return document
        if await _name_taken(session, folder_id, document.name):
            raise _name_conflict(document.name)
        source = document.folder_id
        document.folder_id = folder_id
        document.updated_at = utcnow()
        await _flush_named(session, document.name)
        await audit.record_by(session, actor, "MOVE", "DOCUMENT", resource_id=document.id,
                              resource_name=document.name,
                              details={"fromFolderId": str(source), "toFolderId": str(folder_id)})
        await publish.node_moved(session, organization_id, source, folder_id, DOCUMENT, document.id)
    return document


# --- trash ----------------------------------------------------------------------------------------

@audit.audited("DELETE", "DOCUMENT", resource="document_id")
async def delete_document(db: Database, actor: Principal, *, document_id: uuid.UUID,
                          comment: str | None = None) -> Document | Approval:
    """Soft delete (needs DELETE): the document goes to the trash as a deletion set of its own.
    When the change needs approval, the PENDING approval is returned instead."""
    actor.require_organization()
    comment = clean_comment(comment, field="comment")
    async with db.transaction() as session:
        access = await permissions.require(session, actor, DOCUMENT, document_id, Capability.DELETE)
        document = await _document_for_update(session, document_id)
        ensure_may_change(document, actor, access)
        if await approval_required(session, actor, access, "DOCUMENT_DELETE"):
            return await request_approval_in(session, actor, "DOCUMENT_DELETE", document=document, comment=comment)
        return await delete_document_in(session, actor, document, comment=comment)


async def delete_document_in(session: AsyncSession, actor: Principal, document: Document, *,
                             comment: str | None, approval: Approval | None = None) -> Document:
    """Move `document` (locked FOR UPDATE and checked by the caller) to the trash."""
    document.deleted_at, document.deleted_by, document.deletion_id = utcnow(), actor.user_id, uuid.uuid4()
    await session.flush()
    await audit.record_by(session, actor, "DELETE", "DOCUMENT", resource_id=document.id,
                          resource_name=document.name,
                          details={"deletionId": str(document.deletion_id), "comment": comment,
                                   **approval_details(approval)})
    await _announce(session, document, "REMOVED")
    author = approval.requested_by if approval is not None else actor.user_id
    await _tell_creator(session, document, author, "DOCUMENT_DELETED", "Document deleted",
                        f'"{document.name}" was moved to the trash')
    return document


@audit.audited("RESTORE", "DOCUMENT", resource="document_id")
async def restore_document(db: Database, actor: Principal, *, document_id: uuid.UUID) -> Document:
    """Bring a deleted document back (needs DELETE). Refused while its folder is deleted (restore
    the folder: that brings back everything deleted with it) or when a live namesake exists."""
    organization_id = actor.require_organization()
    async with db.transaction() as session:
        await lock_folder_tree(session, organization_id, exclusive=False)
        await permissions.require(session, actor, DOCUMENT, document_id, Capability.DELETE, include_deleted=True)
        document = await _document_for_update(session, document_id)
        if document.deleted_at is None:
            raise Conflict("This document is not deleted")
        folder = await session.get(Folder, document.folder_id)
        if folder.deleted_at is not None:
            raise Conflict(f'The folder "{folder.name}" that contained it is deleted; restore that first')
        if await _name_taken(session, document.folder_id, document.name):
            raise _name_conflict(document.name)
        if await has_purged_content(session, Document.id == document.id):
            raise Conflict("This document stayed in the trash past the retention period; its content is gone")
        deletion_id = document.deletion_id
        document.deleted_at = document.deleted_by = document.deletion_id = None
        await _flush_named(session, document.name)
        await audit.record_by(session, actor, "RESTORE", "DOCUMENT", resource_id=document.id,
                              resource_name=document.name, details={"deletionId": str(deletion_id)})
        await _announce(session, document, "ADDED")
    return document


# --- locks ----------------------------------------------------------------------------------------

@audit.audited("LOCK", "DOCUMENT", resource="document_id")
async def lock_document(db: Database, actor: Principal, *, document_id: uuid.UUID,
                        expires_at: datetime | None = None) -> Document:
    """Lock for the actor (needs UPDATE), optionally until `expires_at`. The holder may lock
    again to change the expiry; someone else's live lock is LOCKED."""
    actor.require_organization()
    now = utcnow()
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
        raise BadInput("expiresAt must be a future time with a timezone", field="expiresAt")
    async with db.transaction() as session:
        await permissions.require(session, actor, DOCUMENT, document_id, Capability.UPDATE)
        document = await _document_for_update(session, document_id)
        if lock_is_active(document, now) and document.locked_by != actor.user_id:
            raise Locked("The document is already locked by another user")
        document.locked_by, document.locked_at, document.lock_expires_at = actor.user_id, now, expires_at
        await session.flush()
        await audit.record_by(session, actor, "LOCK", "DOCUMENT", resource_id=document.id,
                              resource_name=document.name,
                              details={"expiresAt": expires_at.isoformat() if expires_at else None})
        await _announce(session, document, "UPDATED")
    return document


@audit.audited("UNLOCK", "DOCUMENT", resource="document_id")
async def unlock_document(db: Database, actor: Principal, *, document_id: uuid.UUID, force: bool = False) -> Document:
    """Release the lock (needs UPDATE): the holder may; anyone else needs `force` and to be one
    of the document's admins. Unlocking an unlocked (or expired) document is a no-op."""
    actor.require_organization()
    async with db.transaction() as session:
        access = await permissions.require(session, actor, DOCUMENT, document_id, Capability.UPDATE)
        document = await _document_for_update(session, document_id)
        if document.locked_by is None:
            return document
        holder, active = document.locked_by, lock_is_active(document)
        forced = active and holder != actor.user_id
        if forced and not force:
            raise Locked("The document is locked by another user; an admin may force-unlock it")
        if forced and not access.is_reviewer:
            raise Forbidden("Only admins can force-unlock a document locked by someone else")
        document.locked_by = document.locked_at = document.lock_expires_at = None
        await session.flush()
        if active:
            await audit.record_by(session, actor, "UNLOCK", "DOCUMENT", resource_id=document.id,
                                  resource_name=document.name, details={"forced": forced, "lockedBy": str(holder)})
            await _announce(session, document, "UPDATED")
    return document


# --- reads ----------------------------------------------------------------------------------------

async def documents_by_ids(db: Database, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Document]:
    """Document rows by id, no access check (the caller has checked, or shows what it may)."""
    return await db.rows_by_ids(Document, ids)


async def versions_by_ids(db: Database, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, DocumentVersion]:
    return await db.rows_by_ids(DocumentVersion, ids)


FOLDER_DOCUMENTS_ORDER = SortOrder("NAME")  # like its subfolders
_VERSIONS = Keyset("versions", (Key.number(DocumentVersion.version_number, "version_number"),), descending=True)


@functools.cache
def _folder_listing(order: SortOrder, shape: tuple[bool, bool, bool],
                    related: tuple[Relation, ...]) -> tuple[Select[Any], Any, Keyset]:
    """The folder listing's page statement, the visible set it pages (what a count counts) and
    its keyset, built once per order and shape: actor, folder and cursors are bind parameters."""
    keyset = document_keyset(order)
    in_folder = Document.folder_id == bindparam("folder_id", type_=_UUID)
    visible = visible_documents(permissions.ACTOR_PARAMETERS, in_folder, keyset=keyset)
    return page_then_rows(visible, keyset, PageRequest.of_shape(shape), related=related), visible, keyset


async def list_folder_documents(db: Database, actor: Principal, folder_id: uuid.UUID, page: PageRequest, *,
                                order: SortOrder = FOLDER_DOCUMENTS_ORDER,
                                related: Iterable[Relation] = ()) -> Listing[Document]:
    """Live documents of `folder_id` the actor may VIEW in `order` (by default by name, like its
    subfolders), with the `related` rows. The caller has established that the actor may see
    the folder."""
    joins = in_order(related)
    query, visible, keyset = _folder_listing(order, page.shape, joins)
    parameters: dict[str, Any] = {**permissions.actor_values(Actor.of(actor)), "folder_id": folder_id}
    return await read_listing(db, query, visible, parameters, page, keyset, related=joins)


async def list_versions(db: Database, document_id: uuid.UUID,
                        page: PageRequest) -> tuple[Page[DocumentVersion], CountFn]:
    """A document's versions, newest first (as version histories are read). The caller has
    established that the actor may see the document."""
    query = select(DocumentVersion).where(DocumentVersion.document_id == document_id)
    result = await read_page(db, query, _VERSIONS, page, key_of=lambda row: (row.DocumentVersion.version_number,),
                             row_of=lambda row: row.DocumentVersion)
    return result, counter(db, query.with_only_columns(DocumentVersion.id).subquery())
