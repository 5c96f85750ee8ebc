"""Document listings: a folder's documents, a document's versions, and search.

Visibility is filtered inside PostgreSQL (`permissions.visible_document_ids`), so keyset pages
and `totalCount` are exact.

Orders (cursors carry the sort key):
- a folder's documents: lower(name), id (like its subfolders);
- search: created_at DESC, id DESC (newest first: what people look for is usually recent; a name
  order is one `folder` listing away);
- versions: version_number DESC (the newest first, as version histories are read).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Select, func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import UUID

from .. import permissions
from ..auth.principal import Principal
from ..db import Database
from ..errors import BadInput, NotFound
from ..models import Document, DocumentVersion, Folder
from ..pagination import Page, PageRequest, make_page
from ..permissions import FOLDER, Actor
from .validation import clean_tags, normalize_content_type

CountFn = Callable[[], Awaitable[int]]
_UUID = UUID(as_uuid=True)
_metadata = Document.__table__.c.metadata


def after_key(page: PageRequest, *types: Callable[[str], Any]) -> tuple | None:
    """The `after` cursor decoded into typed values; BAD_USER_INPUT when it does not fit."""
    if page.after is None:
        return None
    if len(page.after) != len(types) or any(part is None for part in page.after):
        raise BadInput("Malformed cursor", argument="after")
    try:
        return tuple(convert(part) for convert, part in zip(types, page.after))
    except (TypeError, ValueError):
        raise BadInput("Malformed cursor", argument="after") from None


async def fetch_page(db: Database, query: Select, page: PageRequest, key_of: Callable,
                     row_of: Callable = lambda row: row) -> Page:
    """Run a keyset query (already ordered and filtered past the cursor) for one page."""
    async with db.reading() as session:
        rows = (await session.execute(query.limit(page.first + 1))).all()
    result = make_page(rows, page, key_of)
    result.items = [(cursor, row_of(row)) for cursor, row in result.items]
    return result


def counter(db: Database, subquery) -> CountFn:
    async def count() -> int:
        async with db.reading() as session:
            return (await session.execute(select(func.count()).select_from(subquery))).scalar_one()

    return count


# --- a folder's documents -------------------------------------------------------------------------

async def list_folder_documents(db: Database, actor: Principal, folder_id: uuid.UUID,
                                page: PageRequest) -> tuple[Page[Document], CountFn]:
    """Live documents of `folder_id` the actor may VIEW, by name. The caller has established
    that the actor may see the folder."""
    visible = permissions.visible_document_ids(Actor.of(actor), Document.folder_id == folder_id).subquery()
    sort_name = func.lower(Document.name)
    query = select(Document, sort_name.label("sort_name")).join(visible, visible.c.id == Document.id)
    if (after := after_key(page, str, uuid.UUID)) is not None:
        query = query.where(tuple_(sort_name, Document.id) > tuple_(literal(after[0]), literal(after[1], _UUID)))
    query = query.order_by(sort_name, Document.id)
    result = await fetch_page(db, query, page, key_of=lambda row: (row.sort_name, row.Document.id),
                              row_of=lambda row: row.Document)
    return result, counter(db, visible)


# --- versions -------------------------------------------------------------------------------------

async def list_versions(db: Database, document_id: uuid.UUID, page: PageRequest) -> tuple[Page, CountFn]:
    """A document's versions, newest first. The caller has established that the actor may see
    the document."""
    query = select(DocumentVersion).where(DocumentVersion.document_id == document_id)
    if (after := after_key(page, int)) is not None:
        query = query.where(DocumentVersion.version_number < after[0])
    query = query.order_by(DocumentVersion.version_number.desc())
    result = await fetch_page(db, query, page, key_of=lambda row: (row.DocumentVersion.version_number,),
                              row_of=lambda row: row.DocumentVersion)
    return result, counter(db, select(DocumentVersion.id).where(DocumentVersion.document_id == document_id).subquery())


# --- search ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DocumentFilter:
    text: str | None = None
    tags: list[str] | None = None
    content_types: list[str] | None = None
    folder_id: uuid.UUID | None = None
    metadata: Any = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def _conditions(search: DocumentFilter) -> list:
    where = []
    if search.text:
        where.append(func.lower(Document.name).contains(search.text.strip().lower(), autoescape=True))
    if search.tags:
        where.append(Document.tags.contains(clean_tags(search.tags)))
    if search.content_types:
        where.append(Document.content_type.in_([normalize_content_type(t) for t in search.content_types]))
    if search.folder_id is not None:
        # The folder and everything below it: its id is on the path of every folder there.
        where.append(Folder.path.contains([search.folder_id]))
    if search.metadata is not None:
        if not isinstance(search.metadata, dict):
            raise BadInput("metadata must be a JSON object", field="metadata")
        where.append(_metadata.contains(search.metadata))
    if search.created_after is not None:
        where.append(Document.created_at >= search.created_after)
    if search.created_before is not None:
        where.append(Document.created_at < search.created_before)
    return where


async def search_documents(db: Database, actor: Principal, search: DocumentFilter,
                           page: PageRequest) -> tuple[Page[Document], CountFn]:
    """Live documents the actor may VIEW matching every given condition, newest first."""
    who = Actor.of(actor)
    conditions = _conditions(search)
    if search.folder_id is not None:
        async with db.reading() as session:
            found = await permissions.evaluate(session, who, [(FOLDER, search.folder_id)])
        if not found[(FOLDER, search.folder_id)].visible:
            raise NotFound("Folder not found")
    visible = permissions.visible_document_ids(who, *conditions).subquery()
    query = select(Document).join(visible, visible.c.id == Document.id)
    if (after := after_key(page, datetime.fromisoformat, uuid.UUID)) is not None:
        query = query.where(tuple_(Document.created_at, Document.id) < tuple_(literal(after[0], DateTime(timezone=True)),
                                                                           literal(after[1], _UUID)))
    query = query.order_by(Document.created_at.desc(), Document.id.desc())
    result = await fetch_page(db, query, page, key_of=lambda row: (row.Document.created_at.isoformat(), row.Document.id),
                              row_of=lambda row: row.Document)
    return result, counter(db, visible)
