"""Mutations of folders: create, update, move, delete (a non-empty folder may await review),
restore."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ... import models
from ...errors import BadInput
from ...globalid import decode_as
from ...services import folders as folder_service
from ..context import Info
from ..inputs import RestoreInput, sent
from .types import (
    CreateFolderInput,
    DeleteFolderInput,
    FolderPayload,
    MoveFolderInput,
    UpdateFolderInput,
)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a folder (needs CREATE on the parent).")
    async def create_folder(
            self, info: Info,
            input: Annotated[CreateFolderInput, strawberry.argument(
                description="The parent folder, the name and a description.")],
    ) -> FolderPayload:
        row = await folder_service.create_folder(
            info.context.db, info.context.principal, parent_id=decode_as(input.parent_id, "Folder"),
            name=input.name, description=input.description)
        return FolderPayload(folder=row)

    @strawberry.mutation(description="Rename a folder or change its description (needs UPDATE).")
    async def update_folder(
            self, info: Info,
            input: Annotated[UpdateFolderInput, strawberry.argument(description="The folder and what to change.")],
    ) -> FolderPayload:
        if input.name is None:
            raise BadInput("name cannot be null; omit it to keep the current name", field="name")
        name = None if input.name is strawberry.UNSET else input.name
        row = await folder_service.update_folder(
            info.context.db, info.context.principal, folder_id=decode_as(input.folder_id, "Folder"),
            name=name, description=sent(input.description))
        return FolderPayload(folder=row)

    @strawberry.mutation(description=(
        "Move a folder, with everything in it, under another folder (DELETE on it, CREATE on the target)."))
    async def move_folder(
            self, info: Info,
            input: Annotated[MoveFolderInput, strawberry.argument(description="The folder and its new parent.")],
    ) -> FolderPayload:
        row = await folder_service.move_folder(
            info.context.db, info.context.principal, folder_id=decode_as(input.folder_id, "Folder"),
            new_parent_id=decode_as(input.new_parent_id, "Folder"))
        return FolderPayload(folder=row)

    @strawberry.mutation(description="Delete a folder and its contents; a non-empty folder may await review.")
    async def delete_folder(
            self, info: Info,
            input: Annotated[DeleteFolderInput, strawberry.argument(
                description="The folder, and a comment for reviewers.")],
    ) -> FolderPayload:
        row = await folder_service.delete_folder(
            info.context.db, info.context.principal, folder_id=decode_as(input.folder_id, "Folder"),
            comment=input.comment)
        if isinstance(row, models.Approval):
            return FolderPayload(folder=None, approval=row)
        return FolderPayload(folder=row)

    @strawberry.mutation(description="Bring a deleted folder back from the trash, with what its deletion hid.")
    async def restore_folder(
            self, info: Info,
            input: Annotated[RestoreInput, strawberry.argument(description="The deleted folder.")],
    ) -> FolderPayload:
        row = await folder_service.restore_folder(
            info.context.db, info.context.principal, folder_id=decode_as(input.id, "Folder"))
        return FolderPayload(folder=row)
