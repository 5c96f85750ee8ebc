"""startUpload, completeUpload and cancelUpload: large or resumable uploads in parts."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ...globalid import decode_as
from ...services import uploads as upload_service
from ...services.uploads import StartedUpload
from ..context import Info
from ..documents.mutations import document_payload
from ..documents.types import DocumentPayload
from .types import (
    CancelUploadInput,
    CancelUploadPayload,
    CompleteUploadInput,
    StartUploadInput,
    UploadSession,
)


@strawberry.type
class Mutation:
    @strawberry.mutation(graphql_type=UploadSession,
                         description="Open an upload session; PUT each part to its URL, then completeUpload.")
    async def start_upload(
            self, info: Info,
            input: Annotated[StartUploadInput, strawberry.argument(
                description="The target folder or document, and the file's name, type and size.")],
    ) -> StartedUpload:
        context = info.context
        return await upload_service.start_upload(
            context.db, context.principal, storage=context.services.storage,
            folder_id=decode_as(input.folder_id, "Folder") if input.folder_id is not None else None,
            document_id=decode_as(input.document_id, "Document") if input.document_id is not None else None,
            file_name=input.file_name, content_type=input.content_type, size=input.size, sha256=input.sha256,
            part_size=context.settings.upload_part_size, ttl_seconds=context.settings.upload_session_ttl,
            limits=upload_service.OpenLimits.of(context.settings))

    @strawberry.mutation(description="Assemble and verify the parts, then create the document or version.")
    async def complete_upload(
            self, info: Info,
            input: Annotated[CompleteUploadInput, strawberry.argument(
                description="The upload session, and the new document's or version's details.")],
    ) -> DocumentPayload:
        context = info.context
        row = await upload_service.complete_upload(
            context.db, context.principal, storage=context.services.storage,
            upload_id=decode_as(input.upload_id, "UploadSession"), change_comment=input.change_comment,
            name=input.name, description=input.description, tags=input.tags, metadata=input.metadata)
        return document_payload(row)  # a new version may await review, like replaceDocument

    @strawberry.mutation(description="Give up an open upload session of yours: its parts are deleted at once and "
                                     "its size no longer counts against the organization's quota.")
    async def cancel_upload(
            self, info: Info,
            input: Annotated[CancelUploadInput, strawberry.argument(
                description="The open upload session of yours to give up.")],
    ) -> CancelUploadPayload:
        context = info.context
        await upload_service.cancel_upload(context.db, context.principal, storage=context.services.storage,
                                           upload_id=decode_as(input.upload_id, "UploadSession"))
        return CancelUploadPayload(upload_id=input.upload_id)
