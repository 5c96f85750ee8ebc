"""search(filter) over documents, and the viewer's trash."""

from __future__ import annotations

import strawberry

from ..globalid import decode_as
from ..models import Folder as FolderRow
from ..pagination import PageRequest
from ..schema.common import Connection, to_connection
from ..schema.documents import Document, document_connection, joined_relations
from ..schema.folders import Folder
from ..schema.search import DocumentFilter, TrashConnection, TrashEdge
from ..services import search as search_service
from ..services import trash as trash_service
from .context import Info


def _trash_item(row):
    return Folder.from_model(row) if isinstance(row, FolderRow) else Document.from_model(row)


@strawberry.type
class Query:
    @strawberry.field(description="Live documents the viewer may see matching every condition, newest first.")
    async def search(self, info: Info, filter: DocumentFilter, first: int | None = None,
                     after: str | None = None) -> Connection[Document]:
        request = PageRequest.parse(first, after)
        conditions = search_service.DocumentFilter(
            text=filter.text, tags=filter.tags, content_types=filter.content_types,
            folder_id=decode_as(filter.folder_id, "Folder") if filter.folder_id is not None else None,
            metadata=filter.metadata, created_after=filter.created_after, created_before=filter.created_before)
        listing = await search_service.search_documents(info.context.db, info.context.principal, conditions,
                                                         request, related=joined_relations(info))
        return await document_connection(info, listing)

    @strawberry.field(description="The viewer's trash: documents and folders it deleted, or all of them for admins.")
    async def trash(self, info: Info, first: int | None = None, after: str | None = None) -> TrashConnection:
        request = PageRequest.parse(first, after)
        page, count = await trash_service.list_trash(info.context.db, info.context.principal, request)
        return to_connection(page, _trash_item, count, connection=TrashConnection, edge=TrashEdge)
