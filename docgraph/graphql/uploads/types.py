"""Upload sessions (startUpload / parts / completeUpload) as API types."""

from __future__ import annotations

from datetime import datetime

import strawberry

from ..scalars import JSON


@strawberry.type(description="Where to send one part of a resumable upload.")
class UploadPart:
    part_number: int = strawberry.field(description="The part's position, from 1.")
    url: str = strawberry.field(description="PUT the part's bytes here; the response's ETag names it.")


@strawberry.type(description="A resumable upload. No parts: the content is already stored; just complete it.")
class UploadSession:
    id: strawberry.ID = strawberry.field(description="The session's ID: pass it to completeUpload.")
    part_size: int = strawberry.field(description="Every part but the last has exactly this size.")
    parts: list[UploadPart] = strawberry.field(description="Where to PUT each part, in order.")
    expires_at: datetime = strawberry.field(description="When the session and its part URLs stop working.")


@strawberry.input(description="A large or resumable upload to open: a new document, or a new version of one.")
class StartUploadInput:
    folder_id: strawberry.ID | None = strawberry.field(
        default=None, description="Exactly one of folderId (new document) or documentId (new version).")
    document_id: strawberry.ID | None = strawberry.field(
        default=None, description="The document that gets a new version (a Document ID).")
    file_name: str = strawberry.field(description="The file's name (the new document's name by default).")
    content_type: str = strawberry.field(description="The file's media type, such as application/pdf.")
    size: int = strawberry.field(description="The file's exact size, in bytes.")
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

