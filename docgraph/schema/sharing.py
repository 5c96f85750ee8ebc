"""Shares (grants), permissions and access explanations as API types, with the sharing inputs."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from .. import globalid, models, permissions
from ..permissions import FOLDER, Access
from ..resolvers.loaders import rows_by_id
from .common import Node
from .documents import Document
from .enums import Capability
from .folders import Folder
from .tenancy import Group, Role, User
from .types_registry import register_node

from ..resolvers.context import Info

ShareResource = Annotated[Folder | Document, strawberry.union("ShareResource")]
ShareSubject = Annotated[User | Group | Role, strawberry.union("ShareSubject")]


@strawberry.type
class Permissions:
    can_view: bool
    can_create: bool
    can_update: bool
    can_delete: bool
    can_share: bool
    can_manage: bool

    @classmethod
    def of(cls, source: Access | models.Grant) -> Permissions:
        """An evaluation's decisions, or what a grant row says."""
        return cls(**{column: bool(getattr(source, column)) for column in permissions.CAPABILITY_COLUMNS})


def resource_object(row: models.Folder | models.Document):
    return Folder.from_model(row) if isinstance(row, models.Folder) else Document.from_model(row)


async def load_resource(info: Info, kind: str, resource_id: uuid.UUID):
    row = await permissions.row_loader(info.context, kind).load(resource_id)
    return resource_object(row) if row is not None else None


async def load_subject(info: Info, subject_type: str, subject_id: uuid.UUID):
    loaders = info.context.loaders
    if subject_type == "USER":
        row = await loaders.user.load(subject_id)
        return User.from_model(row) if row else None
    if subject_type == "GROUP":
        row = await loaders.get("group", rows_by_id(models.Group)).load(subject_id)
        return Group.from_model(row) if row else None
    row = await loaders.role.load(subject_id)
    return Role.from_model(row) if row else None


async def _visible_shares(context, share_ids):
    from ..services import sharing

    found = await sharing.visible_shares(context.db, context.principal, share_ids)
    return [found.get(i) for i in share_ids]


@register_node
@strawberry.type
class Share(Node):
    id: strawberry.ID
    permissions: Permissions
    granted_at: datetime
    expires_at: datetime | None
    row: strawberry.Private[models.Grant]

    @classmethod
    def from_model(cls, row: models.Grant) -> Share:
        return cls(id=strawberry.ID(globalid.encode("Share", row.id)), permissions=Permissions.of(row),
                   granted_at=row.granted_at, expires_at=row.expires_at, row=row)

    @strawberry.field
    async def resource(self, info: Info) -> ShareResource:
        kind = FOLDER if self.row.folder_id else permissions.DOCUMENT
        return await load_resource(info, kind, self.row.folder_id or self.row.document_id)

    @strawberry.field
    async def subject(self, info: Info) -> ShareSubject:
        return await load_subject(info, self.row.subject_type, self.row.subject_id)

    @strawberry.field
    async def granted_by(self, info: Info) -> User | None:
        if self.row.granted_by is None:
            return None
        row = await info.context.loaders.user.load(self.row.granted_by)
        return User.from_model(row) if row else None

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> Share | None:
        """Visible with SHARE or MANAGE on its resource, or to its subject."""
        row = await info.context.loaders.get("visible_share", _visible_shares).load(row_id)
        return cls.from_model(row) if row is not None else None


# --- explainAccess ------------------------------------------------------------------------------

AccessReason = strawberry.enum(
    Enum("AccessReason", {r.value: r.value for r in permissions.Reason}),
    description="What decided: steps 1-4 (implicit access), step 5 (the nearest grants, or the "
                "system-role ceiling that capped them), step 6 (no grant: deny).",
)


@strawberry.type
class CapabilityDecision:
    capability: Capability
    allowed: bool
    reason: AccessReason
    step: str = strawberry.field(description='The evaluation step: "1", "2", "3", "4a", "4b", "5" or "6".')
    message: str
    grant_id: strawberry.ID | None = strawberry.field(description="Step 5: the grant (Share) that decided.")
    node_id: strawberry.ID | None = strawberry.field(description="Step 5: the folder or document it sits on.")
    subject_id: strawberry.ID | None = strawberry.field(description="Step 5: its subject (User, Group or Role).")

    @classmethod
    def of(cls, decision: permissions.Decision) -> CapabilityDecision:
        grant = decision.grant
        return cls(
            capability=Capability(decision.capability.value), allowed=decision.allowed,
            reason=AccessReason(decision.reason.value), step=decision.step, message=decision.message,
            grant_id=strawberry.ID(globalid.encode("Share", grant.id)) if grant else None,
            node_id=strawberry.ID(globalid.encode("Folder", grant.folder_id) if grant.folder_id
                                  else globalid.encode("Document", grant.document_id)) if grant else None,
            subject_id=strawberry.ID(globalid.encode(grant.subject_type.capitalize(), grant.subject_id))
            if grant else None,
        )


@strawberry.type(description="Why a user may or may not do each thing to a resource.")
class AccessExplanation:
    is_reviewer: bool = strawberry.field(
        description="Steps 1, 2, 3 or 4a apply: the user may review approvals on the resource.")
    permissions: Permissions
    decisions: list[CapabilityDecision]
    explanation: strawberry.Private[permissions.Explanation]

    @classmethod
    def of(cls, explanation: permissions.Explanation) -> AccessExplanation:
        return cls(is_reviewer=explanation.access.is_reviewer, permissions=Permissions.of(explanation.access),
                   decisions=[CapabilityDecision.of(d) for d in explanation.decisions], explanation=explanation)

    @strawberry.field
    async def user(self, info: Info) -> User:
        return User.from_model(await info.context.loaders.user.load(self.explanation.user_id))

    @strawberry.field
    async def resource(self, info: Info) -> ShareResource:
        access = self.explanation.access
        return await load_resource(info, access.kind, access.id)

    @strawberry.field(description="Step 5's deciding grants at the nearest node (empty when another step decided).")
    def deciding_shares(self) -> list[Share]:
        return [Share.from_model(grant) for grant in self.explanation.grants]


# --- inputs and payloads -----------------------------------------------------------------------------

@strawberry.input
class ShareInput:
    resource_id: strawberry.ID = strawberry.field(description="A folder or document.")
    subject_id: strawberry.ID = strawberry.field(description="A user, group or role.")
    capabilities: list[Capability]
    expires_at: datetime | None = None


@strawberry.input
class UpdateShareInput:
    share_id: strawberry.ID
    capabilities: list[Capability]
    expires_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Omit to keep the current expiry; null removes it.")


@strawberry.input
class RevokeShareInput:
    share_id: strawberry.ID


@strawberry.type
class SharePayload:
    share: Share | None


# --- relation helpers of Folder and Document (imported lazily there: no import cycle) ---------------

def my_permissions(info: Info, kind: str, resource_id: uuid.UUID) -> Permissions | Awaitable[Permissions]:
    return permissions.access_loader(info.context).now_or_later((kind, resource_id), Permissions.of)


def _shares_batch(kind: str):
    async def load(context, resource_ids):
        from ..services import sharing

        found = await sharing.live_grants_on(context.db, kind, resource_ids)
        return [found[i] for i in resource_ids]

    return load


async def shares_of(info: Info, kind: str, resource_id: uuid.UUID) -> list[Share]:
    """The live shares of a resource, for viewers who may SHARE or MANAGE it; else empty."""
    access = await permissions.access_loader(info.context).load((kind, resource_id))
    if not (access.can_share or access.can_manage):
        return []
    grants = await info.context.loaders.get(f"shares_{kind}", _shares_batch(kind)).load(resource_id)
    return [Share.from_model(grant) for grant in grants]
