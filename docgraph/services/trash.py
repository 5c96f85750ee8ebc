"""The trash: what the viewer deleted (organization admins and super admins: everything deleted
in the organization), one entry per delete operation.

A folder delete hides its whole subtree as one deletion set; the trash shows the set's top
folder only, as restoring it brings back the rest. A document deleted on its own is an entry;
documents deleted with their folder are not. Newest deletions first.
"""

from __future__ import annotations

import uuid

from sqlalchemy import String, exists, literal_column, select, union_all
from sqlalchemy.orm import aliased

from ..auth.principal import Principal
from ..db import Database
from ..models import Document, Folder
from ..pagination import CountFn, Key, Keyset, Page, PageRequest, counter, read_page


def _entries(actor: Principal):
    organization_id = actor.require_organization()
    sees_all = actor.is_org_admin or actor.is_super_admin
    parent, container = aliased(Folder), aliased(Folder)
    folders = select(literal_column("'FOLDER'", String).label("kind"), Folder.id, Folder.deleted_at).where(
        Folder.organization_id == organization_id, Folder.deleted_at.is_not(None),
        # the top of its deletion set: its parent was not hidden by the same delete
        ~exists().where(parent.id == Folder.parent_id, parent.deletion_id == Folder.deletion_id),
    )
    documents = (
        select(literal_column("'DOCUMENT'", String), Document.id, Document.deleted_at)
        .join(container, container.id == Document.folder_id)
        .where(Document.organization_id == organization_id, Document.deleted_at.is_not(None),
               container.deletion_id.is_distinct_from(Document.deletion_id))
    )
    if not sees_all:
        folders = folders.where(Folder.deleted_by == actor.user_id)
        documents = documents.where(Document.deleted_by == actor.user_id)
    return union_all(folders, documents).subquery("trash")


# Most recently deleted first. The keys are read from the trash's entries (folders and documents).
_NEWEST_FIRST = Keyset("deleted_at", (Key.time(None, "deleted_at"), Key.id(None)), descending=True)


async def list_trash(db: Database, actor: Principal,
                     page: PageRequest) -> tuple[Page[Folder | Document], CountFn]:
    entries = _entries(actor)
    query = select(entries.c.kind, entries.c.id, entries.c.deleted_at)
    result = await read_page(db, query, _NEWEST_FIRST, page, key_of=lambda row: (row.deleted_at, row.id),
                             columns=entries.c)
    rows = await _rows(db, [row for _, row in result.items])
    result.items = [(cursor, rows[row.id]) for cursor, row in result.items]
    return result, counter(db, entries)


async def _rows(db: Database, entries) -> dict[uuid.UUID, Folder | Document]:
    folder_ids = [e.id for e in entries if e.kind == "FOLDER"]
    document_ids = [e.id for e in entries if e.kind == "DOCUMENT"]
    async with db.reading() as session:
        found: dict[uuid.UUID, Folder | Document] = {}
        if folder_ids:
            found.update({f.id: f for f in (await session.execute(
                select(Folder).where(Folder.id.in_(folder_ids)))).scalars()})
        if document_ids:
            found.update({d.id: d for d in (await session.execute(
                select(Document).where(Document.id.in_(document_ids)))).scalars()})
    return found
