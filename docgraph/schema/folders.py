"""Folders as API types, with the folder mutations' inputs and payload."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from .. import globalid, models, permissions
from ..pagination import PageRequest
from ..permissions import FOLDER
from ..services import folders as folder_service
from .common import Connection, Node, to_connection
from .documents import Document, document_connection, joined_relations
from .enums import DriveKind
from .types_registry import register_node

from ..resolvers.context import Info

UserRef = Annotated["User", strawberry.lazy("docgraph.schema.tenancy")]
DepartmentRef = Annotated["Department", strawberry.lazy("docgraph.schema.tenancy")]
PermissionsRef = Annotated["Permissions", strawberry.lazy("docgraph.schema.sharing")]
ShareRef = Annotated["Share", strawberry.lazy("docgraph.schema.sharing")]
ApprovalRef = Annotated["Approval", strawberry.lazy("docgraph.schema.approvals")]


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

    @strawberry.field(description="The parent folder, when the viewer may see it.")
    async def parent(self, info: Info) -> Folder | None:
        if self.row.parent_id is None:
            return None
        row = (await permissions.visible_rows(info.context, FOLDER, [self.row.parent_id]))[0]
        return Folder.from_model(row) if row is not None else None

    @strawberry.field(description="Ancestors the viewer can see, root first.")
    async def ancestors(self, info: Info) -> list[Folder]:
        rows = await permissions.visible_rows(info.context, FOLDER, self.row.path[:-1])
        return [Folder.from_model(row) for row in rows if row is not None]

    @strawberry.field(description="The department whose drive holds the folder (null in a My Drive).")
    async def department(self, info: Info) -> DepartmentRef | None:
        from .tenancy import Department

        if self.row.department_id is None:
            return None
        row = await info.context.loaders.department.load(self.row.department_id)
        return Department.from_model(row) if row is not None else None

    @strawberry.field(description="The member whose My Drive holds the folder (null in an organization drive).")
    async def owner(self, info: Info) -> UserRef | None:
        from .tenancy import User

        if self.row.owner_type != "USER":
            return None
        row = await info.context.loaders.user.load(self.row.owner_id)
        return User.from_model(row) if row is not None else None

    @strawberry.field
    def created_by(self, info: Info) -> UserRef:
        from .tenancy import User

        return info.context.loaders.user.now_or_later(self.row.created_by, User.from_model)

    @strawberry.field(description="Live subfolders the viewer may view, by name.")
    async def children(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Folder]:
        request = PageRequest.parse(first, after)
        page, count = await folder_service.list_children(info.context.db, info.context.principal, self.row.id, request)
        return to_connection(page, Folder.from_model, count)

    @strawberry.field(description="Live documents of the folder the viewer may view, by name.")
    async def documents(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Document]:
        from ..services import search

        request = PageRequest.parse(first, after)
        listing = await search.list_folder_documents(info.context.db, info.context.principal, self.row.id, request,
                                                     related=joined_relations(info))
        return await document_connection(info, listing)

    @strawberry.field(description="What the viewer may do with the folder.")
    def my_permissions(self, info: Info) -> PermissionsRef:
        from .sharing import my_permissions

        return my_permissions(info, FOLDER, self.row.id)

    @strawberry.field(description="Live shares of the folder; empty unless the viewer may SHARE or MANAGE it.")
    async def shares(self, info: Info) -> list[ShareRef]:
        from .sharing import shares_of

        return await shares_of(info, FOLDER, self.row.id)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> Folder | None:
        row = (await permissions.visible_rows(info.context, FOLDER, [row_id]))[0]
        return cls.from_model(row) if row is not None else None


# --- inputs and payloads -----------------------------------------------------------------------------

@strawberry.input
class CreateFolderInput:
    parent_id: strawberry.ID
    name: str
    description: str | None = None


@strawberry.input
class UpdateFolderInput:
    folder_id: strawberry.ID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Omit to keep it; null or empty clears it.")


@strawberry.input
class MoveFolderInput:
    folder_id: strawberry.ID
    new_parent_id: strawberry.ID


@strawberry.input
class DeleteFolderInput:
    folder_id: strawberry.ID
    comment: str | None = None


@strawberry.input
class RestoreInput:
    id: strawberry.ID


@strawberry.type
class FolderPayload:
    folder: Folder | None
    approval: ApprovalRef | None = strawberry.field(default=None, description="Set when the change awaits review.")
