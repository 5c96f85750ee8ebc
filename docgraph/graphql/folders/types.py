"""Folders as API types, with the folder mutations' inputs and payload.

Objects are rows: scalar fields read them, relations load through the request's loaders.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from ... import models
from ...permissions import FOLDER, Access
from ...services import documents as document_service
from ...services import folders as folder_service
from ..context import Info, Later
from ..documents.types import Document, DocumentOrder, document_connection, joined_relations, sort_order
from ..enums import DriveKind, FolderOrderField, OrderDirection
from ..pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    Node,
    lazy_type,
    node_id,
    page_request,
    shows,
    to_connection,
)
from ..tenancy.types import Department, User

# Types of domains that import this one.
PermissionsRef = lazy_type("Permissions", "docgraph.graphql.sharing.types")
ShareRef = lazy_type("Share", "docgraph.graphql.sharing.types")
ApprovalRef = lazy_type("Approval", "docgraph.graphql.approvals.types")
# A folder's parent, ancestors and children are folders, defined below.
FolderRef = lazy_type("Folder", "docgraph.graphql.folders.types")


def _drive(root: models.Folder) -> DriveKind:
    return DriveKind.ORGANIZATION if root.owner_type == "ORG" else DriveKind.PERSONAL


@strawberry.input(description="An order for folders: a field and a direction.")
class FolderOrder:
    field: FolderOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(description="Ascending or descending.")


@strawberry.type(description="A folder of a drive: an organization drive (a department's) or a member's My Drive.")
class Folder(Node):
    id: strawberry.ID = node_id("Folder")
    name: str = strawberry.field(description="The folder's name, unique among the live folders beside it.")
    description: str | None = strawberry.field(description="A free description of the folder.")
    drive: DriveKind = strawberry.field(resolver=_drive, description="Which kind of drive the folder is in.")
    created_at: datetime = strawberry.field(description="When the folder was created.")
    updated_at: datetime = strawberry.field(description="When the folder was last renamed, described or moved.")
    deleted_at: datetime | None = strawberry.field(
        description="When the folder (or a folder above it) was deleted; null while it is live.")

    @strawberry.field(graphql_type=FolderRef | None, description="The parent folder, when the viewer may see it.")
    @staticmethod
    async def parent(root: models.Folder, info: Info) -> models.Folder | None:
        if root.parent_id is None:
            return None
        return await info.context.loaders.visible_folder.load(root.parent_id)

    @strawberry.field(graphql_type=list[FolderRef], description="Ancestors the viewer can see, root first.")
    @staticmethod
    async def ancestors(root: models.Folder, info: Info) -> list[models.Folder]:
        rows = await info.context.loaders.visible_folder.load_many(root.path[:-1])
        return [row for row in rows if row is not None]

    @strawberry.field(graphql_type=Department | None,
                      description="The department whose drive holds the folder (null in a My Drive).")
    @staticmethod
    async def department(root: models.Folder, info: Info) -> models.Department | None:
        if root.department_id is None:
            return None
        return await info.context.loaders.department.load(root.department_id)

    @strawberry.field(graphql_type=User | None,
                      description="The member whose My Drive holds the folder (null in an organization drive).")
    @staticmethod
    async def owner(root: models.Folder, info: Info) -> models.User | None:
        if root.owner_type != "USER":
            return None
        return await info.context.loaders.user.load(root.owner_id)

    @strawberry.field(graphql_type=User, description="Who created the folder.")
    @staticmethod
    def created_by(root: models.Folder, info: Info) -> Later[models.User | None]:
        return info.context.loaders.user.now_or_later(root.created_by)

    @strawberry.field(graphql_type=Connection[FolderRef],
                      description="Live subfolders the viewer may view, by name unless orderBy says otherwise.")
    @staticmethod
    async def children(root: models.Folder, info: Info,
                       order_by: Annotated[FolderOrder | None, strawberry.argument(
                           description="The order of the subfolders; by default by name, A to Z.")] = None,
                       first: First = None, after: After = None, last: Last = None,
                       before: Before = None) -> Connection[models.Folder]:
        page, count = await folder_service.list_children(
            info.context.db, info.context.principal, root.id, page_request(first, after, last, before),
            order=sort_order(order_by, folder_service.CHILDREN_ORDER))
        return to_connection(page, count)

    @strawberry.field(graphql_type=Connection[Document],
                      description="Live documents of the folder the viewer may view, by name unless orderBy says "
                                  "otherwise.")
    @staticmethod
    async def documents(root: models.Folder, info: Info,
                        order_by: Annotated[DocumentOrder | None, strawberry.argument(
                            description="The order of the documents; by default by name, A to Z.")] = None,
                        first: First = None, after: After = None, last: Last = None,
                        before: Before = None) -> Connection[models.Document]:
        listing = await document_service.list_folder_documents(
            info.context.db, info.context.principal, root.id, page_request(first, after, last, before),
            order=sort_order(order_by, document_service.FOLDER_DOCUMENTS_ORDER), related=joined_relations(info))
        return await document_connection(info, listing)

    @strawberry.field(graphql_type=PermissionsRef, description="What the viewer may do with the folder.")
    @staticmethod
    def my_permissions(root: models.Folder, info: Info) -> Later[Access]:
        return info.context.loaders.access.now_or_later((FOLDER, root.id))

    @strawberry.field(graphql_type=list[ShareRef],
                      description="Live shares of the folder; empty unless the viewer may SHARE or MANAGE it.")
    @staticmethod
    async def shares(root: models.Folder, info: Info) -> list[models.Grant]:
        return await info.context.loaders.shares_shown(FOLDER, root.id)

    @strawberry.field(graphql_type=Connection[ShareRef],
                      description="The folder's live shares a page at a time (users first, then groups and roles, "
                                  "each oldest first); empty unless the viewer may SHARE or MANAGE it.")
    @staticmethod
    async def shares_connection(root: models.Folder, info: Info, first: First = None, after: After = None,
                                last: Last = None, before: Before = None) -> Connection[models.Grant]:
        return to_connection(*await info.context.loaders.shares_page_shown(
            FOLDER, root.id, page_request(first, after, last, before)))

    is_type_of = shows(models.Folder)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> models.Folder | None:
        return await info.context.loaders.visible_folder.load(row_id)


# --- inputs and payloads -----------------------------------------------------------------------------


@strawberry.input(description="A new folder inside a folder the viewer may CREATE in.")
class CreateFolderInput:
    parent_id: strawberry.ID = strawberry.field(description="The folder to create it in (a Folder ID).")
    name: str = strawberry.field(description="The new folder's name, unique among the live folders beside it.")
    description: str | None = strawberry.field(default=None, description="A free description of the folder.")


@strawberry.input(description="Renames a folder or changes its description (needs UPDATE on it).")
class UpdateFolderInput:
    folder_id: strawberry.ID = strawberry.field(description="The folder to change (a Folder ID).")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="The new name; omit to keep it.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Omit to keep it; null or empty clears it.")


@strawberry.input(description="Moves a folder, with everything in it, under another folder.")
class MoveFolderInput:
    folder_id: strawberry.ID = strawberry.field(description="The folder to move (a Folder ID).")
    new_parent_id: strawberry.ID = strawberry.field(
        description="Where it goes (a Folder ID); not the folder itself nor anything inside it.")


@strawberry.input(description="Deletes a folder and everything in it (to the trash, restorable).")
class DeleteFolderInput:
    folder_id: strawberry.ID = strawberry.field(description="The folder to delete (a Folder ID).")
    comment: str | None = strawberry.field(
        default=None, description="Why: shown to reviewers when the deletion awaits approval.")


@strawberry.type(description="The outcome of a folder mutation: the folder when the change was applied, the "
                             "approval when it awaits review.")
class FolderPayload:
    folder: models.Folder | None = strawberry.field(
        graphql_type=Folder | None, description="The folder as it is now; null when the change awaits review.")
    approval: models.Approval | None = strawberry.field(
        default=None, graphql_type=ApprovalRef | None, description="Set when the change awaits review.")
