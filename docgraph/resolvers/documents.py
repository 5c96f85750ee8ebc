"""Queries and mutations of documents: document(id), upload, replace, update, move, delete,
restore, lock and unlock."""

from __future__ import annotations

from typing import Any

import strawberry

from .. import models, permissions
from ..errors import BadInput, NotFound
from ..globalid import decode_as
from ..schema.documents import (
    DeleteDocumentInput, Document, DocumentPayload, LockDocumentInput, MoveDocumentInput, ReplaceDocumentInput,
    UnlockDocumentInput, UpdateDocumentInput, UploadDocumentInput,
)
from ..schema.folders import RestoreInput
from ..services import documents as document_service
from ..services.content import NewContent
from ..services.folders import UNCHANGED
from .context import Info


def staged_file(value: Any) -> NewContent:
    """The Upload variable as the multipart handler staged it."""
    if not isinstance(value, NewContent):
        raise BadInput("file must be sent as a file part of a multipart request (GraphQL multipart request spec)",
                       field="file")
    return value


def _payload(result: models.Document | models.Approval) -> DocumentPayload:
    """The applied change's document, or the approval it awaits."""
    if isinstance(result, models.Approval):
        from ..schema.approvals import Approval

        return DocumentPayload(document=None, approval=Approval.from_model(result))
    return DocumentPayload(document=Document.from_model(result))


document_payload = _payload  # completeUpload shapes its result the same way


def _kept(value: Any) -> Any:
    return UNCHANGED if value is strawberry.UNSET else value


@strawberry.type
class Query:
    @strawberry.field(description="A document the viewer may see; NOT_FOUND otherwise.")
    async def document(self, info: Info, id: strawberry.ID) -> Document | None:
        info.context.principal.require_organization()
        document_id = decode_as(id, "Document")
        row = (await permissions.visible_rows(info.context, permissions.DOCUMENT, [document_id]))[0]
        if row is None:
            raise NotFound("Document not found")
        return Document.from_model(row)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="A new document from a file (multipart request), as version 1.")
    async def upload_document(self, info: Info, input: UploadDocumentInput) -> DocumentPayload:
        context = info.context
        return _payload(await document_service.create_document(
            context.db, context.principal, storage=context.services.storage,
            folder_id=decode_as(input.folder_id, "Folder"), content=staged_file(input.file), name=input.name,
            description=input.description, tags=input.tags, metadata=input.metadata))

    @strawberry.mutation(description="A new version of a document from a file (multipart request).")
    async def replace_document(self, info: Info, input: ReplaceDocumentInput) -> DocumentPayload:
        context = info.context
        return _payload(await document_service.replace_document(
            context.db, context.principal, storage=context.services.storage,
            document_id=decode_as(input.document_id, "Document"), content=staged_file(input.file),
            change_comment=input.change_comment))

    @strawberry.mutation
    async def update_document(self, info: Info, input: UpdateDocumentInput) -> DocumentPayload:
        for field, value in (("name", input.name), ("tags", input.tags)):
            if value is None:
                raise BadInput(f"{field} cannot be null; omit it to keep the current value", field=field)
        return _payload(await document_service.update_document(
            info.context.db, info.context.principal, document_id=decode_as(input.document_id, "Document"),
            name=None if input.name is strawberry.UNSET else input.name,
            description=_kept(input.description),
            tags=None if input.tags is strawberry.UNSET else input.tags,
            metadata=_kept(input.metadata)))

    @strawberry.mutation
    async def move_document(self, info: Info, input: MoveDocumentInput) -> DocumentPayload:
        return _payload(await document_service.move_document(
            info.context.db, info.context.principal, document_id=decode_as(input.document_id, "Document"),
            folder_id=decode_as(input.folder_id, "Folder")))

    @strawberry.mutation
    async def delete_document(self, info: Info, input: DeleteDocumentInput) -> DocumentPayload:
        return _payload(await document_service.delete_document(
            info.context.db, info.context.principal, document_id=decode_as(input.document_id, "Document"),
            comment=input.comment))

    @strawberry.mutation
    async def restore_document(self, info: Info, input: RestoreInput) -> DocumentPayload:
        return _payload(await document_service.restore_document(
            info.context.db, info.context.principal, document_id=decode_as(input.id, "Document")))

    @strawberry.mutation
    async def lock_document(self, info: Info, input: LockDocumentInput) -> DocumentPayload:
        return _payload(await document_service.lock_document(
            info.context.db, info.context.principal, document_id=decode_as(input.document_id, "Document"),
            expires_at=input.expires_at))

    @strawberry.mutation
    async def unlock_document(self, info: Info, input: UnlockDocumentInput) -> DocumentPayload:
        return _payload(await document_service.unlock_document(
            info.context.db, info.context.principal, document_id=decode_as(input.document_id, "Document"),
            force=bool(input.force)))
