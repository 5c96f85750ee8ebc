"""Column helpers shared by every table module."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, text
from sqlmodel import Field


def utcnow() -> datetime:
    return datetime.now(UTC)


def id_field() -> Any:
    return Field(default_factory=uuid.uuid4, primary_key=True)


def fk(target: str, *, nullable: bool = False, index: bool = False, ondelete: str | None = None) -> Any:
    default: Any = None if nullable else ...
    return Field(default=default, foreign_key=target, nullable=nullable, index=index,
                 ondelete=ondelete)  # type: ignore[call-overload]  # SQLModel's overloads want a literal ondelete


def timestamp(*, nullable: bool = False, index: bool = False) -> Any:
    """A timestamptz column; non-null ones default to now() both in Python and in SQL."""
    if nullable:
        return Field(default=None, sa_type=DateTime(timezone=True), nullable=True, index=index)
    return Field(
        default_factory=utcnow,
        sa_type=DateTime(timezone=True),
        nullable=False,
        index=index,
        sa_column_kwargs={"server_default": text("now()")},
    )


def enum_check(column: str, values: Iterable[str]) -> str:
    """The CHECK constraint text keeping `column` to `values` (a StrEnum or a tuple)."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"
