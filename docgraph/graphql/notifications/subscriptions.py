"""Live subscriptions: notificationAdded and folderEvents.

They run over graphql-transport-ws; the token arrives in `connection_init` (checked by the
view's on_ws_connect). Every event is re-checked at delivery: the token is verified again (an
expired one ends the subscription with UNAUTHENTICATED), the principal is reloaded (a removed
member or revoked session ends it too) and access is evaluated for what the event is about
(see services/notifications.py). Checks live in the resolvers, not in extensions: errors
raised by an extension during a subscription are only logged.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from ... import models
from ...auth.principal import Principal
from ...errors import DocgraphError
from ...events.broker import RESYNC, Broker
from ...events.publish import folder_topic, user_topic
from ...globalid import decode_as
from ...models.base import utcnow
from ...services import notifications as notification_service
from ..context import Context, Info
from ..enums import FolderEventKind
from .types import FolderEvent, Notification

# Ids remembered per subscription to avoid replaying what was delivered live.
REMEMBERED_IDS = 1000


def _broker(context: Context) -> Broker:
    broker = context.services.broker
    if broker is None:
        raise DocgraphError("Live events are not running in this server process")
    return broker


def _subscriber(context: Context) -> notification_service.Subscriber:
    params = context.connection_params or {}
    return notification_service.Subscriber(params.get("Authorization") or params.get("authorization"),
                                           context.client)


def _now_as(context: Context, principal: Principal) -> None:
    """Resolve the event's fields as the subscriber is now, with fresh loaders."""
    context.principal_or_none = principal
    context.reset_loaders()


@strawberry.type
class Subscription:
    @strawberry.subscription(graphql_type=Notification,
                             description="Notifications for the signed-in user, as they are committed.")
    async def notification_added(self, info: Info) -> AsyncGenerator[models.Notification, None]:
        context = info.context
        principal = context.principal
        db, signer, subscriber = context.db, context.services.signer, _subscriber(context)
        since = utcnow() - notification_service.REPLAY_SLACK
        delivered: dict[uuid.UUID, None] = {}  # insertion-ordered, trimmed to REMEMBERED_IDS
        async with _broker(context).subscribe(user_topic(principal.user_id)) as events:
            async for event in events:
                if event is RESYNC:
                    principal, rows = await notification_service.replay_notifications(
                        db, signer, subscriber, since=since, delivered=set(delivered))
                else:
                    principal, row = await notification_service.deliver_notification(db, signer, subscriber, event)
                    rows = [row] if row is not None else []
                for row in rows:
                    delivered[row.id] = None
                    if len(delivered) > REMEMBERED_IDS:
                        del delivered[next(iter(delivered))]
                    _now_as(context, principal)
                    yield row

    @strawberry.subscription(description="Changes to the direct children of a folder the viewer may view.")
    async def folder_events(self, info: Info, folder_id: Annotated[strawberry.ID, strawberry.argument(
            description="The folder to watch (a Folder ID).")]) -> AsyncGenerator[FolderEvent, None]:
        context = info.context
        principal = context.principal
        db, signer, subscriber = context.db, context.services.signer, _subscriber(context)
        folder = decode_as(folder_id, "Folder")
        # Listen first, then check: nothing committed in between is missed.
        async with _broker(context).subscribe(folder_topic(folder)) as events:
            await notification_service.watch_folder(db, principal, folder)
            async for event in events:
                if event is RESYNC:
                    continue  # folder events are not kept: nothing to replay
                principal, row = await notification_service.deliver_folder_event(
                    db, signer, subscriber, folder, event)
                if row is not None:
                    _now_as(context, principal)
                    yield FolderEvent(kind=FolderEventKind(event.kind), node=row)
