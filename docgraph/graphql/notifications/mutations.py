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
        given = input.ids if input.ids is not strawberry.UNSET else None  # @oneOf: ids or all, never null
        ids = None if given is None else [decode_as(i, "Notification") for i in given]
        unread = await notification_service.mark_read(info.context.db, info.context.principal, ids=ids,
                                                      all=input.all is True)
        return MarkNotificationsReadPayload(unread_count=unread)
