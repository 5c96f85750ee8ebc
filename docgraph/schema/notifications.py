"""Notifications and folder events as API types, with the mark-read input and payload."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from .. import globalid, models
from ..services import notifications as notification_service
from .common import Node
from .documents import Document
from .enums import NotificationType
from .folders import Folder
from .types_registry import NODE_TYPES, register_node

from ..resolvers.context import Context, Info

# The Node type that shows each kind of resource a notification can be about. Approval joins
# when its module registers it; until then such a resource is null.
_RESOURCE_TYPE_NAMES = {"FOLDER": "Folder", "DOCUMENT": "Document", "APPROVAL": "Approval"}


def _node_type(name: str) -> type | None:
    return next((cls for cls in NODE_TYPES if cls.__name__ == name and hasattr(cls, "resolve_node")), None)


async def _own_notifications(context: Context, keys: Sequence[uuid.UUID]) -> list[models.Notification | None]:
    found = await notification_service.notifications_by_ids(context.db, context.principal, keys)
    return [found.get(key) for key in keys]


@register_node
@strawberry.type
class Notification(Node):
    id: strawberry.ID
    type: NotificationType
    title: str
    message: str
    read: bool
    created_at: datetime
    row: strawberry.Private[models.Notification]

    @classmethod
    def from_model(cls, row: models.Notification) -> Notification:
        return cls(
            id=strawberry.ID(globalid.encode("Notification", row.id)), type=NotificationType(row.type),
            title=row.title, message=row.message, read=row.read_at is not None, created_at=row.created_at,
            row=row,
        )

    @strawberry.field(description="What the notification is about; null when the viewer may not see it (any more).")
    async def resource(self, info: Info) -> Node | None:
        if self.row.resource_type is None:
            return None
        cls = _node_type(_RESOURCE_TYPE_NAMES.get(self.row.resource_type, ""))
        return await cls.resolve_node(info, self.row.resource_id) if cls is not None else None

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> Notification | None:
        """Only the recipient sees a notification."""
        row = await info.context.loaders.get("notification", _own_notifications).load(row_id)
        return cls.from_model(row) if row is not None else None


@strawberry.input
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Your notifications to mark read.")
    all: bool | None = strawberry.field(default=None, description="Mark all your notifications read.")


@strawberry.type
class MarkNotificationsReadPayload:
    unread_count: int


@strawberry.enum
class FolderEventKind(Enum):
    ADDED = "ADDED"
    UPDATED = "UPDATED"
    REMOVED = "REMOVED"


# Imported directly: a lazy reference inside a union does not resolve in this Strawberry.
FolderEventNode = Annotated[Folder | Document, strawberry.union("FolderEventNode")]


@strawberry.type
class FolderEvent:
    kind: FolderEventKind
    node: FolderEventNode

    @classmethod
    def of(cls, kind: str, row: models.Folder | models.Document) -> FolderEvent:
        node = Folder.from_model(row) if isinstance(row, models.Folder) else Document.from_model(row)
        return cls(kind=FolderEventKind(kind), node=node)
