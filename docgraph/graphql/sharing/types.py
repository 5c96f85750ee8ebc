"""Shares (grants), permissions and access explanations as API types, with the sharing inputs.

Objects are what services and permissions return: grant rows (Share), evaluations or grant
rows (Permissions: both carry the six decisions), `permissions.Explanation` and `Decision`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import strawberry

from ... import globalid, models
from ...permissions import DOCUMENT, FOLDER, Access, Decision, Explanation
from ..context import Info, Later
from ..documents.types import Document
from ..enums import AccessReason, Capability
from ..folders.types import Folder
from ..pagination import Node, node_id, shows
from ..tenancy.types import Group, Role, User

# Imported directly: a lazy reference inside a union does not resolve in this Strawberry.
ShareResource = Annotated[Folder | Document, strawberry.union(
    "ShareResource", description="What a share gives access to: a folder (and what it holds) or a document.")]
ShareSubject = Annotated[User | Group | Role, strawberry.union(
    "ShareSubject", description="Who a share is for: a user, or every member of a group or a custom role.")]


@strawberry.type(description="Six capabilities on a folder or document: what the viewer may do, or what a share gives.")
class Permissions:
    """Objects are evaluations (`Access`) or grant rows: both have the six can_* booleans."""

    can_view: bool = strawberry.field(description="See it and download its content.")
    can_create: bool = strawberry.field(description="Create subfolders in it or upload documents into it (folders).")
    can_update: bool = strawberry.field(description="Rename it, change its details, upload new versions.")
    can_delete: bool = strawberry.field(description="Delete it (some deletions await approval).")
    can_share: bool = strawberry.field(description="Share it with others, giving at most what one has oneself.")
    can_manage: bool = strawberry.field(description="Change or revoke others' shares on it, restrictions included.")


def load_resource(info: Info, kind: str, resource_id: uuid.UUID) -> Later[Any]:
    """A folder or document row by id, whether or not the viewer may see it now (the caller
    has decided it may be shown)."""
    return info.context.loaders.resource(kind).load(resource_id)


def load_subject(info: Info, subject_type: str, subject_id: uuid.UUID) -> Later[Any]:
    loaders = info.context.loaders
    if subject_type == "USER":
        return loaders.user.load(subject_id)
    if subject_type == "GROUP":
        return loaders.group.load(subject_id)
    return loaders.role.load(subject_id)


def _itself(root: models.Grant) -> models.Grant:
    """A grant shows its own capabilities as Permissions."""
    return root


@strawberry.type(description="Capabilities given to a user, group or role on a folder or document. A share "
                              "with no capability is a restriction: it denies everything at its place.")
class Share(Node):
    id: strawberry.ID = node_id("Share")
    permissions: models.Grant = strawberry.field(
        resolver=_itself, graphql_type=Permissions, description="The capabilities this share gives.")
    granted_at: datetime = strawberry.field(description="When the share was made or last changed.")
    expires_at: datetime | None = strawberry.field(description="When the share stops applying; null: never.")

    @strawberry.field(graphql_type=ShareResource, description="The folder or document shared.")
    @staticmethod
    def resource(root: models.Grant, info: Info) -> Later[Any]:
        if root.folder_id is not None:
            return load_resource(info, FOLDER, root.folder_id)
        return load_resource(info, DOCUMENT, root.document_id)  # type: ignore[arg-type]

    @strawberry.field(graphql_type=ShareSubject, description="The user, group or role the share is for.")
    @staticmethod
    def subject(root: models.Grant, info: Info) -> Later[Any]:
        return load_subject(info, root.subject_type, root.subject_id)

    @strawberry.field(graphql_type=User | None, description="Who made the share; null when unknown.")
    @staticmethod
    async def granted_by(root: models.Grant, info: Info) -> models.User | None:
        if root.granted_by is None:
            return None
        return await info.context.loaders.user.load(root.granted_by)

    is_type_of = shows(models.Grant)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> models.Grant | None:
        """Visible with SHARE or MANAGE on its resource, or to its subject."""
        return await info.context.loaders.share.load(row_id)


# --- explainAccess ------------------------------------------------------------------------------

def _global_id(type_name: str, value: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(globalid.encode(type_name, value))


@strawberry.type(description="Whether one capability is allowed, and which step of the evaluation decided.")
class CapabilityDecision:
    """Objects are `permissions.Decision`s."""

    capability: Capability = strawberry.field(description="The capability decided.")
    allowed: bool = strawberry.field(description="Whether the user has it.")
    reason: AccessReason = strawberry.field(description="What decided it.")
    step: str = strawberry.field(description='The evaluation step: "1", "2", "3", "4a", "4b", "5" or "6".')
    message: str = strawberry.field(description="The decision in a sentence, for people.")

    @strawberry.field(graphql_type=strawberry.ID | None, description="Step 5: the grant (Share) that decided.")
    @staticmethod
    def grant_id(root: Decision) -> strawberry.ID | None:
        return _global_id("Share", root.grant.id) if root.grant else None

    @strawberry.field(graphql_type=strawberry.ID | None, description="Step 5: the folder or document it sits on.")
    @staticmethod
    def node_id(root: Decision) -> strawberry.ID | None:
        grant = root.grant
        if grant is None:
            return None
        if grant.folder_id is not None:
            return _global_id("Folder", grant.folder_id)
        return _global_id("Document", grant.document_id)  # type: ignore[arg-type]

    @strawberry.field(graphql_type=strawberry.ID | None, description="Step 5: its subject (User, Group or Role).")
    @staticmethod
    def subject_id(root: Decision) -> strawberry.ID | None:
        grant = root.grant
        return _global_id(grant.subject_type.capitalize(), grant.subject_id) if grant else None


@strawberry.type(description="Why a user may or may not do each thing to a resource.")
class AccessExplanation:
    """Objects are `permissions.Explanation`s."""

    @strawberry.field(graphql_type=bool,
                      description="Steps 1, 2, 3 or 4a apply: the user may review approvals on the resource.")
    @staticmethod
    def is_reviewer(root: Explanation) -> bool:
        return root.access.is_reviewer

    @strawberry.field(graphql_type=Permissions, description="What the user may do with the resource, in all.")
    @staticmethod
    def permissions(root: Explanation) -> Access:
        return root.access

    @strawberry.field(graphql_type=list[CapabilityDecision], description="One decision per capability.")
    @staticmethod
    def decisions(root: Explanation) -> list[Decision]:
        return root.decisions

    @strawberry.field(graphql_type=User, description="The user the explanation is about.")
    @staticmethod
    def user(root: Explanation, info: Info) -> Later[models.User | None]:
        return info.context.loaders.user.load(root.user_id)

    @strawberry.field(graphql_type=ShareResource, description="The folder or document the explanation is about.")
    @staticmethod
    def resource(root: Explanation, info: Info) -> Later[Any]:
        return load_resource(info, root.access.kind, root.access.id)

    @strawberry.field(graphql_type=list[Share],
                      description="Step 5's deciding grants at the nearest node (empty when another step decided).")
    @staticmethod
    def deciding_shares(root: Explanation) -> list[models.Grant]:
        return root.grants


# --- inputs and payloads -----------------------------------------------------------------------------

@strawberry.input(description="Shares a folder or document with a user, group or role; sharing again with the same "
                               "subject changes that share.")
class ShareInput:
    resource_id: strawberry.ID = strawberry.field(description="A folder or document.")
    subject_id: strawberry.ID = strawberry.field(description="A user, group or role.")
    capabilities: list[Capability] = strawberry.field(
        description="What to give: VIEW with any others, or an empty list for a restriction (MANAGE needed).")
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the share stops applying (in the future); omit for no end.")


@strawberry.input(description="Changes the capabilities or the expiry of a share.")
class UpdateShareInput:
    share_id: strawberry.ID = strawberry.field(description="The share to change (a Share ID).")
    capabilities: list[Capability] = strawberry.field(
        description="The share's capabilities from now on (narrowing them needs MANAGE).")
    expires_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Omit to keep the current expiry; null removes it.")


@strawberry.input(description="A share to remove.")
class RevokeShareInput:
    share_id: strawberry.ID = strawberry.field(description="The share to revoke (a Share ID).")


@strawberry.type(description="The share a sharing mutation made, changed or removed.")
class SharePayload:
    share: models.Grant | None = strawberry.field(
        graphql_type=Share | None, description="The share (as it was, for a revoked one).")
