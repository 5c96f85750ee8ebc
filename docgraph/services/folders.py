"""Folders: create, rename, move, delete (soft, whole subtree) and restore; drives and children.

Every access decision goes through `docgraph.permissions` (one evaluation statement per check).
Tree-changing use cases serialize per organization on an advisory lock: moves, deletes and
restores take it exclusively, creates shared, so a subtree's paths are never rewritten while
a child is being inserted under it (the child would keep a stale path) and nothing is created
inside a folder being deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .. import permissions
from ..auth.principal import Principal
from ..db import Database
from ..errors import BadInput, Conflict, Forbidden
from ..events import publish
from ..models import Approval, Document, Folder, Grant
from ..models.base import utcnow
from ..pagination import CountFn, Key, Keyset, Page, PageRequest, SortOrder, counter, read_page
from ..permissions import FOLDER, Actor, Capability
from . import audit
from .approval_requests import approval_details, approval_required, request_approval_in
from .content import has_purged_content
from .tenancy import OrgUser, clean_description
from .unchanged import UNCHANGED, Unchanged
from .validation import clean_item_name

SIBLING_CONFLICT = "uq_folder_live_sibling"
_UUIDS = ARRAY(UUID(as_uuid=True))


# --- rules on input -------------------------------------------------------------------------------

def clean_folder_name(name: str | None) -> str:
    return clean_item_name(name, "folder")


def _name_conflict(name: str) -> Conflict:
    return Conflict(f'A folder named "{name}" already exists here', field="name")


def _is_unique_violation(exc: IntegrityError, index: str) -> bool:
    return index in str(exc.orig)


async def lock_folder_tree(session: AsyncSession, organization_id: uuid.UUID, *, exclusive: bool) -> None:
    """The organization's folder-tree lock (module doc): exclusive for moves, deletes and
    restores, shared for anything inserted under a folder."""
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await session.execute(text(f"SELECT {function}(hashtextextended(:key, 0))"),
                          {"key": f"folder-tree:{organization_id}"})


async def _live_sibling_named(session: AsyncSession, parent_id: uuid.UUID, name: str,
                              *, other_than: uuid.UUID | None = None) -> bool:
    query = select(Folder.id).where(
        Folder.parent_id == parent_id, func.lower(Folder.name) == func.lower(name), Folder.deleted_at.is_(None))
    if other_than is not None:
        query = query.where(Folder.id != other_than)
    return (await session.execute(query.limit(1))).first() is not None




def _full_grant(folder: Folder, user_id: uuid.UUID) -> Grant:
    """The creator's row (003 §5.1): every capability, MANAGE included; for members other than
    admins the system-role ceiling trims it (EDITOR: no MANAGE; VIEWER: VIEW only)."""
    return Grant(
        organization_id=folder.organization_id, folder_id=folder.id, subject_type="USER", subject_id=user_id,
        **{c.column: True for c in permissions.CAPABILITIES}, granted_by=user_id,
    )


# --- use cases ------------------------------------------------------------------------------------

@audit.audited("CREATE", "FOLDER")
async def create_folder(db: Database, actor: Principal, *, parent_id: uuid.UUID, name: str,
                        description: str | None = None) -> Folder:
    """A subfolder of `parent_id` (needs CREATE there), in the parent's drive, with the
    creator's full grant row."""
    organization_id = actor.require_organization()
    name = clean_folder_name(name)
    description = clean_description(description)
    async with db.transaction() as session:
        await lock_folder_tree(session, organization_id, exclusive=False)
        await permissions.require(session, actor, FOLDER, parent_id, Capability.CREATE)
        parent = await session.get(Folder, parent_id)
        folder_id = uuid.uuid4()
        folder = Folder(
            id=folder_id, organization_id=organization_id, parent_id=parent.id, name=name,
            description=description, owner_type=parent.owner_type, owner_id=parent.owner_id,
            department_id=parent.department_id, path=[*parent.path, folder_id], created_by=actor.user_id,
        )
        session.add(folder)
        try:
            await session.flush()
        except IntegrityError as exc:
            if _is_unique_violation(exc, SIBLING_CONFLICT):
                raise _name_conflict(name) from None
            raise
        session.add(_full_grant(folder, actor.user_id))
        await audit.record_by(session, actor, "CREATE", "FOLDER", resource_id=folder.id, resource_name=name,
                              details={"parentId": str(parent.id), "description": description})
        await publish.folder_event(session, organization_id, parent.id, "ADDED", "FOLDER", folder.id)
    return folder


@audit.audited("UPDATE", "FOLDER")
async def update_folder(db: Database, actor: Principal, *, folder_id: uuid.UUID, name: str | None = None,
                        description: str | Unchanged | None = UNCHANGED) -> Folder:
    """Rename and/or change the description (needs UPDATE). A department drive's root is
    renamed by admins only (super admin, organization ADMIN, its department admins); a My
    Drive root keeps its name."""
    actor.require_organization()
    new_name = clean_folder_name(name) if name is not None else None
    new_description = description if description is UNCHANGED else clean_description(description)
    async with db.transaction() as session:
        access = await permissions.require(session, actor, FOLDER, folder_id, Capability.UPDATE)
        folder = await session.get(Folder, folder_id, with_for_update=True)
        before = {"name": folder.name, "description": folder.description}
        if new_name is not None and new_name != folder.name:
            if folder.parent_id is None and folder.owner_type == "USER":
                raise BadInput("My Drive cannot be renamed", field="name")
            if folder.parent_id is None and not access.is_reviewer:
                raise Forbidden("Only admins can rename a department drive")
            if folder.parent_id is not None and await _live_sibling_named(
                    session, folder.parent_id, new_name, other_than=folder.id):
                raise _name_conflict(new_name)
            folder.name = new_name
        if new_description is not UNCHANGED:
            folder.description = new_description
        after = {"name": folder.name, "description": folder.description}
        if after == before:
            return folder
        folder.updated_at = utcnow()
        try:
            await session.flush()
        except IntegrityError as exc:
            if _is_unique_violation(exc, SIBLING_CONFLICT):
                raise _name_conflict(folder.name) from None
            raise
        await audit.record_by(session, actor, "UPDATE", "FOLDER", resource_id=folder.id, resource_name=folder.name,
                              details={"before": before, "after": after})
        if folder.parent_id is not None:
            await publish.folder_event(session, folder.organization_id, folder.parent_id, "UPDATED", "FOLDER",
                                       folder.id)
    return folder


@audit.audited("MOVE", "FOLDER")
async def move_folder(db: Database, actor: Principal, *, folder_id: uuid.UUID, new_parent_id: uuid.UUID) -> Folder:
    """Move a folder (with its subtree) under another folder of the organization. Needs DELETE
    on the folder and CREATE on the new parent. One UPDATE rewrites the subtree's paths, and
    its drive (department, owner) when it crosses drives."""
    organization_id = actor.require_organization()
    async with db.transaction() as session:
        await lock_folder_tree(session, organization_id, exclusive=True)
        await permissions.require(session, actor, FOLDER, folder_id, Capability.DELETE)
        folder = await session.get(Folder, folder_id)
        if folder.parent_id is None:
            raise BadInput("A drive's root folder cannot be moved", field="folderId")
        await permissions.require(session, actor, FOLDER, new_parent_id, Capability.CREATE)
        target = await session.get(Folder, new_parent_id)
        if folder.id in target.path:
            raise BadInput("A folder cannot be moved into itself or one of its subfolders", field="newParentId")
        if target.id == folder.parent_id:
            return folder
        if await _live_sibling_named(session, target.id, folder.name):
            raise _name_conflict(folder.name)
        old_parent_id = folder.parent_id
        old_depth = len(folder.path)
        new_prefix = [*target.path, folder.id]
        f = Folder.__table__
        statement = (
            update(f)
            .where(f.c.organization_id == organization_id, f.c.path.contains([folder.id]))
            .values(
                # The moved folder's path becomes target.path + [id]; its descendants keep
                # their part below it.
                path=func.array_cat(literal(new_prefix, _UUIDS), f.c.path[old_depth + 1:func.cardinality(f.c.path)]),
                parent_id=case((f.c.id == folder.id, literal(target.id, UUID(as_uuid=True))), else_=f.c.parent_id),
                department_id=target.department_id, owner_type=target.owner_type, owner_id=target.owner_id,
                updated_at=case((f.c.id == folder.id, func.now()), else_=f.c.updated_at),
            )
        )
        try:
            await session.execute(statement)
        except IntegrityError as exc:
            if _is_unique_violation(exc, SIBLING_CONFLICT):
                raise _name_conflict(folder.name) from None
            raise
        await session.refresh(folder)
        await audit.record_by(session, actor, "MOVE", "FOLDER", resource_id=folder.id, resource_name=folder.name,
                              details={"fromParentId": str(old_parent_id), "toParentId": str(target.id)})
        await publish.node_moved(session, organization_id, old_parent_id, target.id, "FOLDER", folder.id)
    return folder


async def _has_live_content(session: AsyncSession, folder_id: uuid.UUID) -> bool:
    child = exists().where(Folder.parent_id == folder_id, Folder.deleted_at.is_(None))
    document = exists().where(Document.folder_id == folder_id, Document.deleted_at.is_(None))
    return bool((await session.execute(select(or_(child, document)))).scalar())


def _subtree(folder: Folder):
    """Folders of `folder`'s subtree (itself included), through the GIN index on path."""
    return and_(Folder.organization_id == folder.organization_id, Folder.path.contains([folder.id]))


@audit.audited("DELETE", "FOLDER")
async def delete_folder(db: Database, actor: Principal, *, folder_id: uuid.UUID,
                        comment: str | None = None) -> Folder | Approval:
    """Soft-delete the folder and everything live below it (folders and documents) as one
    deletion set. Needs DELETE. A folder that still holds live subfolders or documents, deleted
    by someone who is not one of its reviewers, goes to review when the organization's policy
    says so: the PENDING approval is returned instead (approvals.py applies it later with
    `delete_folder_in`)."""
    organization_id = actor.require_organization()
    comment = clean_description(comment, field="comment", max_length=1000)
    async with db.transaction() as session:
        await lock_folder_tree(session, organization_id, exclusive=True)
        access = await permissions.require(session, actor, FOLDER, folder_id, Capability.DELETE)
        folder = await session.get(Folder, folder_id)
        if folder.parent_id is None:
            raise BadInput("A drive's root folder cannot be deleted", field="folderId")
        if await _has_live_content(session, folder.id) and await approval_required(
                session, actor, access, "FOLDER_DELETE_NONEMPTY"):
            return await request_approval_in(session, actor, "FOLDER_DELETE_NONEMPTY", folder=folder,
                                             comment=comment)
        return await delete_folder_in(session, actor, folder, comment=comment)


async def delete_folder_in(session: AsyncSession, actor: Principal, folder: Folder, *, comment: str | None,
                           approval: Approval | None = None) -> Folder:
    """Hide `folder` and its live subtree as one deletion set. The caller holds the folder-tree
    lock exclusively and has checked everything."""
    deletion_id, now = uuid.uuid4(), utcnow()
    hidden = {"deleted_at": now, "deleted_by": actor.user_id, "deletion_id": deletion_id}
    subtree = select(Folder.id).where(_subtree(folder))
    folders = await session.execute(
        update(Folder).where(_subtree(folder), Folder.deleted_at.is_(None)).values(**hidden))
    documents = await session.execute(
        update(Document).where(Document.folder_id.in_(subtree), Document.deleted_at.is_(None)).values(**hidden))
    await session.refresh(folder)
    await audit.record_by(session, actor, "DELETE", "FOLDER", resource_id=folder.id, resource_name=folder.name,
                          details={"deletionId": str(deletion_id), "folders": folders.rowcount,
                                   "documents": documents.rowcount, "comment": comment,
                                   **approval_details(approval)})
    await publish.folder_event(session, folder.organization_id, folder.parent_id, "REMOVED", "FOLDER", folder.id)
    return folder


@audit.audited("RESTORE", "FOLDER")
async def restore_folder(db: Database, actor: Principal, *, folder_id: uuid.UUID) -> Folder:
    """Bring back exactly the deletion set the folder was hidden with. Needs DELETE on it
    (implicit access has it); refused while its parent is deleted (restore that first) or
    when a live sibling took its name meanwhile."""
    organization_id = actor.require_organization()
    async with db.transaction() as session:
        await lock_folder_tree(session, organization_id, exclusive=True)
        await permissions.require(session, actor, FOLDER, folder_id, Capability.DELETE, include_deleted=True)
        folder = await session.get(Folder, folder_id)
        if folder.deleted_at is None:
            raise Conflict("This folder is not deleted")
        parent = await session.get(Folder, folder.parent_id)
        if parent.deleted_at is not None:
            raise Conflict(f'The folder "{parent.name}" that contained it is deleted; restore that first')
        if await _live_sibling_named(session, parent.id, folder.name):
            raise _name_conflict(folder.name)
        deletion_id = folder.deletion_id
        if await has_purged_content(session, Document.organization_id == organization_id,
                                    Document.deletion_id == deletion_id):
            raise Conflict("Documents in this folder stayed in the trash past the retention period; "
                           "their content is gone")
        live = {"deleted_at": None, "deleted_by": None, "deletion_id": None}
        try:
            folders = await session.execute(
                update(Folder).where(Folder.organization_id == organization_id, Folder.deletion_id == deletion_id)
                .values(**live))
            documents = await session.execute(
                update(Document).where(Document.organization_id == organization_id,
                                       Document.deletion_id == deletion_id).values(**live))
        except IntegrityError as exc:
            if _is_unique_violation(exc, SIBLING_CONFLICT):
                raise _name_conflict(folder.name) from None
            raise
        await session.refresh(folder)
        await audit.record_by(session, actor, "RESTORE", "FOLDER", resource_id=folder.id, resource_name=folder.name,
                              details={"deletionId": str(deletion_id), "folders": folders.rowcount,
                                       "documents": documents.rowcount})
        await publish.folder_event(session, organization_id, folder.parent_id, "ADDED", "FOLDER", folder.id)
    return folder


# --- reads ----------------------------------------------------------------------------------------


# How a client may order folders: each order's sort key (the id breaks ties).
FOLDER_SORT_KEYS = {
    "NAME": Key.text(func.lower(Folder.name), "sort_key"),
    "CREATED_AT": Key.time(Folder.created_at, "sort_key"),
    "UPDATED_AT": Key.time(Folder.updated_at, "sort_key"),
}
CHILDREN_ORDER = SortOrder("NAME")
# Department roots by name, then the viewer's My Drive.
_DRIVES = Keyset("drives", (Key.flag(Folder.owner_type == "USER", "personal"),
                            Key.text(func.lower(Folder.name), "sort_name"), Key.id(Folder.id)))


async def list_children(db: Database, actor: Principal, folder_id: uuid.UUID, page: PageRequest, *,
                        order: SortOrder = CHILDREN_ORDER) -> tuple[Page[Folder], CountFn]:
    """Live subfolders of `folder_id` the actor may VIEW in `order` (by name by default). The
    caller has already established that the actor may see `folder_id`."""
    visible = permissions.visible_folder_ids(Actor.of(actor), Folder.parent_id == folder_id).subquery()
    keyset = Keyset(order.tag, (FOLDER_SORT_KEYS[order.field], Key.id(Folder.id)), order.descending)
    return await _visible_folders_page(db, visible, keyset, page)


def _visible_drives(actor: Principal) -> Any:
    who = Actor.of(actor)
    return permissions.visible_folder_ids(
        who, Folder.parent_id.is_(None), or_(Folder.owner_type == "ORG", Folder.owner_id == who.user_id),
    ).subquery()


async def list_drives(db: Database, actor: Principal) -> list[Folder]:
    """The department roots the actor may view (by name), then the actor's own My Drive."""
    visible = _visible_drives(actor)
    query = select(Folder).join(visible, visible.c.id == Folder.id).order_by(*_DRIVES.list_order())
    async with db.reading() as session:
        return list((await session.execute(query)).scalars())


async def drives_page(db: Database, actor: Principal, page: PageRequest) -> tuple[Page[Folder], CountFn]:
    """A page of `list_drives`, and their count."""
    return await _visible_folders_page(db, _visible_drives(actor), _DRIVES, page)


async def _visible_folders_page(db: Database, visible: Any, keyset: Keyset,
                                page: PageRequest) -> tuple[Page[Folder], CountFn]:
    query = select(Folder, *(key.labelled() for key in keyset.keys[:-1])).join(visible, visible.c.id == Folder.id)
    result = await read_page(db, query, keyset, page, key_of=lambda row: (*row[1:], row.Folder.id),
                             row_of=lambda row: row.Folder)
    return result, counter(db, visible)


async def folders_by_ids(db: Database, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Folder]:
    """Folder rows by id, no access check (the caller has checked, or shows what it may)."""
    return await db.rows_by_ids(Folder, ids)


async def my_drives(db: Database, keys: Sequence[OrgUser]) -> dict[OrgUser, Folder]:
    """The My Drive root of each (organization, member)."""
    query = select(Folder).where(
        tuple_(Folder.organization_id, Folder.owner_id).in_(list(keys)),
        Folder.owner_type == "USER", Folder.parent_id.is_(None),
    )
    async with db.reading() as session:
        rows = (await session.execute(query)).scalars().all()
    return {(row.organization_id, row.owner_id): row for row in rows}
