"""The viewer's inbox: notifications and unreadNotificationCount."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ... import models
from ...services import notifications as notification_service
from ..context import Info
from ..pagination import After, Before, Connection, First, Last, page_request, to_connection
from .types import Notification


@strawberry.type
class Query:
    @strawberry.field(graphql_type=Connection[Notification], description="The viewer's notifications, newest first.")
    async def notifications(self, info: Info, unread_only: Annotated[bool | None, strawberry.argument(
            description="True: only notifications not marked read.")] = None,
                            first: First = None, after: After = None, last: Last = None,
                            before: Before = None) -> Connection[models.Notification]:
        page = page_request(first, after, last, before)
        rows, count = await notification_service.list_notifications(
            info.context.db, info.context.principal, unread_only=bool(unread_only), page=page)
        return to_connection(rows, count)

    @strawberry.field(description="How many of the viewer's notifications are unread (for a badge).")
    async def unread_notification_count(self, info: Info) -> int:
        return await notification_service.unread_count(info.context.db, info.context.principal)
