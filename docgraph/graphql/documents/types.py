"""Documents and versions as API types, with the document mutations' inputs and payload.

Objects are rows: scalar fields read them, relations load through the request's loaders.
`downloadUrl` is a side-effecting read: each one issued counts a download and is audited.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry

from ... import models
from ...http import links
from ...pagination import PageRequest
from ...permissions import DOCUMENT, Access
from ...services import approvals as approval_service
from ...services import documents as document_service
from ...services import downloads
from ...services.documents import lock_is_active
from ...services.listings import Listing, Relation
from ..context import Info, Later
from ..enums import ApprovalStatus
from ..pagination import Connection, Node, lazy_type, node_id, selects, shows, to_connection
from ..scalars import JSON, Upload
from ..sharing.relations import my_permissions, shares_of
from ..tenancy.types import User


# Types of domains that import this one.
FolderRef = lazy_type("Folder", "docgraph.graphql.folders.types")
PermissionsRef = lazy_type("Permissions", "docgraph.graphql.sharing.types")
ShareRef = lazy_type("Share", "docgraph.graphql.sharing.types")
ApprovalRef = lazy_type("Approval", "docgraph.graphql.approvals.types")
# A version names its document, defined below it.
DocumentRef = lazy_type("Document", "docgraph.graphql.documents.types")


async def download_url(info: Info, document_id: uuid.UUID, version_id: uuid.UUID | None = None) -> str:
    """Count and audit a download, then link to the bytes: presigned (S3) or /files/<token>."""
    context = info.context
    ttl = context.settings.download_url_ttl
    download = await downloads.start_download(context.db, context.principal, storage=context.services.storage,
                                              document_id=document_id, version_id=version_id, expires_in=ttl)
    return download.url or links.file_url(context.settings, context.request, download.version_id, ttl=ttl)


@strawberry.type(description="Who holds a document's lock, since when and until when.")
class DocumentLock:
    """Objects are the locked document's row."""

    locked_at: datetime

    @strawberry.field(graphql_type=datetime | None)
    @staticmethod
    def expires_at(root: models.Document) -> datetime | None:
        return root.lock_expires_at

    @strawberry.field(graphql_type=User)
    @staticmethod
    def locked_by(root: models.Document, info: Info) -> Later[models.User | None]:
        return info.context.loaders.user.now_or_later(root.locked_by)  # type: ignore[arg-type]


@strawberry.type
class DocumentVersion(Node):
    id: strawberry.ID = node_id("DocumentVersion")
    version_number: int
    file_size: int
    content_type: str
    content_hash: str = strawberry.field(description="SHA-256 of the content, hexadecimal.")
    change_comment: str | None
    created_at: datetime
    download_count: int
    last_downloaded_at: datetime | None

    @strawberry.field(graphql_type=DocumentRef)
    @staticmethod
    def document(root: models.DocumentVersion, info: Info) -> Later[models.Document | None]:
        return info.context.loaders.document.now_or_later(root.document_id)

    @strawberry.field(graphql_type=User)
    @staticmethod
    def created_by(root: models.DocumentVersion, info: Info) -> Later[models.User | None]:
        return info.context.loaders.user.now_or_later(root.created_by)

    @strawberry.field(description="A short-lived link to this version's bytes; counts a download.")
    @staticmethod
    async def download_url(root: models.DocumentVersion, info: Info) -> str:
        return await download_url(info, root.document_id, root.id)

    is_type_of = shows(models.DocumentVersion)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> models.DocumentVersion | None:
        row = await info.context.loaders.document_version.load(row_id)
        if row is None or await info.context.loaders.visible_document.load(row.document_id) is None:
            return None
        return row


def _metadata(root: models.Document) -> Any:
    return root.metadata_


def _lock(root: models.Document) -> models.Document | None:
    """A document's lock is shown from its row, when the lock is live."""
    return root if lock_is_active(root) else None


@strawberry.type
class Document(Node):
    id: strawberry.ID = node_id("Document")
    name: str
    description: str | None
    content_type: str
    file_size: int
    tags: list[str]
    metadata: JSON = strawberry.field(resolver=_metadata)
    version_count: int
    lock: DocumentLock | None = strawberry.field(
        resolver=_lock, graphql_type=DocumentLock | None, description="The live lock; null when unlocked or expired.")
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None

    @strawberry.field(graphql_type=FolderRef)
    @staticmethod
    def folder(root: models.Document, info: Info) -> Later[models.Folder | None]:
        return info.context.loaders.folder.now_or_later(root.folder_id)

    @strawberry.field(graphql_type=DocumentVersion)
    @staticmethod
    def current_version(root: models.Document, info: Info) -> Later[models.DocumentVersion | None]:
        return info.context.loaders.document_version.now_or_later(root.current_version_id)  # type: ignore[arg-type]

    @strawberry.field(graphql_type=Connection[DocumentVersion], description="All versions, newest first.")
    @staticmethod
    async def versions(root: models.Document, info: Info, first: int | None = None,
                       after: str | None = None) -> Connection[models.DocumentVersion]:
        page, count = await document_service.list_versions(info.context.db, root.id, PageRequest.parse(first, after))
        return to_connection(page, count)

    @strawberry.field(graphql_type=User)
    @staticmethod
    def created_by(root: models.Document, info: Info) -> Later[models.User | None]:
        return info.context.loaders.user.now_or_later(root.created_by)

    @strawberry.field(graphql_type=PermissionsRef, description="What the viewer may do with the document.")
    @staticmethod
    def my_permissions(root: models.Document, info: Info) -> Later[Access]:
        return my_permissions(info, DOCUMENT, root.id)

    @strawberry.field(graphql_type=list[ShareRef],
                      description="Live shares of the document; empty unless the viewer may SHARE or MANAGE it.")
    @staticmethod
    async def shares(root: models.Document, info: Info) -> list[models.Grant]:
        return await shares_of(info, DOCUMENT, root.id)

    @strawberry.field(description="A short-lived link to the current version's bytes; counts a download.")
    @staticmethod
    async def download_url(root: models.Document, info: Info) -> str:
        return await download_url(info, root.id)

    @strawberry.field(graphql_type=Connection[ApprovalRef],
                      description="Requests to replace or delete the document, newest first: all of them for "
                                  "its reviewers, the viewer's own for everyone else.")
    @staticmethod
    async def approvals(root: models.Document, info: Info, status: ApprovalStatus | None = None,
                        first: int | None = None, after: str | None = None) -> Connection[models.Approval]:
        page, count = await approval_service.list_approvals(
            info.context.db, info.context.principal, PageRequest.parse(first, after),
            status=status.value if status is not None else None, document_id=root.id)
        return to_connection(page, count)

    is_type_of = shows(models.Document)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> models.Document | None:
        return await info.context.loaders.visible_document.load(row_id)


# The node fields whose rows a listing can join (and leave in the request's loaders).
_JOINABLE = {"currentVersion": Relation.CURRENT_VERSION, "createdBy": Relation.CREATED_BY}


def joined_relations(info: Info) -> list[Relation]:
    """The relations a document listing should join for the nodes this query asks for."""
    return [relation for field, relation in _JOINABLE.items() if selects(info, "edges", "node", field)]


async def document_connection(info: Info, listing: Listing[models.Document]) -> Connection[models.Document]:
    """A listing of documents as a connection. The evaluations the listing made answer the
    nodes' `myPermissions` and the rows it joined their relations; what else the query asks of
    the nodes is loaded here, one batch each, so every node's fields then resolve at once."""
    loaders = info.context.loaders
    loaders.remember(listing.access)
    for version in listing.related.get(Relation.CURRENT_VERSION, ()):
        if version is not None:
            loaders.document_version.prime(version.id, version)
    for user in listing.related.get(Relation.CREATED_BY, ()):
        if user is not None:
            loaders.user.prime(user.id, user)
    rows = [row for _, row in listing.page.items]
    if selects(info, "edges", "node", "folder"):
        await loaders.folder.load_many(list({row.folder_id for row in rows}))
    return to_connection(listing.page, listing.count)


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
    document: models.Document | None = strawberry.field(graphql_type=Document | None)
    approval: models.Approval | None = strawberry.field(
        default=None, graphql_type=ApprovalRef | None, description="Set when the change awaits review.")
