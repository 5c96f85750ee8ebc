"""Users, organizations, departments, groups and roles as API types."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from .. import globalid, models
from ..pagination import PageRequest
from .common import Connection, Node
from .enums import OrganizationStatus
from .types_registry import register_node

if TYPE_CHECKING:
    from ..resolvers.context import Info
    from .folders import Folder

FolderRef = Annotated["Folder", strawberry.lazy("docgraph.schema.folders")]


@register_node
@strawberry.type
class User(Node):
    id: strawberry.ID
    email: str
    first_name: str
    last_name: str
    is_active: bool
    last_login_at: datetime | None
    created_at: datetime

    @classmethod
    def from_model(cls, row: models.User) -> User:
        return cls(
            id=strawberry.ID(globalid.encode("User", row.id)), email=row.email,
            first_name=row.first_name, last_name=row.last_name,
            is_active=row.is_active and row.deleted_at is None,
            last_login_at=row.last_login_at, created_at=row.created_at,
        )


@register_node
@strawberry.type
class Role(Node):
    id: strawberry.ID
    name: str
    description: str | None
    is_system: bool

    @classmethod
    def from_model(cls, row: models.Role) -> Role:
        return cls(id=strawberry.ID(globalid.encode("Role", row.id)), name=row.name,
                   description=row.description, is_system=row.is_system)
