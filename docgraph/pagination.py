"""Keyset pagination, both ways: `first`/`after` pages forward, `last`/`before` backward.

A listing's order is a `Keyset`: sort keys ending with a unique one (an id), so no two rows
tie, all ascending or all descending. A cursor holds the key of its row and the tag of the order
it was made in (a cursor of a name order is refused by a size order instead of jumping
somewhere). A page reads `size + 1` rows past its cursor, so the flag in the direction of travel
(`hasNextPage` forward, `hasPreviousPage` backward) is exact at no cost; the other flag is exact
too, found by one small EXISTS query only when a client asks for it.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import BigInteger, Boolean, DateTime, Select, String, bindparam, exists, func, select, tuple_
from sqlalchemy.types import TypeEngine, Uuid

from .db import Database
from .errors import BadInput

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50

T = TypeVar("T")

# How a listing counts its whole set: called only when a client asks for `totalCount`.
CountFn = Callable[[], Awaitable[int]]
# A pageInfo flag: known at once, or found out (one query) when a client asks for it.
Flag = bool | Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class PageRequest:
    """Which page a client asks for: `size` rows after `after` (forward), or the last `size`
    rows before `before` (backward); either cursor may also bound the other way."""

    size: int = DEFAULT_PAGE_SIZE
    backward: bool = False
    # Cursors as decoded: the order's tag, then the key's parts (as strings).
    after: tuple[str, ...] | None = None
    before: tuple[str, ...] | None = None

    @classmethod
    def parse(cls, first: int | None = None, after: str | None = None, last: int | None = None,
              before: str | None = None) -> PageRequest:
        if first is not None and last is not None:
            raise BadInput("Give `first` (page forward) or `last` (page backward), not both", argument="last")
        backward = last is not None
        size, name = (last, "last") if backward else (first, "first")
        if size is None:
            size = DEFAULT_PAGE_SIZE
        if not 0 <= size <= MAX_PAGE_SIZE:
            raise BadInput(f"`{name}` must be between 0 and {MAX_PAGE_SIZE}", argument=name)
        return cls(size=size, backward=backward, after=_decode(after, "after") if after else None,
                   before=_decode(before, "before") if before else None)

    @property
    def shape(self) -> tuple[bool, bool, bool]:
        """What a statement for this page depends on besides values: direction and bounds."""
        return self.backward, self.after is not None, self.before is not None

    @classmethod
    def of_shape(cls, shape: tuple[bool, bool, bool]) -> PageRequest:
        """A request of this shape, to build a statement that serves every request of it."""
        backward, after, before = shape
        return cls(backward=backward, after=("",) if after else None, before=("",) if before else None)


@dataclass(frozen=True)
class SortOrder:
    """A client's choice of order for a listing: one of its fields (NAME, CREATED_AT...) and a
    direction. `tag` names it inside cursors."""

    field: str
    descending: bool = False

    @property
    def tag(self) -> str:
        return f"{self.field}:{'DESC' if self.descending else 'ASC'}"


@dataclass
class Page(Generic[T]):
    """One page of rows in list order, each with its cursor, and whether rows come after it or
    before it."""

    items: list[tuple[str, T]]
    has_next_page: Flag
    has_previous_page: Flag


def _encode(parts: Sequence[str]) -> str:
    raw = json.dumps(list(parts), separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, argument: str) -> tuple[str, ...]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeError, binascii.Error):
        raise BadInput("Malformed cursor", argument=argument) from None
    if not isinstance(parts, list) or len(parts) < 2 or not all(isinstance(part, str) for part in parts):
        raise BadInput("Malformed cursor", argument=argument)
    return tuple(parts)


@dataclass(frozen=True)
class Key:
    """One sort key: its SQL expression, the SQL type of its values, how a cursor's text reads
    back, and the name of the column carrying it when a listing pages a subquery."""

    expression: Any
    type: TypeEngine[Any]
    read: Callable[[str], Any]
    name: str

    @staticmethod
    def text(expression: Any, name: str) -> Key:
        return Key(expression, String(), str, name)

    @staticmethod
    def id(expression: Any, name: str = "id") -> Key:
        return Key(expression, Uuid(as_uuid=True), uuid.UUID, name)

    @staticmethod
    def time(expression: Any, name: str) -> Key:
        return Key(expression, DateTime(timezone=True), datetime.fromisoformat, name)

    @staticmethod
    def number(expression: Any, name: str) -> Key:
        return Key(expression, BigInteger(), int, name)

    @staticmethod
    def flag(expression: Any, name: str) -> Key:
        return Key(expression, Boolean(), _read_flag, name)

    def labelled(self) -> Any:
        """The key's expression named as its column (for the select list of what is paged)."""
        return self.expression.label(self.name)


def _read_flag(text: str) -> bool:
    if text not in ("True", "False"):
        raise ValueError(text)
    return text == "True"


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


@dataclass(frozen=True)
class Keyset:
    """A listing's order: `keys` in order, the last unique, all ascending or all `descending`.
    `tag` names the order inside its cursors. Methods take `columns` when the keys are to be read
    from a subquery's columns of the same names instead (listing statements page a subquery)."""

    tag: str
    keys: tuple[Key, ...]
    descending: bool = False

    def _expressions(self, columns: Any = None) -> list[Any]:
        if columns is None:
            return [key.expression for key in self.keys]
        return [columns[key.name] for key in self.keys]

    def order_by(self, page: PageRequest, columns: Any = None) -> list[Any]:
        """The ORDER BY that reads the page's rows from its starting cursor on (backward pages
        read from their end: rows come reversed, and `make_page` turns them round)."""
        descending = self.descending != page.backward
        return [e.desc() if descending else e.asc() for e in self._expressions(columns)]

    def list_order(self, columns: Any = None) -> list[Any]:
        """The ORDER BY of the whole list, in its own order (for lists read in one go)."""
        return [e.desc() if self.descending else e.asc() for e in self._expressions(columns)]

    def _bound(self, side: str, columns: Any, *, later: bool, inclusive: bool = False) -> Any:
        """The rows `later` (in list order) than the cursor bound to parameters `{side}_0...`,
        or earlier; `inclusive` takes the cursor's own key too."""
        left = tuple_(*self._expressions(columns))
        right = tuple_(*(bindparam(f"{side}_{n}", type_=key.type) for n, key in enumerate(self.keys)))
        greater = later != self.descending
        if greater:
            return left >= right if inclusive else left > right
        return left <= right if inclusive else left < right

    def bounds(self, page: PageRequest, columns: Any = None) -> list[Any]:
        """WHERE conditions keeping the rows between the page's cursors (parameters: `parameters`)."""
        conditions = []
        if page.after is not None:
            conditions.append(self._bound("after", columns, later=True))
        if page.before is not None:
            conditions.append(self._bound("before", columns, later=False))
        return conditions

    def parameters(self, page: PageRequest) -> dict[str, Any]:
        """The cursors' key values, typed, for the parameters of `bounds` and `beyond`."""
        values: dict[str, Any] = {}
        for side, cursor in (("after", page.after), ("before", page.before)):
            if cursor is None:
                continue
            tag, *parts = cursor
            if tag != self.tag:
                raise BadInput(f"This `{side}` cursor belongs to another listing or ordering", argument=side)
            if len(parts) != len(self.keys):
                raise BadInput("Malformed cursor", argument=side)
            try:
                values.update({f"{side}_{n}": key.read(part)
                               for n, (key, part) in enumerate(zip(self.keys, parts, strict=True))})
            except (TypeError, ValueError, KeyError):
                raise BadInput("Malformed cursor", argument=side) from None
        return values

    def beyond(self, page: PageRequest, columns: Any = None) -> tuple[Any | None, Any | None]:
        """Conditions for rows outside the page's bounds: (at or before `after`, at or after
        `before`); None where the page has no such cursor."""
        earlier = self._bound("after", columns, later=False, inclusive=True) if page.after is not None else None
        later = self._bound("before", columns, later=True, inclusive=True) if page.before is not None else None
        return earlier, later

    def cursor(self, values: Sequence[Any]) -> str:
        return _encode([self.tag, *(_text(value) for value in values)])

    def make_page(self, rows: list[Any], page: PageRequest, key_of: Callable[[Any], Sequence[Any]],
                  exists: Callable[[Any], Awaitable[bool]], columns: Any = None) -> Page[Any]:
        """A page from rows read in `order_by(page)` order with LIMIT size + 1. `exists(condition)`
        tells whether any row of the listing meets a `beyond` condition: it answers the flag
        pointing away from the direction of travel, when a client asks for it."""
        more = len(rows) > page.size
        rows = rows[: page.size]
        if page.backward:
            rows.reverse()
        earlier, later = self.beyond(page, columns)
        before_page = _asked(exists, earlier) if earlier is not None else False
        after_page = _asked(exists, later) if later is not None else False
        # The extra row read tells at once whether more rows lie in the direction of travel.
        if page.backward:
            before_page = True if more else before_page
        else:
            after_page = True if more else after_page
        return Page([(self.cursor(key_of(row)), row) for row in rows],
                    has_next_page=after_page, has_previous_page=before_page)


def _asked(exists: Callable[[Any], Awaitable[bool]], condition: Any) -> Callable[[], Awaitable[bool]]:
    async def ask() -> bool:
        return await exists(condition)

    return ask


async def read_page(db: Database, query: Select[Any], keyset: Keyset, page: PageRequest,
                    key_of: Callable[[Any], Sequence[Any]], row_of: Callable[[Any], Any] = lambda row: row,
                    columns: Any = None) -> Page[Any]:
    """One page of `query` (filtered, not ordered) in `keyset` order."""
    parameters = keyset.parameters(page)
    statement = (query.where(*keyset.bounds(page, columns)).order_by(*keyset.order_by(page, columns))
                 .limit(page.size + 1))
    async with db.reading() as session:
        rows = list((await session.execute(statement, parameters)).all())

    async def any_row(condition: Any) -> bool:
        async with db.reading() as session:
            return bool((await session.execute(select(exists(query.where(condition))), parameters)).scalar())

    result = keyset.make_page(rows, page, key_of, any_row, columns)
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
