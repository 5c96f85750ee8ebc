"""The building blocks every domain's types share: the Node interface and how a type shows
rows (`node_id`, `shows`, `lazy_type`), connections (a page of rows shaped as edges, page info
and a lazy totalCount) with the four arguments every connection takes (`First`, `After`,
`Last`, `Before`: `page_request` reads them), and `selects`, which lets a connection prefetch
what the query will ask of its nodes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from .. import globalid
from ..pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, CountFn, Flag, Page, PageRequest
from .context import Info, Later

T = TypeVar("T")


@strawberry.interface(description="An object with a global ID, which `node` and `nodes` fetch again.")
class Node:
    id: strawberry.ID = strawberry.field(description="The object's global ID: opaque, stable, unique across types.")


# The arguments every connection takes.
First = Annotated[int | None, strawberry.argument(description=(
    f"Page forward: the first items after `after` (or from the start), at most this many (0 to {MAX_PAGE_SIZE}; "
    f"default {DEFAULT_PAGE_SIZE} when `last` is not given either)."))]
After = Annotated[str | None, strawberry.argument(
    description="Only items after this cursor (an edge's cursor, or pageInfo.endCursor of the page before).")]
Last = Annotated[int | None, strawberry.argument(description=(
    f"Page backward: the last items before `before` (or up to the end), at most this many (0 to {MAX_PAGE_SIZE}). "
    "Not with `first`."))]
Before = Annotated[str | None, strawberry.argument(
    description="Only items before this cursor (an edge's cursor, or pageInfo.startCursor of the page after).")]


def page_request(first: int | None, after: str | None, last: int | None, before: str | None) -> PageRequest:
    """The page a connection's four arguments ask for (BAD_USER_INPUT when they do not fit)."""
    return PageRequest.parse(first, after, last, before)


def node_id(type_name: str) -> Any:
    """The `id` field of a Node type whose objects are rows: the row's opaque global ID."""
    def resolve(root: Any) -> strawberry.ID:
        return strawberry.ID(globalid.encode(type_name, root.id))

    return strawberry.field(resolver=resolve, description=f"The {type_name}'s global ID (opaque; use it with `node`).")


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


def _flag(flag: Flag) -> Later[bool]:
    return flag if isinstance(flag, bool) else flag()


@strawberry.type(description="Where a page stands in its list, and the cursors to page on from it.")
class PageInfo:
    next_flag: strawberry.Private[Flag]
    previous_flag: strawberry.Private[Flag]

    @strawberry.field(graphql_type=bool, description="Whether items follow this page in the list (exact).")
    def has_next_page(self) -> Later[bool]:
        return _flag(self.next_flag)

    @strawberry.field(graphql_type=bool, description="Whether items come before this page in the list (exact).")
    def has_previous_page(self) -> Later[bool]:
        return _flag(self.previous_flag)

    start_cursor: str | None = strawberry.field(
        description="The first edge's cursor: pass it as `before` for the previous page; null on an empty page.")
    end_cursor: str | None = strawberry.field(
        description="The last edge's cursor: pass it as `after` for the next page; null on an empty page.")


@strawberry.type(description="One item of a page, with the cursor that marks its place in the list.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position of this item; stays valid while items are added.")
    node: T = strawberry.field(description="The item itself.")


@strawberry.type(description="A page of a list: its items in order, where the page stands, and the list's size.")
class Connection(Generic[T]):
    """A page of T. `totalCount` runs its own count query, only when asked for."""

    edges: list[Edge[T]] = strawberry.field(description="The page's items, in list order.")
    page_info: PageInfo = strawberry.field(description="Whether more items come before or after, and the cursors.")
    count: strawberry.Private[CountFn]

    @strawberry.field(description="How many items the whole list holds (every page), as the viewer sees it.")
    async def total_count(self) -> int:
        return await self.count()


def page_info(page: Page[Any]) -> PageInfo:
    return PageInfo(
        next_flag=page.has_next_page,
        previous_flag=page.has_previous_page,
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
