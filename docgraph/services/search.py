"""Document listings: a folder's documents, a document's versions, and search.

Visibility is filtered inside PostgreSQL (`permissions.visible_documents_access`), so keyset
pages and `totalCount` are exact; the same statement returns the count and each listed
document's evaluation (`Listing.access`), so a page is one statement.

Orders (cursors carry the sort key):
- a folder's documents: lower(name), id (like its subfolders);
- search: created_at DESC, id DESC (newest first: what people look for is usually recent; a name
  order is one `folder` listing away);
- versions: version_number DESC (the newest first, as version histories are read).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import DateTime, Integer, Select, String, bindparam, func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import aliased

from .. import permissions
from ..auth.principal import Principal
from ..db import Database
from ..errors import BadInput, NotFound
from ..models import Document, DocumentVersion, Folder, User
from ..pagination import Page, PageRequest, make_page
from ..permissions import FOLDER, Access, Actor
from .validation import clean_tags, normalize_content_type

CountFn = Callable[[], Awaitable[int]]
T = TypeVar("T")
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


def counter(db: Database, subquery, parameters: dict | None = None) -> CountFn:
    async def count() -> int:
        async with db.reading() as session:
            return (await session.execute(select(func.count()).select_from(subquery), parameters)).scalar_one()

    return count


# --- listings of documents with the viewer's access ------------------------------------------------

_LIMIT = bindparam("page_limit", type_=Integer)


@dataclass
class Listing(Generic[T]):
    """One page of a listing, how to count the whole listing, the viewer's evaluation of each
    listed resource, which the listing's own statement computed (no second check), and the
    related rows it was asked to join (`RELATIONS`: name → rows, in page order)."""

    page: Page[T]
    count: CountFn
    access: list[Access] = field(default_factory=list)
    related: dict[str, list] = field(default_factory=dict)


# Relations of a document a listing can join, so that a page needs no statement per relation.
_CREATOR = aliased(User, name="creator")
RELATIONS = {
    "current_version": (DocumentVersion, DocumentVersion.id == Document.current_version_id),
    "created_by": (_CREATOR, _CREATOR.id == Document.created_by),
}


def _visible_documents(actor: Actor, *where, sort_keys: dict | None = None):
    return permissions.visible_documents_access(actor, *where, carry=sort_keys).subquery("visible")


def _page_then_rows(visible, order_by: Callable, *, where: Callable | None = None,
                    related: Iterable[str] = ()) -> Select:
    """A listing's statement. The page of `visible` (its rows carry their sort keys) is chosen
    first: `order_by(columns)` and `where(columns)` (past the cursor) over its columns, limited
    to `page_limit`. The document rows and their `related` rows are then read for the page
    alone: joined before the limit, they were read for every visible document (154 in the
    benchmark's folder, 1,877 in its search) and all but a page thrown away. Rows: Document,
    the evaluation's columns, `total`, the sort keys, then the related entities."""
    page = select(visible).order_by(*order_by(visible.c)).limit(_LIMIT)
    if where is not None:
        page = page.where(where(visible.c))
    page = page.subquery("page")
    query = select(Document, page).join(page, page.c.id == Document.id).order_by(*order_by(page.c))
    for name in related:
        entity, on = RELATIONS[name]
        query = query.add_columns(entity).outerjoin(entity, on)
    return query


async def _document_listing(db: Database, query: Select, visible, parameters: dict,
                            page: PageRequest, key_of: Callable, related: tuple[str, ...]) -> Listing[Document]:
    """Run a listing built on `visible_documents_access` (its rows: Document, the evaluation's
    columns, `total`, then the `related` entities) for one page. The count comes with the rows;
    only a page past the end of the listing needs its own count statement."""
    async with db.reading() as session:
        rows = (await session.execute(query, {**parameters, "page_limit": page.first + 1})).all()
    result = make_page(rows, page, key_of)
    if rows or page.after is None:
        count = _known(rows[0].total if rows else 0)
    else:  # a page past the end: no row carries the total
        count = counter(db, visible, parameters)
    listed = [row for _, row in result.items]
    width = len(related)
    joined = {name: [row[len(row) - width + n] for row in listed] for n, name in enumerate(related)}
    result.items = [(cursor, row.Document) for cursor, row in result.items]
    return Listing(result, count, [permissions.to_access(row) for row in listed], joined)


def _known(total: int) -> CountFn:
    async def count() -> int:
        return total

    return count


@functools.cache
def _folder_listing(after: bool, related: tuple[str, ...]) -> tuple[Select, Any]:
    """The folder listing's page statement and the visible set it pages (what a count counts),
    built once per shape: actor, folder and cursor are bind parameters."""
    in_folder = Document.folder_id == bindparam("folder_id", type_=_UUID)
    visible = _visible_documents(permissions.ACTOR_PARAMETERS, in_folder,
                                 sort_keys={"sort_name": func.lower(Document.name)})
    past_cursor = (lambda c: tuple_(c.sort_name, c.id) > tuple_(bindparam("after_name", type_=String),
                                                                bindparam("after_id", type_=_UUID))) if after else None
    query = _page_then_rows(visible, lambda c: [c.sort_name, c.id], where=past_cursor, related=related)
    return query, visible


async def list_folder_documents(db: Database, actor: Principal, folder_id: uuid.UUID, page: PageRequest, *,
                                related: Iterable[str] = ()) -> Listing[Document]:
    """Live documents of `folder_id` the actor may VIEW, by name, with the `related` rows
    (names of `RELATIONS`). The caller has established that the actor may see the folder."""
    after = after_key(page, str, uuid.UUID)
    related = tuple(sorted(related))
    query, visible = _folder_listing(after is not None, related)
    parameters = {**permissions.actor_values(Actor.of(actor)), "folder_id": folder_id}
    if after is not None:
        parameters.update(after_name=after[0], after_id=after[1])
    return await _document_listing(db, query, visible, parameters, page,
                                   key_of=lambda row: (row.sort_name, row.Document.id), related=related)


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


async def search_documents(db: Database, actor: Principal, search: DocumentFilter, page: PageRequest, *,
                           related: Iterable[str] = ()) -> Listing[Document]:
    """Live documents the actor may VIEW matching every given condition, newest first, with the
    `related` rows (names of `RELATIONS`)."""
    who = Actor.of(actor)
    conditions = _conditions(search)
    if search.folder_id is not None:
        async with db.reading() as session:
            found = await permissions.evaluate(session, who, [(FOLDER, search.folder_id)])
        if not found[(FOLDER, search.folder_id)].visible:
            raise NotFound("Folder not found")
    visible = _visible_documents(who, *conditions, sort_keys={"created_at": Document.created_at})
    past_cursor = None
    if (after := after_key(page, datetime.fromisoformat, uuid.UUID)) is not None:
        cursor = tuple_(literal(after[0], DateTime(timezone=True)), literal(after[1], _UUID))
        past_cursor = lambda c: tuple_(c.created_at, c.id) < cursor  # noqa: E731
    related = tuple(sorted(related))
    query = _page_then_rows(visible, lambda c: [c.created_at.desc(), c.id.desc()], where=past_cursor,
                            related=related)
    return await _document_listing(db, query, visible, {}, page,
                                   key_of=lambda row: (row.Document.created_at.isoformat(), row.Document.id),
                                   related=related)
