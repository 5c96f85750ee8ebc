"""approve, reject and cancelApproval: they take the same input and answer the same payload."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

import strawberry

from ... import models
from ...globalid import decode_as
from ...services import approvals as approval_service
from ..context import Info
from .types import ApprovalPayload, ReviewInput


async def _decide(info: Info, input: ReviewInput,
                  decision: Callable[..., Awaitable[models.Approval]]) -> ApprovalPayload:
    row = await decision(info.context.db, info.context.principal,
                         approval_id=decode_as(input.approval_id, "Approval"), comment=input.comment)
    return ApprovalPayload(approval=row)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Apply the requested change (reviewers of the resource, not the requester).")
    async def approve(
            self, info: Info,
            input: Annotated[ReviewInput, strawberry.argument(description="The pending approval and a comment.")],
    ) -> ApprovalPayload:
        return await _decide(info, input, approval_service.approve)

    @strawberry.mutation(description="Refuse the requested change (reviewers of the resource, not the requester).")
    async def reject(
            self, info: Info,
            input: Annotated[ReviewInput, strawberry.argument(description="The pending approval and a comment.")],
    ) -> ApprovalPayload:
        return await _decide(info, input, approval_service.reject)

    @strawberry.mutation(description="Withdraw your own pending request.")
    async def cancel_approval(
            self, info: Info,
            input: Annotated[ReviewInput, strawberry.argument(description="Your pending approval and a comment.")],
    ) -> ApprovalPayload:
        return await _decide(info, input, approval_service.cancel)
