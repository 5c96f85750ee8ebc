"""Upload sessions (startUpload / parts / completeUpload) as API types."""

from __future__ import annotations

from datetime import datetime

import strawberry

from ..scalars import JSON


@strawberry.type
class UploadPart:
    part_number: int
    url: str = strawberry.field(description="PUT the part's bytes here; the response's ETag names it.")


@strawberry.type(description="A resumable upload. No parts: the content is already stored; just complete it.")
class UploadSession:
    id: strawberry.ID
    part_size: int = strawberry.field(description="Every part but the last has exactly this size.")
    parts: list[UploadPart]
    expires_at: datetime


@strawberry.input
class StartUploadInput:
    folder_id: strawberry.ID | None = strawberry.field(
        default=None, description="Exactly one of folderId (new document) or documentId (new version).")
    document_id: strawberry.ID | None = None
    file_name: str
    content_type: str
    size: int
    sha256: str | None = None


@strawberry.input
class CompleteUploadInput:
    upload_id: strawberry.ID
    change_comment: str | None = None
    name: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    metadata: JSON | None = None
