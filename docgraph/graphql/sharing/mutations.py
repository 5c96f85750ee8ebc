"""share, updateShare and revokeShare."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ...globalid import decode_as
from ...services import sharing as sharing_service
from ..context import Info
from ..inputs import sent
from .resources import resource_key, subject_key
from .types import RevokeShareInput, ShareInput, SharePayload, UpdateShareInput


@strawberry.type
class Mutation:
    @strawberry.mutation(description=(
        "Give a user, group or role capabilities on a folder or document "
                                     "(sharing again updates that share)."))
    async def share(
            self, info: Info,
            input: Annotated[ShareInput, strawberry.argument(
                description="The resource, the subject, the capabilities and the expiry.")],
    ) -> SharePayload:
        subject_type, subject_id = subject_key(input.subject_id)
        row = await sharing_service.share(
            info.context.db, info.context.principal, resource=resource_key(input.resource_id),
            subject_type=subject_type, subject_id=subject_id, capabilities=frozenset(input.capabilities),
            expires_at=input.expires_at)
        return SharePayload(share=row)

    @strawberry.mutation(description="Change a share's capabilities or expiry (narrowing needs MANAGE).")
    async def update_share(
            self, info: Info,
            input: Annotated[UpdateShareInput, strawberry.argument(
                description="The share and its new capabilities and expiry.")],
    ) -> SharePayload:
        row = await sharing_service.update_share(
            info.context.db, info.context.principal, share_id=decode_as(input.share_id, "Share"),
            capabilities=frozenset(input.capabilities), expires_at=sent(input.expires_at))
        return SharePayload(share=row)

    @strawberry.mutation(description="Remove a share; returns it as it was.")
    async def revoke_share(
            self, info: Info,
            input: Annotated[RevokeShareInput, strawberry.argument(description="The share to revoke.")],
    ) -> SharePayload:
        row = await sharing_service.revoke_share(
            info.context.db, info.context.principal, share_id=decode_as(input.share_id, "Share"))
        return SharePayload(share=row)
