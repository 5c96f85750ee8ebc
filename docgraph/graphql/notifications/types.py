"""Notifications and folder events as API types, with the mark-read input and payload.
Objects are notification rows; a folder event carries its folder or document row."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import strawberry

from ... import models
from ..context import Info
from ..documents.types import Document
from ..enums import FolderEventKind, NotificationType
from ..folders.types import Folder
from ..pagination import Node, node_id, shows


def _read(root: models.Notification) -> bool:
    return root.read_at is not None


@strawberry.type(description="A message to the viewer about something that happened (an approval, a share...).")
class Notification(Node):
    id: strawberry.ID = node_id("Notification")
    type: NotificationType = strawberry.field(description="What happened.")
    title: str = strawberry.field(description="A one-line summary, for lists.")
    message: str = strawberry.field(description="The full message, for people.")
    read: bool = strawberry.field(resolver=_read, description="Whether the viewer marked it read.")
    created_at: datetime = strawberry.field(description="When it was sent.")

    @strawberry.field(graphql_type=Node | None,
                      description="What the notification is about; null when the viewer may not see it (any more).")
    @staticmethod
    async def resource(root: models.Notification, info: Info) -> Any:
        loaders = info.context.loaders
        if root.resource_id is None:
            return None
        if root.resource_type == "FOLDER":
            return await loaders.visible_folder.load(root.resource_id)
        if root.resource_type == "DOCUMENT":
            return await loaders.visible_document.load(root.resource_id)
        if root.resource_type == "APPROVAL":
            return await loaders.approval.load(root.resource_id)
        return None

    is_type_of = shows(models.Notification)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> models.Notification | None:
        """Only the recipient sees a notification."""
        return await info.context.loaders.notification.load(row_id)


@strawberry.input(one_of=True, description="Which notifications to mark read: exactly one of ids or all.")
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Your notifications to mark read (at most 100).")
    all: bool | None = strawberry.field(default=strawberry.UNSET, description="true: mark all your notifications read.")


@strawberry.type(description="The viewer's inbox after marking notifications read.")
class MarkNotificationsReadPayload:
    unread_count: int = strawberry.field(description="How many of the viewer's notifications are still unread.")


# Imported directly: a lazy reference inside a union does not resolve in this Strawberry.
FolderEventNode = Annotated[Folder | Document, strawberry.union(
    "FolderEventNode", description="The child of the watched folder that changed: a folder or a document.")]


@strawberry.type(description="A change to a direct child of a folder someone is watching (folderEvents).")
class FolderEvent:
    kind: FolderEventKind = strawberry.field(description="Whether the child was added, changed or removed.")
    node: models.Folder | models.Document = strawberry.field(
        graphql_type=FolderEventNode, description="The child, as it is when the event is delivered.")
