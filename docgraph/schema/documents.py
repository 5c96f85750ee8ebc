"""Documents and versions as API types, with the document mutations' inputs and payload.

Scalars are plain attributes set in `from_model`; relations load through per-request loaders.
`downloadUrl` is a side-effecting read: each one issued counts a download and is audited.

`Document.approvals` and `DocumentPayload.approval` refer to schema/approvals.py lazily (that
module imports this one).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

from .. import globalid, models, permissions
from ..http import links
from ..pagination import PageRequest
from ..services import downloads, search
from ..services.documents import lock_is_active
from .common import Connection, Node, selects, to_connection
from .enums import ApprovalStatus
from .types_registry import register_node

from ..resolvers.context import Info

if TYPE_CHECKING:
    from .folders import Folder
    from .sharing import Permissions, Share
    from .tenancy import User

FolderRef = Annotated["Folder", strawberry.lazy("docgraph.schema.folders")]
UserRef = Annotated["User", strawberry.lazy("docgraph.schema.tenancy")]
PermissionsRef = Annotated["Permissions", strawberry.lazy("docgraph.schema.sharing")]
ShareRef = Annotated["Share", strawberry.lazy("docgraph.schema.sharing")]
ApprovalRef = Annotated["Approval", strawberry.lazy("docgraph.schema.approvals")]
ApprovalConnectionRef = Annotated["ApprovalConnection", strawberry.lazy("docgraph.schema.approvals")]


def _user(info: Info, user_id: uuid.UUID):
    from .tenancy import User

    return info.context.loaders.user.now_or_later(user_id, User.from_model)


async def download_url(info: Info, document_id: uuid.UUID, version_id: uuid.UUID | None = None) -> str:
    """Count and audit a download, then link to the bytes: presigned (S3) or /files/<token>."""
    context = info.context
    ttl = context.settings.download_url_ttl
    download = await downloads.start_download(context.db, context.principal, storage=context.services.storage,
                                              document_id=document_id, version_id=version_id, expires_in=ttl)
    return download.url or links.file_url(context.settings, context.request, download.version_id, ttl=ttl)


@strawberry.type(description="Who holds a document's lock, since when and until when.")
class DocumentLock:
    locked_at: datetime
    expires_at: datetime | None
    holder_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    def locked_by(self, info: Info) -> UserRef:
        return _user(info, self.holder_id)


@register_node
@strawberry.type
class DocumentVersion(Node):
    id: strawberry.ID
    version_number: int
    file_size: int
    content_type: str
    content_hash: str = strawberry.field(description="SHA-256 of the content, hexadecimal.")
    change_comment: str | None
    created_at: datetime
    download_count: int
    last_downloaded_at: datetime | None
    row: strawberry.Private[models.DocumentVersion]

    @classmethod
    def from_model(cls, row: models.DocumentVersion) -> DocumentVersion:
        return cls(
            id=strawberry.ID(globalid.encode("DocumentVersion", row.id)), version_number=row.version_number,
            file_size=row.file_size, content_type=row.content_type, content_hash=row.content_hash,
            change_comment=row.change_comment, created_at=row.created_at, download_count=row.download_count,
            last_downloaded_at=row.last_downloaded_at, row=row,
        )

    @strawberry.field
    def document(self, info: Info) -> Document:
        return info.context.loaders.document.now_or_later(self.row.document_id, Document.from_model)

    @strawberry.field
    def created_by(self, info: Info) -> UserRef:
        return _user(info, self.row.created_by)

    @strawberry.field(description="A short-lived link to this version's bytes; counts a download.")
    async def download_url(self, info: Info) -> str:
        return await download_url(info, self.row.document_id, self.row.id)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> DocumentVersion | None:
        row = await info.context.loaders.document_version.load(row_id)
        if row is None:
            return None
        visible = (await permissions.visible_rows(info.context, permissions.DOCUMENT, [row.document_id]))[0]
        return cls.from_model(row) if visible is not None else None


@register_node
@strawberry.type
class Document(Node):
    id: strawberry.ID
    name: str
    description: str | None
    content_type: str
    file_size: int
    tags: list[str]
    metadata: JSON
    version_count: int
    lock: DocumentLock | None = strawberry.field(description="The live lock; null when unlocked or expired.")
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    row: strawberry.Private[models.Document]

    @classmethod
    def from_model(cls, row: models.Document) -> Document:
        lock = (DocumentLock(locked_at=row.locked_at, expires_at=row.lock_expires_at, holder_id=row.locked_by)
                if lock_is_active(row) else None)
        return cls(
            id=strawberry.ID(globalid.encode("Document", row.id)), name=row.name, description=row.description,
            content_type=row.content_type, file_size=row.file_size, tags=list(row.tags),
            metadata=row.metadata_, version_count=row.version_count, lock=lock, created_at=row.created_at,
            updated_at=row.updated_at, deleted_at=row.deleted_at, row=row,
        )

    @strawberry.field
    def folder(self, info: Info) -> FolderRef:
        from .folders import Folder

        return info.context.loaders.folder.now_or_later(self.row.folder_id, Folder.from_model)

    @strawberry.field
    def current_version(self, info: Info) -> DocumentVersion:
        return info.context.loaders.document_version.now_or_later(self.row.current_version_id,
                                                                  DocumentVersion.from_model)

    @strawberry.field(description="All versions, newest first.")
    async def versions(self, info: Info, first: int | None = None,
                       after: str | None = None) -> Connection[DocumentVersion]:
        page, count = await search.list_versions(info.context.db, self.row.id, PageRequest.parse(first, after))
        return to_connection(page, DocumentVersion.from_model, count)

    @strawberry.field
    def created_by(self, info: Info) -> UserRef:
        return _user(info, self.row.created_by)

    @strawberry.field(description="What the viewer may do with the document.")
    def my_permissions(self, info: Info) -> PermissionsRef:
        from .sharing import my_permissions

        return my_permissions(info, permissions.DOCUMENT, self.row.id)

    @strawberry.field(description="Live shares of the document; empty unless the viewer may SHARE or MANAGE it.")
    async def shares(self, info: Info) -> list[ShareRef]:
        from .sharing import shares_of

        return await shares_of(info, permissions.DOCUMENT, self.row.id)

    @strawberry.field(description="A short-lived link to the current version's bytes; counts a download.")
    async def download_url(self, info: Info) -> str:
        return await download_url(info, self.row.id)

    @strawberry.field(description="Requests to replace or delete the document, newest first: all of them for "
                                  "its reviewers, the viewer's own for everyone else.")
    async def approvals(self, info: Info, status: ApprovalStatus | None = None, first: int | None = None,
                        after: str | None = None) -> ApprovalConnectionRef:
        from ..resolvers.approvals import approval_connection

        return await approval_connection(info, status, first, after, document_id=self.row.id)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> Document | None:
        row = (await permissions.visible_rows(info.context, permissions.DOCUMENT, [row_id]))[0]
        return cls.from_model(row) if row is not None else None


# The node fields a listing can join: GraphQL name → (services.search.RELATIONS name, the
# request loader its rows are left in).
_JOINABLE = {"currentVersion": ("current_version", "document_version"), "createdBy": ("created_by", "user")}


def joined_relations(info: Info) -> list[str]:
    """The relations a document listing should join for the nodes this query asks for."""
    return [name for field, (name, _) in _JOINABLE.items() if selects(info, "edges", "node", field)]


async def document_connection(info: Info, listing: search.Listing) -> Connection[Document]:
    """A listing of documents as a connection. The evaluations the listing made answer the
    nodes' `myPermissions` and the rows it joined their relations; what else the query asks of
    the nodes is loaded here, one batch each, so every node's fields then resolve at once."""
    permissions.remember(info.context, listing.access)
    loaders = info.context.loaders
    for name, loader_name in _JOINABLE.values():
        loader = getattr(loaders, loader_name)
        for row in listing.related.get(name, ()):
            if row is not None:
                loader.prime(row.id, row)
    rows = [row for _, row in listing.page.items]
    if selects(info, "edges", "node", "folder"):
        await loaders.folder.load_many(list({row.folder_id for row in rows}))
    return to_connection(listing.page, Document.from_model, listing.count)


# --- inputs and payloads -----------------------------------------------------------------------------

@strawberry.input
class UploadDocumentInput:
    folder_id: strawberry.ID
    file: Upload
    name: str | None = strawberry.field(default=None, description="Defaults to the uploaded file's name.")
    description: str | None = None
    tags: list[str] | None = None
    metadata: JSON | None = None


@strawberry.input
class ReplaceDocumentInput:
    document_id: strawberry.ID
    file: Upload
    change_comment: str | None = None


@strawberry.input
class UpdateDocumentInput:
    document_id: strawberry.ID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Omit to keep it; null or empty clears it.")
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description="Replaces the tags.")
    metadata: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the metadata object; null clears it.")


@strawberry.input
class MoveDocumentInput:
    document_id: strawberry.ID
    folder_id: strawberry.ID


@strawberry.input
class DeleteDocumentInput:
    document_id: strawberry.ID
    comment: str | None = None


@strawberry.input
class LockDocumentInput:
    document_id: strawberry.ID
    expires_at: datetime | None = None


@strawberry.input
class UnlockDocumentInput:
    document_id: strawberry.ID
    force: bool | None = strawberry.field(default=None, description="Admins: release someone else's lock.")


@strawberry.type(description="document is set when the change was applied; approval when it awaits review.")
class DocumentPayload:
    document: Document | None
    approval: ApprovalRef | None = strawberry.field(default=None, description="Set when the change awaits review.")
