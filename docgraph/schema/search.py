"""Search filter and the trash, as API types.

The trash's connection types are declared by hand: a generic Connection over the TrashItem
union would be named after the union (TrashItemConnection), not TrashConnection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from .common import PageInfo
from .documents import Document
from .folders import Folder

TrashItem = Annotated[Folder | Document, strawberry.union("TrashItem")]


@strawberry.input
class DocumentFilter:
    text: str | None = strawberry.field(default=None, description="Case-insensitive substring of the name.")
    tags: list[str] | None = strawberry.field(default=None, description="Documents carrying all of these tags.")
    content_types: list[str] | None = None
    folder_id: strawberry.ID | None = strawberry.field(
        default=None, description="Restrict to this folder and everything below it.")
    metadata: JSON | None = strawberry.field(
        default=None, description="Documents whose metadata contains this JSON object.")
    created_after: datetime | None = None
    created_before: datetime | None = None


@strawberry.type
class TrashEdge:
    cursor: str
    node: TrashItem


@strawberry.type
class TrashConnection:
    edges: list[TrashEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    async def total_count(self) -> int:
        return await self.count()
