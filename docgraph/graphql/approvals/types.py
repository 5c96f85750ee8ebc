"""Approvals as API types, with the review input and payload. Objects are approval rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import strawberry

from ... import models
from ...permissions import DOCUMENT, FOLDER
from ..context import Info, Later
from ..documents.types import Document
from ..enums import ApprovalAction, ApprovalStatus
from ..folders.types import Folder
from ..pagination import Node, node_id, shows
from ..scalars import BigInt
from ..sharing.types import load_resource
from ..tenancy.types import User

# Imported directly: a lazy reference inside a union does not resolve in this Strawberry.
ApprovalResource = Annotated[Folder | Document, strawberry.union(
    "ApprovalResource", description="What an approval is about: a folder or a document.")]


@strawberry.type(description="A request to replace or delete something, awaiting or after review.")
class Approval(Node):
    id: strawberry.ID = node_id("Approval")
    action: ApprovalAction = strawberry.field(description="The change that awaits or awaited review.")
    status: ApprovalStatus = strawberry.field(description="Where the request stands.")
    requested_at: datetime = strawberry.field(description="When the change was requested.")
    comment: str | None = strawberry.field(description="The requester's comment (for REPLACE, the change comment).")
    reviewed_at: datetime | None = strawberry.field(description="When it was decided or cancelled.")
    review_comment: str | None = strawberry.field(description="The reviewer's comment on the decision.")
    staged_file_size: BigInt | None = strawberry.field(description="For REPLACE: the staged content's size.")
    staged_content_type: str | None = strawberry.field(description="For REPLACE: the staged content's type.")
    staged_content_hash: str | None = strawberry.field(description="For REPLACE: SHA-256 of the staged content.")

    @strawberry.field(graphql_type=ApprovalResource,
                      description="The folder or document concerned (shown even once deleted).")
    @staticmethod
    def resource(root: models.Approval, info: Info) -> Later[Any]:
        if root.folder_id is not None:
            return load_resource(info, FOLDER, root.folder_id)
        return load_resource(info, DOCUMENT, root.document_id)  # type: ignore[arg-type]

    @strawberry.field(graphql_type=User, description="Who asked for the change.")
    @staticmethod
    def requested_by(root: models.Approval, info: Info) -> Later[models.User | None]:
        return info.context.loaders.user.load(root.requested_by)

    @strawberry.field(graphql_type=User | None,
                      description="Who approved or rejected it; null while pending or when cancelled.")
    @staticmethod
    async def reviewed_by(root: models.Approval, info: Info) -> models.User | None:
        if root.reviewed_by is None:
            return None
        return await info.context.loaders.user.load(root.reviewed_by)

    is_type_of = shows(models.Approval)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> models.Approval | None:
        """Visible to its requester and to the reviewers of its resource."""
        return await info.context.loaders.approval.load(row_id)


@strawberry.input(description="An approval to decide or cancel, with an optional comment.")
class ReviewInput:
    approval_id: strawberry.ID = strawberry.field(description="The pending approval (an Approval ID).")
    comment: str | None = strawberry.field(default=None, description="Why; kept with the decision and notified.")


@strawberry.type(description="The approval a review mutation decided or cancelled.")
class ApprovalPayload:
    approval: models.Approval = strawberry.field(graphql_type=Approval, description="The approval as it is now.")
