"""The trash as API types. Its connection is declared by hand: a generic Connection over the
TrashItem union would be named after the union (TrashItemConnection), not TrashConnection."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from ...pagination import CountFn
from ..documents.types import Document
from ..folders.types import Folder
from ..pagination import PageInfo

TrashItem = Annotated[Folder | Document, strawberry.union(
    "TrashItem", description="Something deleted: a folder (with what it held) or a document.")]


@strawberry.type(description="One deleted item, with the cursor that marks its place in the trash.")
class TrashEdge:
    cursor: str = strawberry.field(description="Opaque position of this item; stays valid while items are added.")
    node: Any = strawberry.field(graphql_type=TrashItem, description="The deleted folder or document.")


@strawberry.type(description="A page of the trash, most recently deleted first.")
class TrashConnection:
    edges: list[TrashEdge] = strawberry.field(description="The page's items, in list order.")
    page_info: PageInfo = strawberry.field(description="Whether more items come before or after, and the cursors.")
    count: strawberry.Private[CountFn]

    @strawberry.field(description="How many items the whole trash holds, as the viewer sees it.")
    async def total_count(self) -> int:
        return await self.count()
