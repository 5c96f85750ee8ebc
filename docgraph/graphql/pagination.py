"""The building blocks every domain's types share: the Node interface and how a type shows
rows (`node_id`, `shows`, `lazy_type`), connections (a page of rows shaped as edges, page info
and a lazy totalCount), and `selects`, which lets a connection prefetch what the query will ask
of its nodes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from .. import globalid
from ..pagination import CountFn, Page
from .context import Info

T = TypeVar("T")


@strawberry.interface
class Node:
    id: strawberry.ID


def node_id(type_name: str) -> Any:
    """The `id` field of a Node type whose objects are rows: the row's opaque global ID."""
    def resolve(root: Any) -> strawberry.ID:
        return strawberry.ID(globalid.encode(type_name, root.id))

    return strawberry.field(resolver=resolve)


def shows(*row_types: type) -> Callable[[Any, Any], bool]:
    """The `is_type_of` of an API type whose objects are rows of `row_types`: how unions and
    interfaces (Node, TrashItem, ...) tell which type a row is shown as."""
    def is_type_of(obj: Any, _info: Any) -> bool:
        return isinstance(obj, row_types)

    return is_type_of


def lazy_type(name: str, module: str) -> Any:
    """The API type `name` of `module`, resolved when the schema is built: how a type names a
    type of a domain that imports its own (the API's graph has cycles; its modules do not)."""
    return Annotated[name, strawberry.lazy(module)]


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
    count: strawberry.Private[CountFn]

    @strawberry.field
    async def total_count(self) -> int:
        return await self.count()


def page_info(page: Page[Any]) -> PageInfo:
    return PageInfo(
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        start_cursor=page.items[0][0] if page.items else None,
        end_cursor=page.items[-1][0] if page.items else None,
    )


def to_connection(page: Page[Any], count: CountFn) -> Connection[Any]:
    """A service Page as a Connection: the rows are the nodes (the API types read them)."""
    return Connection(edges=[Edge(cursor=cursor, node=row) for cursor, row in page.items],
                      page_info=page_info(page), count=count)


def selects(info: Info, *path: str) -> bool:
    """Whether the query asks, below the field being resolved, for the field at `path` (GraphQL
    names, looking through fragments): lets a connection prefetch what its nodes will need."""
    level = [child for field in info.selected_fields for child in field.selections]  # below this field
    for name in path:
        matched = [field for selection in level for field in _fields(selection) if field.name == name]
        if not matched:
            return False
        level = [child for field in matched for child in field.selections]
    return True


def _fields(selection: Selection) -> list[SelectedField]:
    if isinstance(selection, SelectedField):
        return [selection]
    return [field for inner in selection.selections for field in _fields(inner)]
