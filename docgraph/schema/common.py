"""Relay building blocks shared by every domain: Node, PageInfo and connections."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import strawberry

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
