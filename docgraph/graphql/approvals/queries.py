"""approvals: the requests the viewer may review, or made."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ... import models
from ...services import approvals as approval_service
from ..context import Info
from ..enums import ApprovalStatus
from ..pagination import After, Before, Connection, First, Last, page_request, to_connection
from .types import Approval


@strawberry.type
class Query:
    @strawberry.field(graphql_type=Connection[Approval], description="Approvals the viewer may review, or requested.")
    async def approvals(self, info: Info, status: Annotated[ApprovalStatus | None, strawberry.argument(
            description="Only approvals in this status; omit for all.")] = None,
                        first: First = None, after: After = None, last: Last = None,
                        before: Before = None) -> Connection[models.Approval]:
        page, count = await approval_service.list_approvals(
            info.context.db, info.context.principal, page_request(first, after, last, before),
            status=status.value if status is not None else None)
        return to_connection(page, count)
