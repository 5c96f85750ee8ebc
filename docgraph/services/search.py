"""Search: live documents the viewer may see matching every given condition, newest first
(created_at DESC, id DESC: what people look for is usually recent) unless the client orders
them otherwise. The listing itself is read as every document listing is (listings.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func

from .. import permissions
from ..auth.principal import Principal
from ..db import Database
from ..errors import NotFound
from ..models import Document, Folder
from ..pagination import PageRequest, SortOrder
from ..permissions import FOLDER, Actor
from .listings import (
    Listing,
    Relation,
    document_keyset,
    in_order,
    page_then_rows,
    read_listing,
    visible_documents,
)
from .validation import clean_content_types, clean_metadata, clean_search_text, clean_tags

_metadata = Document.__table__.c.metadata


# Content types one search may name.
MAX_FILTER_TYPES = 50


@dataclass(frozen=True)
class DocumentFilter:
    text: str | None = None
    tags: list[str] | None = None
    content_types: list[str] | None = None
    folder_id: uuid.UUID | None = None
    metadata: Any = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def _conditions(search: DocumentFilter) -> list[Any]:
    where = []
    if search.text:
        where.append(func.lower(Document.name).contains(clean_search_text(search.text).lower(), autoescape=True))
    if search.tags:
        where.append(Document.tags.contains(clean_tags(search.tags)))
    if search.content_types:
        where.append(Document.content_type.in_(
            clean_content_types(search.content_types, field="contentTypes", max_count=MAX_FILTER_TYPES)))
    if search.folder_id is not None:
        # The folder and everything below it: its id is on the path of every folder there.
        where.append(Folder.path.contains([search.folder_id]))
    if search.metadata is not None:
        where.append(_metadata.contains(clean_metadata(search.metadata)))
    if search.created_after is not None:
        where.append(Document.created_at >= search.created_after)
    if search.created_before is not None:
        where.append(Document.created_at < search.created_before)
    return where


SEARCH_ORDER = SortOrder("CREATED_AT", descending=True)  # newest first


async def search_documents(db: Database, actor: Principal, search: DocumentFilter, page: PageRequest, *,
                           order: SortOrder = SEARCH_ORDER, related: Iterable[Relation] = ()) -> Listing[Document]:
    """Live documents the actor may VIEW matching every given condition in `order` (newest first
    by default), with the `related` rows."""
    who = Actor.of(actor)
    conditions = _conditions(search)
    if search.folder_id is not None:
        async with db.reading() as session:
            found = await permissions.evaluate(session, who, [(FOLDER, search.folder_id)])
        if not found[(FOLDER, search.folder_id)].visible:
            raise NotFound("Folder not found")
    keyset = document_keyset(order)
    visible = visible_documents(who, *conditions, keyset=keyset)
    joins = in_order(related)
    query = page_then_rows(visible, keyset, page, related=joins)
    return await read_listing(db, query, visible, {}, page, keyset, related=joins)
