"""Queries and mutations of shares: share, updateShare, revokeShare, sharedWithMe, explainAccess."""

from __future__ import annotations

import uuid

import strawberry

from ..globalid import decode, decode_as
from ..errors import BadInput
from ..pagination import PageRequest
from ..permissions import DOCUMENT, FOLDER, Capability, ResourceKey
from ..schema.common import Connection, to_connection
from ..schema.enums import Capability as CapabilityEnum
from ..schema.sharing import (
    AccessExplanation, RevokeShareInput, Share, ShareInput, SharePayload, UpdateShareInput,
)
from ..services import folders as folder_service
from ..services import sharing as sharing_service
from .context import Info

_RESOURCE_TYPES = {"Folder": FOLDER, "Document": DOCUMENT}
_SUBJECT_TYPES = {"User": "USER", "Group": "GROUP", "Role": "ROLE"}


def _resource(global_id: str, field: str = "resourceId") -> ResourceKey:
    type_name, value = decode(global_id)
    if type_name not in _RESOURCE_TYPES:
        raise BadInput(f"{field} must be a Folder or Document ID", field=field)
    return _RESOURCE_TYPES[type_name], value


def _subject(global_id: str) -> tuple[str, uuid.UUID]:
    type_name, value = decode(global_id)
    if type_name not in _SUBJECT_TYPES:
        raise BadInput("subjectId must be a User, Group or Role ID", field="subjectId")
    return _SUBJECT_TYPES[type_name], value


def _capabilities(values: list[CapabilityEnum]) -> frozenset[Capability]:
    return frozenset(Capability(value.value) for value in values)


@strawberry.type
class Query:
    @strawberry.field(description="Folders and documents shared with the viewer or its groups, newest first.")
    async def shared_with_me(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Share]:
        request = PageRequest.parse(first, after)
        page, count = await sharing_service.shared_with_me(info.context.db, info.context.principal, request)
        return to_connection(page, Share.from_model, count)

    @strawberry.field(description=(
        "Why a user (default: the viewer) may or may not do each thing to a folder or document. "
        "Admins may ask about any member; others only about themselves."))
    async def explain_access(self, info: Info, resource_id: strawberry.ID,
                             user_id: strawberry.ID | None = None) -> AccessExplanation:
        explanation = await sharing_service.explain_access(
            info.context.db, info.context.principal, _resource(resource_id),
            decode_as(user_id, "User") if user_id is not None else None)
        return AccessExplanation.of(explanation)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Give a user, group or role capabilities on a folder or document "
                                     "(sharing again updates that share).")
    async def share(self, info: Info, input: ShareInput) -> SharePayload:
        subject_type, subject_id = _subject(input.subject_id)
        row = await sharing_service.share(
            info.context.db, info.context.principal, resource=_resource(input.resource_id),
            subject_type=subject_type, subject_id=subject_id, capabilities=_capabilities(input.capabilities),
            expires_at=input.expires_at)
        return SharePayload(share=Share.from_model(row))

    @strawberry.mutation
    async def update_share(self, info: Info, input: UpdateShareInput) -> SharePayload:
        expires_at = folder_service.UNCHANGED if input.expires_at is strawberry.UNSET else input.expires_at
        row = await sharing_service.update_share(
            info.context.db, info.context.principal, share_id=decode_as(input.share_id, "Share"),
            capabilities=_capabilities(input.capabilities), expires_at=expires_at)
        return SharePayload(share=Share.from_model(row))

    @strawberry.mutation(description="Remove a share; returns it as it was.")
    async def revoke_share(self, info: Info, input: RevokeShareInput) -> SharePayload:
        row = await sharing_service.revoke_share(
            info.context.db, info.context.principal, share_id=decode_as(input.share_id, "Share"))
        return SharePayload(share=Share.from_model(row))
