"""How a listing of documents is read (a folder's documents, search): visibility is filtered
inside PostgreSQL (`permissions.visible_documents_access`), so keyset pages and `totalCount` are
exact, and the same statement returns the count and each listed document's evaluation
(`Listing.access`) and the relations the caller asked to join: a page is one statement."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar

from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.orm import aliased

from .. import permissions
from ..db import Database
from ..models import Document, DocumentVersion, User
from ..pagination import CountFn, Page, PageRequest, counter, known_count, make_page
from ..permissions import Access, Actor

T = TypeVar("T")

_LIMIT = bindparam("page_limit", type_=Integer)


class Relation(Enum):
    """A relation of a document that a listing can join, so a page needs no statement for it."""

    CURRENT_VERSION = "current_version"
    CREATED_BY = "created_by"


_CREATOR = aliased(User, name="creator")
_JOINS = {
    Relation.CURRENT_VERSION: (DocumentVersion, DocumentVersion.id == Document.current_version_id),
    Relation.CREATED_BY: (_CREATOR, _CREATOR.id == Document.created_by),
}


@dataclass
class Listing(Generic[T]):
    """One page of a listing, how to count the whole listing, the viewer's evaluation of each
    listed resource, which the listing's own statement computed (no second check), and the
    related rows it was asked to join (relation → rows, in page order)."""

    page: Page[T]
    count: CountFn
    access: list[Access] = field(default_factory=list)
    related: dict[Relation, list[Any]] = field(default_factory=dict)


def visible_documents(actor: Actor, *where: Any, sort_keys: dict[str, Any] | None = None) -> Any:
    """The visible set a listing pages: live documents matching `where` that U may VIEW, with
    their evaluation, the total, and `sort_keys` (name → expression) read with the candidates."""
    return permissions.visible_documents_access(actor, *where, carry=sort_keys).subquery("visible")


def page_then_rows(visible: Any, order_by: Callable[[Any], list[Any]], *,
                   where: Callable[[Any], Any] | None = None, related: Iterable[Relation] = ()) -> Select[Any]:
    """A listing's statement. The page of `visible` (its rows carry their sort keys) is chosen
    first: `order_by(columns)` and `where(columns)` (past the cursor) over its columns, limited
    to `page_limit`. The document rows and their `related` rows are then read for the page
    alone: joined before the limit, they were read for every visible document (154 in the
    benchmark's folder, 1,877 in its search) and all but a page thrown away. Rows: Document,
    the evaluation's columns, `total`, the sort keys, then the related entities."""
    paged = select(visible).order_by(*order_by(visible.c)).limit(_LIMIT)
    if where is not None:
        paged = paged.where(where(visible.c))
    page = paged.subquery("page")
    query = select(Document, page).join(page, page.c.id == Document.id).order_by(*order_by(page.c))
    for relation in related:
        entity, on = _JOINS[relation]
        query = query.add_columns(entity).outerjoin(entity, on)
    return query


async def read_listing(db: Database, query: Select[Any], visible: Any, parameters: dict[str, Any],
                       page: PageRequest, key_of: Callable[[Any], tuple[Any, ...]],
                       related: tuple[Relation, ...]) -> Listing[Document]:
    """Run a listing built by `page_then_rows` for one page. The count comes with the rows;
    only a page past the end of the listing needs its own count statement."""
    async with db.reading() as session:
        rows = list((await session.execute(query, {**parameters, "page_limit": page.first + 1})).all())
    result = make_page(rows, page, key_of)
    if rows or page.after is None:
        count = known_count(rows[0].total if rows else 0)
    else:  # a page past the end: no row carries the total
        count = counter(db, visible, parameters)
    listed = [row for _, row in result.items]
    width = len(related)
    joined = {relation: [row[len(row) - width + n] for row in listed] for n, relation in enumerate(related)}
    documents = Page([(cursor, row.Document) for cursor, row in result.items], result.has_next_page,
                     result.has_previous_page)
    return Listing(documents, count, [permissions.to_access(row) for row in listed], joined)


def in_order(related: Iterable[Relation]) -> tuple[Relation, ...]:
    """The relations in one canonical order, so each shape of a statement is built once."""
    return tuple(sorted(set(related), key=lambda relation: relation.value))
