"""Keyset pagination: opaque cursors over a row's sort key, stable while rows are added, and
the few helpers every listing shares (decoding a cursor into typed values, running a page,
counting lazily)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from .db import Database
from .errors import BadInput

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50

T = TypeVar("T")

# How a listing counts its whole set: called only when a client asks for `totalCount`.
CountFn = Callable[[], Awaitable[int]]


@dataclass(frozen=True)
class PageRequest:
    first: int = DEFAULT_PAGE_SIZE
    # The sort key of the last row already seen, decoded from the `after` cursor.
    after: tuple[Any, ...] | None = None

    @classmethod
    def parse(cls, first: int | None, after: str | None) -> PageRequest:
        if first is None:
            first = DEFAULT_PAGE_SIZE
        if not 0 <= first <= MAX_PAGE_SIZE:
            raise BadInput(f"`first` must be between 0 and {MAX_PAGE_SIZE}", argument="first")
        return cls(first=first, after=decode_cursor(after) if after else None)


@dataclass
class Page(Generic[T]):
    """One page of rows, each with its cursor, plus whether more rows follow."""

    items: list[tuple[str, T]]
    has_next_page: bool
    has_previous_page: bool


def encode_cursor(key: tuple[Any, ...]) -> str:
    raw = json.dumps([str(part) if part is not None else None for part in key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, ...]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeError, binascii.Error):
        raise BadInput("Malformed cursor", argument="after") from None
    if not isinstance(key, list) or not key or not all(isinstance(p, str | None) for p in key):
        raise BadInput("Malformed cursor", argument="after")
    return tuple(key)


def after_key(page: PageRequest, *types: Callable[[str], Any]) -> tuple[Any, ...] | None:
    """The `after` cursor decoded into typed values; BAD_USER_INPUT when it does not fit."""
    if page.after is None:
        return None
    if len(page.after) != len(types) or any(part is None for part in page.after):
        raise BadInput("Malformed cursor", argument="after")
    try:
        return tuple(convert(part) for convert, part in zip(types, page.after, strict=True))
    except (TypeError, ValueError):
        raise BadInput("Malformed cursor", argument="after") from None


def make_page(rows: list[T], request: PageRequest, key_of: Callable[[T], tuple[Any, ...]]) -> Page[T]:
    """Rows fetched with LIMIT first+1, in order; the extra row only tells a next page exists."""
    has_next = len(rows) > request.first
    rows = rows[: request.first]
    return Page(
        items=[(encode_cursor(key_of(row)), row) for row in rows],
        has_next_page=has_next,
        has_previous_page=request.after is not None,
    )


async def fetch_page(db: Database, query: Select[Any], page: PageRequest, key_of: Callable[[Any], tuple[Any, ...]],
                     row_of: Callable[[Any], Any] = lambda row: row) -> Page[Any]:
    """Run a keyset query (already ordered and filtered past the cursor) for one page."""
    async with db.reading() as session:
        rows = list((await session.execute(query.limit(page.first + 1))).all())
    result = make_page(rows, page, key_of)
    result.items = [(cursor, row_of(row)) for cursor, row in result.items]
    return result


def counter(db: Database, subquery: Any, parameters: dict[str, Any] | None = None) -> CountFn:
    """Counts the rows of `subquery` (a listing's whole set) in its own read, when called."""
    async def count() -> int:
        async with db.reading() as session:
            return int((await session.execute(select(func.count()).select_from(subquery), parameters)).scalar_one())

    return count


def known_count(total: int) -> CountFn:
    """A count the listing's own statement already returned."""
    async def count() -> int:
        return total

    return count
