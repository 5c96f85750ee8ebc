"""Queries and mutations of folders and drives."""

from __future__ import annotations

import strawberry

from .. import models, permissions
from ..errors import BadInput, NotFound
from ..globalid import decode_as
from ..permissions import FOLDER
from ..schema.folders import (
    CreateFolderInput, DeleteFolderInput, Folder, FolderPayload, MoveFolderInput, RestoreInput, UpdateFolderInput,
)
from ..schema.common import selects
from ..services import folders as folder_service
from .context import Info


@strawberry.type
class Query:
    @strawberry.field(description="A folder the viewer may see; NOT_FOUND otherwise.")
    async def folder(self, info: Info, id: strawberry.ID) -> Folder | None:
        info.context.principal.require_organization()
        folder_id = decode_as(id, "Folder")
        if selects(info, "ancestors"):
            row = await permissions.visible_folder_with_ancestors(info.context, folder_id)
        else:
            row = (await permissions.visible_rows(info.context, FOLDER, [folder_id]))[0]
        if row is None:
            raise NotFound("Folder not found")
        return Folder.from_model(row)

    @strawberry.field(description="Roots the viewer can enter: department roots it may view, then its My Drive.")
    async def drives(self, info: Info) -> list[Folder]:
        rows = await folder_service.list_drives(info.context.db, info.context.principal)
        return [Folder.from_model(row) for row in rows]


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_folder(self, info: Info, input: CreateFolderInput) -> FolderPayload:
        row = await folder_service.create_folder(
            info.context.db, info.context.principal, parent_id=decode_as(input.parent_id, "Folder"),
            name=input.name, description=input.description)
        return FolderPayload(folder=Folder.from_model(row))

    @strawberry.mutation
    async def update_folder(self, info: Info, input: UpdateFolderInput) -> FolderPayload:
        if input.name is None:
            raise BadInput("name cannot be null; omit it to keep the current name", field="name")
        name = None if input.name is strawberry.UNSET else input.name
        description = folder_service.UNCHANGED if input.description is strawberry.UNSET else input.description
        row = await folder_service.update_folder(
            info.context.db, info.context.principal, folder_id=decode_as(input.folder_id, "Folder"),
            name=name, description=description)
        return FolderPayload(folder=Folder.from_model(row))

    @strawberry.mutation
    async def move_folder(self, info: Info, input: MoveFolderInput) -> FolderPayload:
        row = await folder_service.move_folder(
            info.context.db, info.context.principal, folder_id=decode_as(input.folder_id, "Folder"),
            new_parent_id=decode_as(input.new_parent_id, "Folder"))
        return FolderPayload(folder=Folder.from_model(row))

    @strawberry.mutation(description="Delete a folder and its contents; a non-empty folder may await review.")
    async def delete_folder(self, info: Info, input: DeleteFolderInput) -> FolderPayload:
        row = await folder_service.delete_folder(
            info.context.db, info.context.principal, folder_id=decode_as(input.folder_id, "Folder"),
            comment=input.comment)
        if isinstance(row, models.Approval):
            from ..schema.approvals import Approval

            return FolderPayload(folder=None, approval=Approval.from_model(row))
        return FolderPayload(folder=Folder.from_model(row))

    @strawberry.mutation
    async def restore_folder(self, info: Info, input: RestoreInput) -> FolderPayload:
        row = await folder_service.restore_folder(
            info.context.db, info.context.principal, folder_id=decode_as(input.id, "Folder"))
        return FolderPayload(folder=Folder.from_model(row))
