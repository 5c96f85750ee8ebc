"""Documents and versions as API types, with the document mutations' inputs and payload.

Objects are rows: scalar fields read them, relations load through the request's loaders.
`downloadUrl` is a side-effecting read: each one issued counts a download and is audited.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import strawberry

from ... import models
from ...http import links
from ...pagination import SortOrder
from ...permissions import DOCUMENT, Access
from ...services import approvals as approval_service
from ...services import documents as document_service
from ...services import downloads
from ...services.documents import lock_is_active
from ...services.listings import Listing, Relation
from ..context import Info, Later
from ..enums import ApprovalStatus, DocumentOrderField, OrderDirection
from ..pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    Node,
    lazy_type,
    node_id,
    page_request,
    selects,
    shows,
    to_connection,
)
from ..scalars import JSON, BigInt, Upload
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

    locked_at: datetime = strawberry.field(description="When the lock was taken.")

    @strawberry.field(graphql_type=datetime | None,
                      description="When the lock lapses by itself; null: it holds until unlocked.")
    @staticmethod
    def expires_at(root: models.Document) -> datetime | None:
        return root.lock_expires_at

    @strawberry.field(graphql_type=User,
                      description="Who holds the lock: only they (or an admin) may change the document.")
    @staticmethod
    def locked_by(root: models.Document, info: Info) -> Later[models.User | None]:
        return info.context.loaders.user.now_or_later(root.locked_by)  # type: ignore[arg-type]


@strawberry.type(description="One immutable version of a document's content.")
class DocumentVersion(Node):
    id: strawberry.ID = node_id("DocumentVersion")
    version_number: int = strawberry.field(description="1 for the first upload, then 2, 3... with no gaps.")
    file_size: BigInt = strawberry.field(description="The content's size, in bytes.")
    content_type: str = strawberry.field(description="The content's media type, such as application/pdf.")
    content_hash: str = strawberry.field(description="SHA-256 of the content, hexadecimal.")
    change_comment: str | None = strawberry.field(description="What the uploader said changed in this version.")
    created_at: datetime = strawberry.field(description="When this version was uploaded.")
    download_count: int = strawberry.field(description="How many download links were issued for this version.")
    last_downloaded_at: datetime | None = strawberry.field(
        description="When a download link was last issued for it; null if never.")

    @strawberry.field(graphql_type=DocumentRef, description="The document this is a version of.")
    @staticmethod
    def document(root: models.DocumentVersion, info: Info) -> Later[models.Document | None]:
        return info.context.loaders.document.now_or_later(root.document_id)

    @strawberry.field(graphql_type=User, description="Who uploaded this version.")
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


@strawberry.type(description="A file kept in a folder, with its versions, shares and approvals.")
class Document(Node):
    id: strawberry.ID = node_id("Document")
    name: str = strawberry.field(description="The document's name, unique among the live documents of its folder.")
    description: str | None = strawberry.field(description="A free description of the document.")
    content_type: str = strawberry.field(description="The current version's media type, such as application/pdf.")
    file_size: BigInt = strawberry.field(description="The current version's size, in bytes.")
    tags: list[str] = strawberry.field(description="Labels for finding the document (see search's tags filter).")
    metadata: JSON = strawberry.field(
        resolver=_metadata, description="A JSON object of the client's own fields (see search's metadata filter).")
    version_count: int = strawberry.field(description="How many versions the document has had.")
    lock: models.Document | None = strawberry.field(
        resolver=_lock, graphql_type=DocumentLock | None, description="The live lock; null when unlocked or expired.")
    created_at: datetime = strawberry.field(description="When the document was first uploaded.")
    updated_at: datetime = strawberry.field(description="When the document or its content last changed.")
    deleted_at: datetime | None = strawberry.field(
        description="When the document (or a folder above it) was deleted; null while it is live.")

    @strawberry.field(graphql_type=FolderRef,
                      description="The folder holding the document; null when the viewer cannot see that folder "
                                  "(a document shared on its own).")
    @staticmethod
    def folder(root: models.Document, info: Info) -> Later[models.Folder | None]:
        return info.context.loaders.folder.now_or_later(root.folder_id)

    @strawberry.field(graphql_type=DocumentVersion, description="The version downloads and previews show.")
    @staticmethod
    def current_version(root: models.Document, info: Info) -> Later[models.DocumentVersion | None]:
        return info.context.loaders.document_version.now_or_later(root.current_version_id)  # type: ignore[arg-type]

    @strawberry.field(graphql_type=Connection[DocumentVersion], description="All versions, newest first.")
    @staticmethod
    async def versions(root: models.Document, info: Info, first: First = None, after: After = None,
                       last: Last = None, before: Before = None) -> Connection[models.DocumentVersion]:
        page, count = await document_service.list_versions(info.context.db, root.id,
                                                           page_request(first, after, last, before))
        return to_connection(page, count)

    @strawberry.field(graphql_type=User, description="Who uploaded the first version.")
    @staticmethod
    def created_by(root: models.Document, info: Info) -> Later[models.User | None]:
        return info.context.loaders.user.now_or_later(root.created_by)

    @strawberry.field(graphql_type=PermissionsRef, description="What the viewer may do with the document.")
    @staticmethod
    def my_permissions(root: models.Document, info: Info) -> Later[Access]:
        return info.context.loaders.access.now_or_later((DOCUMENT, root.id))

    @strawberry.field(graphql_type=list[ShareRef],
                      description="Live shares of the document; empty unless the viewer may SHARE or MANAGE it.")
    @staticmethod
    async def shares(root: models.Document, info: Info) -> list[models.Grant]:
        return await info.context.loaders.shares_shown(DOCUMENT, root.id)

    @strawberry.field(graphql_type=Connection[ShareRef],
                      description="The document's live shares a page at a time (users first, then groups and roles, "
                                  "each oldest first); empty unless the viewer may SHARE or MANAGE it.")
    @staticmethod
    async def shares_connection(root: models.Document, info: Info, first: First = None, after: After = None,
                                last: Last = None, before: Before = None) -> Connection[models.Grant]:
        return to_connection(*await info.context.loaders.shares_page_shown(
            DOCUMENT, root.id, page_request(first, after, last, before)))

    @strawberry.field(description="A short-lived link to the current version's bytes; counts a download.")
    @staticmethod
    async def download_url(root: models.Document, info: Info) -> str:
        return await download_url(info, root.id)

    @strawberry.field(graphql_type=Connection[ApprovalRef],
                      description="Requests to replace or delete the document, newest first: all of them for "
                                  "its reviewers, the viewer's own for everyone else.")
    @staticmethod
    async def approvals(root: models.Document, info: Info, status: Annotated[ApprovalStatus | None, strawberry.argument(
            description="Only approvals in this status; omit for all.")] = None,
                        first: First = None, after: After = None, last: Last = None,
                        before: Before = None) -> Connection[models.Approval]:
        page, count = await approval_service.list_approvals(
            info.context.db, info.context.principal, page_request(first, after, last, before),
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


def sort_order(order: Any, default: SortOrder) -> SortOrder:
    """A DocumentOrder or FolderOrder input as services take it; `default` when none was given."""
    if order is None:
        return default
    return SortOrder(order.field.value, descending=order.direction == OrderDirection.DESC)


# --- inputs and payloads -----------------------------------------------------------------------------

@strawberry.input(description="An order for documents: a field and a direction.")
class DocumentOrder:
    field: DocumentOrderField = strawberry.field(description="What to order by.")
    direction: OrderDirection = strawberry.field(description="Ascending or descending.")


@strawberry.input(description="A new document from a file sent with the GraphQL multipart request.")
class UploadDocumentInput:
    folder_id: strawberry.ID = strawberry.field(description="The folder to upload into (a Folder ID).")
    file: Upload = strawberry.field(description="The file: a part of the multipart request.")
    name: str | None = strawberry.field(default=None, description="Defaults to the uploaded file's name.")
    description: str | None = strawberry.field(default=None, description="A free description of the document.")
    tags: list[str] | None = strawberry.field(default=None, description="Labels for finding the document.")
    metadata: JSON | None = strawberry.field(default=None, description="A JSON object of the client's own fields.")


@strawberry.input(description="A new version of a document from a file sent with the GraphQL multipart request.")
class ReplaceDocumentInput:
    document_id: strawberry.ID = strawberry.field(description="The document to replace (a Document ID).")
    file: Upload = strawberry.field(description="The new content: a part of the multipart request.")
    change_comment: str | None = strawberry.field(
        default=None, description="What changed; kept with the version and shown to reviewers.")


@strawberry.input(description="Changes a document's name, description, tags or metadata (not its content).")
class UpdateDocumentInput:
    document_id: strawberry.ID = strawberry.field(description="The document to change (a Document ID).")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="The new name; omit to keep it.")
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="Omit to keep it; null or empty clears it.")
    tags: list[str] | None = strawberry.field(default=strawberry.UNSET, description="Replaces the tags.")
    metadata: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces the metadata object; null clears it.")


@strawberry.input(description="Moves a document to another folder.")
class MoveDocumentInput:
    document_id: strawberry.ID = strawberry.field(description="The document to move (a Document ID).")
    folder_id: strawberry.ID = strawberry.field(description="The folder it goes to (a Folder ID).")


@strawberry.input(description="Deletes a document (to the trash, restorable).")
class DeleteDocumentInput:
    document_id: strawberry.ID = strawberry.field(description="The document to delete (a Document ID).")
    comment: str | None = strawberry.field(
        default=None, description="Why: shown to reviewers when the deletion awaits approval.")


@strawberry.input(description="Locks a document so that only the viewer (or an admin) can change it.")
class LockDocumentInput:
    document_id: strawberry.ID = strawberry.field(description="The document to lock (a Document ID).")
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the lock lapses by itself; omit for a lock that holds until unlocked.")


@strawberry.input(description="Releases a document's lock.")
class UnlockDocumentInput:
    document_id: strawberry.ID = strawberry.field(description="The document to unlock (a Document ID).")
    force: bool | None = strawberry.field(default=None, description="Admins: release someone else's lock.")


@strawberry.type(description="document is set when the change was applied; approval when it awaits review.")
class DocumentPayload:
    document: models.Document | None = strawberry.field(
        graphql_type=Document | None, description="The document as it is now; null when the change awaits review.")
    approval: models.Approval | None = strawberry.field(
        default=None, graphql_type=ApprovalRef | None, description="Set when the change awaits review.")
