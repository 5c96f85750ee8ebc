"""Mutations of documents: upload, replace, update, move, delete, restore, lock and unlock.
Replace and delete may await review: the payload then carries the approval instead."""

from __future__ import annotations

from typing import Any

import strawberry

from ... import models
from ...errors import BadInput
from ...globalid import decode_as
from ...services import documents as document_service
from ...services.content import NewContent
from ..context import Info
from ..folders.types import RestoreInput
from ..inputs import sent
from .types import (
    DeleteDocumentInput, DocumentPayload, LockDocumentInput, MoveDocumentInput, ReplaceDocumentInput,
    UnlockDocumentInput, UpdateDocumentInput, UploadDocumentInput,
)


def staged_file(value: Any) -> NewContent:
    """The Upload variable as the multipart handler staged it."""
    if not isinstance(value, NewContent):
        raise BadInput("file must be sent as a file part of a multipart request (GraphQL multipart request spec)",
                       field="file")
    return value


def document_payload(result: models.Document | models.Approval) -> DocumentPayload:
    """The applied change's document, or the approval it awaits."""
    if isinstance(result, models.Approval):
        return DocumentPayload(document=None, approval=result)
    return DocumentPayload(document=result)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="A new document from a file (multipart request), as version 1.")
    async def upload_document(self, info: Info, input: UploadDocumentInput) -> DocumentPayload:
        context = info.context
        return document_payload(await document_service.create_document(
            context.db, context.principal, storage=context.services.storage,
            folder_id=decode_as(input.folder_id, "Folder"), content=staged_file(input.file), name=input.name,
            description=input.description, tags=input.tags, metadata=input.metadata))

    @strawberry.mutation(description="A new version of a document from a file (multipart request).")
    async def replace_document(self, info: Info, input: ReplaceDocumentInput) -> DocumentPayload:
        context = info.context
        return document_payload(await document_service.replace_document(
            context.db, context.principal, storage=context.services.storage,
            document_id=decode_as(input.document_id, "Document"), content=staged_file(input.file),
            change_comment=input.change_comment))

    @strawberry.mutation
    async def update_document(self, info: Info, input: UpdateDocumentInput) -> DocumentPayload:
        for field, value in (("name", input.name), ("tags", input.tags)):
            if value is None:
                raise BadInput(f"{field} cannot be null; omit it to keep the current value", field=field)
        return document_payload(await document_service.update_document(
            info.context.db, info.context.principal, document_id=decode_as(input.document_id, "Document"),
            name=None if input.name is strawberry.UNSET else input.name,
            description=sent(input.description),
            tags=None if input.tags is strawberry.UNSET else input.tags,
            metadata=sent(input.metadata)))

    @strawberry.mutation
    async def move_document(self, info: Info, input: MoveDocumentInput) -> DocumentPayload:
        return document_payload(await document_service.move_document(
            info.context.db, info.context.principal, document_id=decode_as(input.document_id, "Document"),
            folder_id=decode_as(input.folder_id, "Folder")))

    @strawberry.mutation
    async def delete_document(self, info: Info, input: DeleteDocumentInput) -> DocumentPayload:
        return document_payload(await document_service.delete_document(
            info.context.db, info.context.principal, document_id=decode_as(input.document_id, "Document"),
            comment=input.comment))

    @strawberry.mutation
    async def restore_document(self, info: Info, input: RestoreInput) -> DocumentPayload:
        return document_payload(await document_service.restore_document(
            info.context.db, info.context.principal, document_id=decode_as(input.id, "Document")))

    @strawberry.mutation
    async def lock_document(self, info: Info, input: LockDocumentInput) -> DocumentPayload:
        return document_payload(await document_service.lock_document(
            info.context.db, info.context.principal, document_id=decode_as(input.document_id, "Document"),
            expires_at=input.expires_at))

    @strawberry.mutation
    async def unlock_document(self, info: Info, input: UnlockDocumentInput) -> DocumentPayload:
        return document_payload(await document_service.unlock_document(
            info.context.db, info.context.principal, document_id=decode_as(input.document_id, "Document"),
            force=bool(input.force)))
