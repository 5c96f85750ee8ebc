"""How a listing of documents is read (a folder's documents, search): visibility is filtered
inside PostgreSQL (`permissions.visible_documents_access`), so keyset pages and `totalCount` are
exact, and the same statement returns the count and each listed document's evaluation
(`Listing.access`) and the relations the caller asked to join: a page is one statement.

Documents are listed in a client's order (`document_keyset`): by name, creation, update or size,
either way, the id breaking ties."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar

from sqlalchemy import Integer, Select, bindparam, exists, func, select
from sqlalchemy.orm import aliased

from .. import permissions
from ..db import Database
from ..models import Document, DocumentVersion, User
from ..pagination import CountFn, Key, Keyset, Page, PageRequest, SortOrder, counter, known_count
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


# How a client may order documents: each order's sort key (the id breaks ties).
DOCUMENT_SORT_KEYS = {
    "NAME": Key.text(func.lower(Document.name), "sort_key"),
    "CREATED_AT": Key.time(Document.created_at, "sort_key"),
    "UPDATED_AT": Key.time(Document.updated_at, "sort_key"),
    "SIZE": Key.number(Document.file_size, "sort_key"),
}


def document_keyset(order: SortOrder) -> Keyset:
    """The keyset of a document order; its cursors carry the order (NAME:ASC, SIZE:DESC...)."""
    return Keyset(order.tag, (DOCUMENT_SORT_KEYS[order.field], Key.id(Document.id)), order.descending)


def visible_documents(actor: Actor, *where: Any, keyset: Keyset) -> Any:
    """The visible set a listing pages: live documents matching `where` that U may VIEW, with
    their evaluation, the total, and the keyset's sort keys read with the candidates."""
    carried = {key.name: key.expression for key in keyset.keys[:-1]}
    return permissions.visible_documents_access(actor, *where, carry=carried).subquery("visible")


def page_then_rows(visible: Any, keyset: Keyset, page: PageRequest, *,
                   related: Iterable[Relation] = ()) -> Select[Any]:
    """A listing's statement. The page of `visible` (its rows carry their sort keys) is chosen
    first, between the page's cursors in the keyset's order, limited to `page_limit`. The
    document rows and their `related` rows are then read for the page alone: joined before the
    limit, they were read for every visible document (154 in the benchmark's folder, 1,877 in
    its search) and all but a page thrown away. Rows: Document, the evaluation's columns,
    `total`, the sort keys, then the related entities. Cursor values are parameters
    (`keyset.parameters(page)`), so one statement serves every page of a shape."""
    chosen = (select(visible).where(*keyset.bounds(page, visible.c))
              .order_by(*keyset.order_by(page, visible.c)).limit(_LIMIT)).subquery("page")
    query = (select(Document, chosen).join(chosen, chosen.c.id == Document.id)
             .order_by(*keyset.order_by(page, chosen.c)))
    for relation in related:
        entity, on = _JOINS[relation]
        query = query.add_columns(entity).outerjoin(entity, on)
    return query


async def read_listing(db: Database, query: Select[Any], visible: Any, parameters: dict[str, Any],
                       page: PageRequest, keyset: Keyset, related: tuple[Relation, ...]) -> Listing[Document]:
    """Run a listing built by `page_then_rows` for one page. The count comes with the rows;
    only a page beyond the listing's ends needs its own count statement."""
    parameters = {**parameters, **keyset.parameters(page)}
    async with db.reading() as session:
        rows = list((await session.execute(query, {**parameters, "page_limit": page.size + 1})).all())

    async def any_visible(condition: Any) -> bool:
        async with db.reading() as session:
            return bool((await session.execute(select(exists(select(visible.c.id).where(condition))),
                                               parameters)).scalar())

    sort_keys = [key.name for key in keyset.keys[:-1]]
    result = keyset.make_page(rows, page, lambda row: (*(row._mapping[name] for name in sort_keys), row.Document.id),
                              any_visible, visible.c)
    if rows or (page.after is None and page.before is None):
        count = known_count(rows[0].total if rows else 0)
    else:  # a page beyond the ends: no row carries the total
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
