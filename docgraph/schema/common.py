"""Relay building blocks shared by every domain: Node, PageInfo and connections."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import strawberry
from strawberry.types.nodes import SelectedField

from ..pagination import Page

T = TypeVar("T")


@strawberry.interface
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    """A page of T. `totalCount` runs its own count query, only when asked for."""

    edges: list[Edge[T]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    async def total_count(self) -> int:
        return await self.count()


def selects(info, *path: str) -> bool:
    """Whether the query asks, below the field being resolved, for the field at `path` (GraphQL
    names, looking through fragments): lets a connection prefetch what its nodes will need."""
    level = [child for field in info.selected_fields for child in field.selections]  # below this field
    for name in path:
        matched = [field for selection in level for field in _fields(selection) if field.name == name]
        if not matched:
            return False
        level = [child for field in matched for child in field.selections]
    return True


def _fields(selection) -> list[SelectedField]:
    if isinstance(selection, SelectedField):
        return [selection]
    return [field for inner in selection.selections for field in _fields(inner)]


def page_info(page: Page) -> PageInfo:
    return PageInfo(
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        start_cursor=page.items[0][0] if page.items else None,
        end_cursor=page.items[-1][0] if page.items else None,
    )


def to_connection(page: Page, convert: Callable, count: Callable[[], Awaitable[int]], *,
                  connection=Connection, edge=Edge):
    """Shape a service Page into a Connection of API objects (`convert` maps row → type)."""
    return connection(
        edges=[edge(cursor=cursor, node=convert(row)) for cursor, row in page.items],
        page_info=page_info(page),
        count=count,
    )
