"""Approvals as API types, with the review input and payload.

The connection types are declared by hand: Document.approvals refers to ApprovalConnection
lazily (schema.documents cannot import this module, which imports it).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated

import strawberry

from .. import globalid, models
from ..services import approvals as approval_service
from .common import Node, PageInfo
from .documents import Document
from .enums import ApprovalAction, ApprovalStatus
from .folders import Folder
from .tenancy import User
from .types_registry import register_node

from ..resolvers.context import Context, Info

# Imported directly: a lazy reference inside a union does not resolve in this Strawberry.
ApprovalResource = Annotated[Folder | Document, strawberry.union("ApprovalResource")]


async def _visible_approvals(context: Context, keys: Sequence[uuid.UUID]) -> list[models.Approval | None]:
    found = await approval_service.approvals_by_ids(context.db, context.principal, keys)
    return [found.get(key) for key in keys]


async def _user(info: Info, user_id: uuid.UUID | None) -> User | None:
    if user_id is None:
        return None
    row = await info.context.loaders.user.load(user_id)
    return User.from_model(row) if row is not None else None


@register_node
@strawberry.type(description="A request to replace or delete something, awaiting or after review.")
class Approval(Node):
    id: strawberry.ID
    action: ApprovalAction
    status: ApprovalStatus
    requested_at: datetime
    comment: str | None = strawberry.field(description="The requester's comment (for REPLACE, the change comment).")
    reviewed_at: datetime | None = strawberry.field(description="When it was decided or cancelled.")
    review_comment: str | None
    staged_file_size: int | None = strawberry.field(description="For REPLACE: the staged content's size.")
    staged_content_type: str | None = strawberry.field(description="For REPLACE: the staged content's type.")
    staged_content_hash: str | None = strawberry.field(description="For REPLACE: SHA-256 of the staged content.")
    row: strawberry.Private[models.Approval]

    @classmethod
    def from_model(cls, row: models.Approval) -> Approval:
        return cls(
            id=strawberry.ID(globalid.encode("Approval", row.id)), action=ApprovalAction(row.action),
            status=ApprovalStatus(row.status), requested_at=row.requested_at, comment=row.comment,
            reviewed_at=row.reviewed_at, review_comment=row.review_comment,
            staged_file_size=row.staged_file_size, staged_content_type=row.staged_content_type,
            staged_content_hash=row.staged_content_hash, row=row,
        )

    @strawberry.field(description="The folder or document concerned (shown even once deleted).")
    async def resource(self, info: Info) -> ApprovalResource:
        from .sharing import load_resource

        row = self.row
        if row.folder_id is not None:
            return await load_resource(info, "FOLDER", row.folder_id)
        return await load_resource(info, "DOCUMENT", row.document_id)

    @strawberry.field
    async def requested_by(self, info: Info) -> User:
        return await _user(info, self.row.requested_by)

    @strawberry.field(description="Who approved or rejected it; null while pending or when cancelled.")
    async def reviewed_by(self, info: Info) -> User | None:
        return await _user(info, self.row.reviewed_by)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> Approval | None:
        """Visible to its requester and to the reviewers of its resource."""
        row = await info.context.loaders.get("approval", _visible_approvals).load(row_id)
        return cls.from_model(row) if row is not None else None


@strawberry.type
class ApprovalEdge:
    cursor: str
    node: Approval


@strawberry.type
class ApprovalConnection:
    edges: list[ApprovalEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    async def total_count(self) -> int:
        return await self.count()


@strawberry.input
class ReviewInput:
    approval_id: strawberry.ID
    comment: str | None = None


@strawberry.type
class ApprovalPayload:
    approval: Approval
