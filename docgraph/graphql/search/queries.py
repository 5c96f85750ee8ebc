"""search(filter): live documents the viewer may see matching every condition, newest first."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ... import models
from ...globalid import decode_as
from ...services import search as search_service
from ..context import Info
from ..documents.types import Document, DocumentOrder, document_connection, joined_relations, sort_order
from ..pagination import After, Before, Connection, First, Last, page_request
from .types import DocumentFilter


@strawberry.type
class Query:
    @strawberry.field(graphql_type=Connection[Document],
                      description="Live documents the viewer may see matching every condition, newest first "
                                  "unless orderBy says otherwise.")
    async def search(self, info: Info, filter: Annotated[DocumentFilter, strawberry.argument(
            description="Conditions the documents must meet (all of them).")],
                     order_by: Annotated[DocumentOrder | None, strawberry.argument(
                         description="The order of the results; by default newest first.")] = None,
                     first: First = None, after: After = None, last: Last = None,
                     before: Before = None) -> Connection[models.Document]:
        request = page_request(first, after, last, before)
        conditions = search_service.DocumentFilter(
            text=filter.text, tags=filter.tags, content_types=filter.content_types,
            folder_id=decode_as(filter.folder_id, "Folder") if filter.folder_id is not None else None,
            metadata=filter.metadata, created_after=filter.created_after, created_before=filter.created_before)
        listing = await search_service.search_documents(info.context.db, info.context.principal, conditions,
                                                         request, related=joined_relations(info),
                                                         order=sort_order(order_by, search_service.SEARCH_ORDER))
        return await document_connection(info, listing)
