"""The search filter."""

from __future__ import annotations

from datetime import datetime

import strawberry

from ..scalars import JSON


@strawberry.input(description="Conditions on documents; a document must meet every one given.")
class DocumentFilter:
    text: str | None = strawberry.field(default=None, description="Case-insensitive substring of the name.")
    tags: list[str] | None = strawberry.field(default=None, description="Documents carrying all of these tags.")
    content_types: list[str] | None = strawberry.field(
        default=None, description="Documents of any of these media types, such as application/pdf.")
    folder_id: strawberry.ID | None = strawberry.field(
        default=None, description="Restrict to this folder and everything below it.")
    metadata: JSON | None = strawberry.field(
        default=None, description="Documents whose metadata contains this JSON object.")
    created_after: datetime | None = strawberry.field(default=None, description="Created at or after this time.")
    created_before: datetime | None = strawberry.field(default=None, description="Created before this time.")
