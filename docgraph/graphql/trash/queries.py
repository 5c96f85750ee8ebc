"""trash: what the viewer deleted (organization admins: everything deleted)."""

from __future__ import annotations

import strawberry

from ...services import trash as trash_service
from ..context import Info
from ..pagination import After, Before, First, Last, page_info, page_request
from .types import TrashConnection, TrashEdge


@strawberry.type
class Query:
    @strawberry.field(description="The viewer's trash: documents and folders it deleted, or all of them for admins.")
    async def trash(self, info: Info, first: First = None, after: After = None, last: Last = None,
                    before: Before = None) -> TrashConnection:
        request = page_request(first, after, last, before)
        page, count = await trash_service.list_trash(info.context.db, info.context.principal, request)
        return TrashConnection(edges=[TrashEdge(cursor=cursor, node=row) for cursor, row in page.items],
                               page_info=page_info(page), count=count)
