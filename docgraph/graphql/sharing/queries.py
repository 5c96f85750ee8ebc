"""sharedWithMe and explainAccess."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ... import models, permissions
from ...globalid import decode_as
from ...services import sharing as sharing_service
from ..context import Info
from ..pagination import After, Before, Connection, First, Last, page_request, to_connection
from .resources import resource_key
from .types import AccessExplanation, Share


@strawberry.type
class Query:
    @strawberry.field(graphql_type=Connection[Share],
                      description="Folders and documents shared with the viewer or its groups, newest first.")
    async def shared_with_me(self, info: Info, first: First = None, after: After = None, last: Last = None,
                             before: Before = None) -> Connection[models.Grant]:
        request = page_request(first, after, last, before)
        page, count = await sharing_service.shared_with_me(info.context.db, info.context.principal, request)
        return to_connection(page, count)

    @strawberry.field(graphql_type=AccessExplanation, description=(
        "Why a user (default: the viewer) may or may not do each thing to a folder or document. "
        "Admins may ask about any member; others only about themselves."))
    async def explain_access(
            self, info: Info,
            resource_id: Annotated[strawberry.ID, strawberry.argument(description="A folder or document ID.")],
            user_id: Annotated[strawberry.ID | None, strawberry.argument(
                description="The member to explain for (a User ID); omit for the viewer.")] = None,
    ) -> permissions.Explanation:
        return await sharing_service.explain_access(
            info.context.db, info.context.principal, resource_key(resource_id),
            decode_as(user_id, "User") if user_id is not None else None)
