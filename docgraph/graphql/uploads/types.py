"""Upload sessions (startUpload / parts / completeUpload) as API types. Objects are
`services.uploads.StartedUpload`s: the session's row and its parts' presigned URLs (None where
the app's own part endpoint takes the part)."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from ... import globalid
from ...http import links
from ...services import uploads as upload_service
from ...services.uploads import StartedUpload
from ..context import Info
from ..pagination import Node, shows
from ..scalars import JSON, BigInt


@strawberry.type(description="Where to send one part of a resumable upload.")
class UploadPart:
    part_number: int = strawberry.field(description="The part's position, from 1.")
    url: str = strawberry.field(description="PUT the part's bytes here; the response's ETag names it.")


def _session_id(root: StartedUpload) -> strawberry.ID:
    return strawberry.ID(globalid.encode("UploadSession", root.session.id))


@strawberry.type(description="A resumable upload, visible to the user who started it while it is open (fetch it "
                             "again with `node` to get fresh part URLs). No parts: the content is already stored; "
                             "just complete it.")
class UploadSession(Node):
    id: strawberry.ID = strawberry.field(
        resolver=_session_id, description="The session's global ID: pass it to completeUpload (or to `node` to "
                                          "resume).")

    @strawberry.field(description="Every part but the last has exactly this size.")
    @staticmethod
    def part_size(root: StartedUpload) -> int:
        return root.session.part_size

    @strawberry.field(description="Where to PUT each part, in order.")
    @staticmethod
    def parts(root: StartedUpload, info: Info) -> list[UploadPart]:
        row, context = root.session, info.context
        return [UploadPart(part_number=number, url=url or links.part_url(
                    context.settings, context.request, row.id, row.user_id, number, expires_at=row.expires_at))
                for number, url in enumerate(root.part_urls, 1)]

    @strawberry.field(description="When the session and its part URLs stop working.")
    @staticmethod
    def expires_at(root: StartedUpload) -> datetime:
        return root.session.expires_at

    is_type_of = shows(StartedUpload)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> StartedUpload | None:
        context = info.context
        return await upload_service.resume_upload(context.db, context.principal, storage=context.services.storage,
                                                  session_id=row_id)


@strawberry.input(description="A large or resumable upload to open: a new document, or a new version of one.")
class StartUploadInput:
    folder_id: strawberry.ID | None = strawberry.field(
        default=None, description="Exactly one of folderId (new document) or documentId (new version).")
    document_id: strawberry.ID | None = strawberry.field(
        default=None, description="The document that gets a new version (a Document ID).")
    file_name: str = strawberry.field(description="The file's name (the new document's name by default).")
    content_type: str = strawberry.field(description="The file's media type, such as application/pdf.")
    size: BigInt = strawberry.field(description="The file's exact size, in bytes.")
    sha256: str | None = strawberry.field(
        default=None, description="The file's SHA-256 (hexadecimal), checked on completion; content the "
                                  "organization already stores needs no parts.")


@strawberry.input(description="Finishes an upload session whose parts were all sent.")
class CompleteUploadInput:
    upload_id: strawberry.ID = strawberry.field(description="The UploadSession's id.")
    change_comment: str | None = strawberry.field(default=None, description="For a new version: what changed.")
    name: str | None = strawberry.field(default=None, description="For a new document: its name (default: fileName).")
    description: str | None = strawberry.field(default=None, description="For a new document: its description.")
    tags: list[str] | None = strawberry.field(default=None, description="For a new document: its tags.")
    metadata: JSON | None = strawberry.field(default=None, description="For a new document: its metadata object.")


@strawberry.input(description="An open upload session to give up.")
class CancelUploadInput:
    upload_id: strawberry.ID = strawberry.field(description="The session startUpload returned.")


@strawberry.type(description="The result of cancelUpload.")
class CancelUploadPayload:
    upload_id: strawberry.ID = strawberry.field(
        description="The cancelled session: its parts are deleted and its reserved size given back.")

