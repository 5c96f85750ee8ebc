"""Folders as API types."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from .. import globalid, models
from .common import Node
from .enums import DriveKind
from .types_registry import register_node

if TYPE_CHECKING:
    from ..resolvers.context import Info


@register_node
@strawberry.type
class Folder(Node):
    id: strawberry.ID
    name: str
    description: str | None
    drive: DriveKind
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    row: strawberry.Private[models.Folder]

    @classmethod
    def from_model(cls, row: models.Folder) -> Folder:
        return cls(
            id=strawberry.ID(globalid.encode("Folder", row.id)), name=row.name,
            description=row.description,
            drive=DriveKind.ORGANIZATION if row.owner_type == "ORG" else DriveKind.PERSONAL,
            created_at=row.created_at, updated_at=row.updated_at, deleted_at=row.deleted_at, row=row,
        )
