"""Keyset pagination: opaque cursors over a row's sort key, stable while rows are added."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .errors import BadInput

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50

T = TypeVar("T")


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


def make_page(rows: list[T], request: PageRequest, key_of) -> Page[T]:
    """Rows fetched with LIMIT first+1, in order; the extra row only tells a next page exists."""
    has_next = len(rows) > request.first
    rows = rows[: request.first]
    return Page(
        items=[(encode_cursor(key_of(row)), row) for row in rows],
        has_next_page=has_next,
        has_previous_page=request.after is not None,
    )
