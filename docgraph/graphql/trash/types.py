"""The trash as API types. Its connection is declared by hand: a generic Connection over the
TrashItem union would be named after the union (TrashItemConnection), not TrashConnection."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from ...pagination import CountFn
from ..documents.types import Document
from ..folders.types import Folder
from ..pagination import PageInfo

TrashItem = Annotated[Folder | Document, strawberry.union("TrashItem")]


@strawberry.type
class TrashEdge:
    cursor: str
    node: Any = strawberry.field(graphql_type=TrashItem)


@strawberry.type
class TrashConnection:
    edges: list[TrashEdge]
    page_info: PageInfo
    count: strawberry.Private[CountFn]

    @strawberry.field
    async def total_count(self) -> int:
        return await self.count()
