"""Mutations of documents: upload, replace, update, move, delete, restore, lock and unlock.
Replace and delete may await review: the payload then carries the approval instead."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from ... import models
from ...errors import BadInput
from ...globalid import decode_as
from ...services import documents as document_service
from ...services.content import NewContent
from ..context import Info
from ..inputs import RestoreInput, sent
from .types import (
    DeleteDocumentInput,
    DocumentPayload,
    LockDocumentInput,
    MoveDocumentInput,
    ReplaceDocumentInput,
    UnlockDocumentInput,
    UpdateDocumentInput,
    UploadDocumentInput,
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
    async def upload_document(
            self, info: Info,
            input: Annotated[UploadDocumentInput, strawberry.argument(
                description="The folder, the file part and the document's details.")],
    ) -> DocumentPayload:
        context = info.context
        return document_payload(await document_service.create_document(
            context.db, context.principal, storage=context.services.storage,
            folder_id=decode_as(input.folder_id, "Folder"), content=staged_file(input.file), name=input.name,
            description=input.description, tags=input.tags, metadata=input.metadata))

    @strawberry.mutation(description="A new version of a document from a file (multipart request).")
    async def replace_document(
            self, info: Info,
            input: Annotated[ReplaceDocumentInput, strawberry.argument(
                description="The document, the file part and a change comment.")],
    ) -> DocumentPayload:
        context = info.context
        return document_payload(await document_service.replace_document(
            context.db, context.principal, storage=context.services.storage,
            document_id=decode_as(input.document_id, "Document"), content=staged_file(input.file),
            change_comment=input.change_comment))

    @strawberry.mutation(description="Change a document's name, description, tags or metadata (needs UPDATE).")
    async def update_document(
            self, info: Info,
            input: Annotated[UpdateDocumentInput, strawberry.argument(description="The document and what to change.")],
    ) -> DocumentPayload:
        for field, value in (("name", input.name), ("tags", input.tags)):
            if value is None:
                raise BadInput(f"{field} cannot be null; omit it to keep the current value", field=field)
        return document_payload(await document_service.update_document(
            info.context.db, info.context.principal, document_id=decode_as(input.document_id, "Document"),
            name=None if input.name is strawberry.UNSET else input.name,
            description=sent(input.description),
            tags=None if input.tags is strawberry.UNSET else input.tags,
            metadata=sent(input.metadata)))

    @strawberry.mutation(description="Move a document to another folder (DELETE on it, CREATE on the target).")
    async def move_document(
            self, info: Info,
            input: Annotated[MoveDocumentInput, strawberry.argument(
                description="The document and the folder it goes to.")],
    ) -> DocumentPayload:
        return document_payload(await document_service.move_document(
            info.context.db, info.context.principal, document_id=decode_as(input.document_id, "Document"),
            folder_id=decode_as(input.folder_id, "Folder")))

    @strawberry.mutation(description="Delete a document (to the trash); the approval policy may make it await review.")
    async def delete_document(
            self, info: Info,
            input: Annotated[DeleteDocumentInput, strawberry.argument(
                description="The document, and a comment for reviewers.")],
    ) -> DocumentPayload:
        return document_payload(await document_service.delete_document(
            info.context.db, info.context.principal, document_id=decode_as(input.document_id, "Document"),
            comment=input.comment))

    @strawberry.mutation(description="Bring a deleted document back from the trash.")
    async def restore_document(
            self, info: Info,
            input: Annotated[RestoreInput, strawberry.argument(description="The deleted document.")],
    ) -> DocumentPayload:
        return document_payload(await document_service.restore_document(
            info.context.db, info.context.principal, document_id=decode_as(input.id, "Document")))

    @strawberry.mutation(description=(
        "Lock a document: only the viewer (or an admin) can change it until it is unlocked."))
    async def lock_document(
            self, info: Info,
            input: Annotated[LockDocumentInput, strawberry.argument(
                description="The document and when the lock lapses.")],
    ) -> DocumentPayload:
        return document_payload(await document_service.lock_document(
            info.context.db, info.context.principal, document_id=decode_as(input.document_id, "Document"),
            expires_at=input.expires_at))

    @strawberry.mutation(description="Release a document's lock (the holder, or an admin with force).")
    async def unlock_document(
            self, info: Info,
            input: Annotated[UnlockDocumentInput, strawberry.argument(
                description="The document, and whether to force someone else's lock.")],
    ) -> DocumentPayload:
        return document_payload(await document_service.unlock_document(
            info.context.db, info.context.principal, document_id=decode_as(input.document_id, "Document"),
            force=bool(input.force)))
