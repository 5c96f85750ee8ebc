"""markNotificationsRead."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ...globalid import decode_as
from ...services import notifications as notification_service
from ..context import Info
from .types import MarkNotificationsReadInput, MarkNotificationsReadPayload


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Mark some (ids) or all of the viewer's notifications read.")
    async def mark_notifications_read(
            self, info: Info,
            input: Annotated[MarkNotificationsReadInput, strawberry.argument(
                description="Which notifications: some ids, or all.")],
    ) -> MarkNotificationsReadPayload:
        ids = None if input.ids is None else [decode_as(i, "Notification") for i in input.ids]
        unread = await notification_service.mark_read(info.context.db, info.context.principal, ids=ids,
                                                      all=bool(input.all))
        return MarkNotificationsReadPayload(unread_count=unread)
