"""Notifications: the recipient's inbox (list, count, mark read) and what live subscriptions
need at delivery time (who the subscriber is now, and whether it may see what happened).

Writing notifications is `docgraph.events.publish.notify_users`, called by the services whose
changes cause them, inside their transaction.

A subscriber sees an event only if, at delivery time, its token is still valid, its session
and membership are live, and the access evaluation lets it VIEW what the event is about:
- notificationAdded: its own notifications, of the token's organization;
- folderEvents(F): it may VIEW F (otherwise the subscription ends with NOT_FOUND); ADDED and
  UPDATED children are delivered when it may VIEW the child now; a REMOVED child when it may
  VIEW it now, or, if the child is now deleted or moved out of its sight, when it could have
  viewed it had the child stayed live in F (evaluated as if it were still there). So a child
  the subscriber never could see is never revealed by its removal, and one it could see does
  not linger in its listing.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiodataloader import DataLoader
from sqlalchemy import String, false, func, literal, literal_column, select, update
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from .. import permissions
from ..auth.principal import ClientInfo, Principal, load_principal, load_principals
from ..auth.tokens import AccessClaims, TokenSigner
from ..db import Database
from ..errors import BadInput, NotFound, Unauthenticated
from ..events.publish import FolderChanged, NotificationAdded
from ..models import Document, Folder, Notification
from ..models.base import utcnow
from ..pagination import CountFn, Key, Keyset, Page, PageRequest, counter, read_page
from ..permissions import DOCUMENT, FOLDER, Actor
from ..permissions.evaluation import to_access
from . import audit

MAX_IDS = 100
# How many missed notifications a subscription replays after the listener reconnected.
MAX_REPLAY = 100


def _mine(actor: Principal) -> list:
    """The recipient's own notifications, in the token's organization."""
    conditions = [Notification.recipient_id == actor.user_id]
    if actor.organization_id is not None:
        conditions.append(Notification.organization_id == actor.organization_id)
    return conditions


# --- the inbox ----------------------------------------------------------------------------------

_NEWEST_FIRST = Keyset("created_at", (Key.time(Notification.created_at, "created_at"), Key.id(Notification.id)),
                       descending=True)


async def list_notifications(db: Database, actor: Principal, *, unread_only: bool,
                             page: PageRequest) -> tuple[Page[Notification], CountFn]:
    """The recipient's notifications, newest first (keyset on created_at, id)."""
    conditions = _mine(actor)
    if unread_only:
        conditions.append(Notification.read_at.is_(None))
    query = select(Notification).where(*conditions)
    result = await read_page(db, query, _NEWEST_FIRST, page, key_of=lambda row: (row.Notification.created_at,
                                                                                row.Notification.id),
                             row_of=lambda row: row.Notification)
    return result, counter(db, query.with_only_columns(Notification.id).subquery())


async def _unread(session: AsyncSession, actor: Principal) -> int:
    query = select(func.count()).select_from(Notification).where(*_mine(actor), Notification.read_at.is_(None))
    return (await session.execute(query)).scalar_one()


async def unread_count(db: Database, actor: Principal) -> int:
    async with db.reading() as session:
        return await _unread(session, actor)


async def notifications_by_ids(db: Database, actor: Principal,
                               ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Notification]:
    """The recipient's own notifications among `ids` (others' are simply absent)."""
    async with db.reading() as session:
        return {row.id: row for row in await _own(session, actor, ids)}


@audit.audited("UPDATE", "USER")
async def mark_read(db: Database, actor: Principal, *, ids: Sequence[uuid.UUID] | None = None,
                    all: bool = False) -> int:
    """Mark the given notifications (or all of them) read; returns the unread count after.

    Only the recipient's own: any other id is NOT_FOUND and nothing is marked."""
    if all and ids:
        raise BadInput("Give either ids or all: true, not both", field="ids")
    if not all and ids is None:
        raise BadInput("Give the ids to mark read, or all: true", field="ids")
    ids = list(dict.fromkeys(ids or ()))
    if len(ids) > MAX_IDS:
        raise BadInput(f"At most {MAX_IDS} ids at a time; use all: true for everything", field="ids")
    async with db.transaction() as session:
        target = [*_mine(actor), Notification.read_at.is_(None)]
        if not all:
            found = set((await session.execute(
                select(Notification.id).where(*_mine(actor), Notification.id.in_(ids)))).scalars())
            if any(i not in found for i in ids):
                raise NotFound("Notification not found")
            target.append(Notification.id.in_(ids))
        marked = (await session.execute(update(Notification).where(*target).values(read_at=utcnow()))).rowcount
        if marked:
            await audit.record_by(session, actor, "UPDATE", "USER", resource_id=actor.user_id,
                                  details={"operation": "markNotificationsRead", "marked": marked, "all": all})
        return await _unread(session, actor)


# --- live delivery ------------------------------------------------------------------------------
# Each delivery re-checks the subscriber and loads what the event is about in ONE short session
# (notificationAdded deliveries: one per batch).

@dataclass(frozen=True)
class Subscriber:
    """What a websocket connection presented: its Authorization and where it comes from."""

    authorization: object
    client: ClientInfo


def _claims(signer: TokenSigner, subscriber: Subscriber) -> AccessClaims:
    """The subscriber's token, verified now: UNAUTHENTICATED once it expired."""
    header = subscriber.authorization
    scheme, _, token = header.partition(" ") if isinstance(header, str) else ("", "", "")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization must be 'Bearer <access token>'")
    return signer.verify(token.strip())


async def _recheck(session: AsyncSession, signer: TokenSigner, subscriber: Subscriber) -> Principal:
    """The subscriber as it is NOW: UNAUTHENTICATED once the token expired or the user,
    membership or session is no longer live."""
    return await load_principal(session, _claims(signer, subscriber), subscriber.client)


async def _own(session: AsyncSession, actor: Principal, ids: Sequence[uuid.UUID]) -> list[Notification]:
    return list((await session.execute(select(Notification).where(*_mine(actor), Notification.id.in_(ids)))).scalars())


def _is_mine(row: Notification, actor: Principal) -> bool:
    """`_mine` for a row in hand."""
    return row.recipient_id == actor.user_id and actor.organization_id in (None, row.organization_id)


# A burst of notifications reaches many subscribers at once. The deliveries pending at the same
# tick of the event loop are checked together (aiodataloader batches them): one statement for
# all their subscribers and one for all their rows, instead of two per delivery.
class _Deliveries(DataLoader):
    def __init__(self, db: Database, signer: TokenSigner) -> None:
        self.db, self.signer = weakref.ref(db), signer  # a weak key's value must not hold it
        super().__init__(cache=False, max_batch_size=500)

    async def batch_load_fn(self, deliveries):
        return await _deliver_batch(self.db(), self.signer, deliveries)


_deliveries: weakref.WeakKeyDictionary[Database, _Deliveries] = weakref.WeakKeyDictionary()


async def deliver_notification(db: Database, signer: TokenSigner, subscriber: Subscriber,
                               event: NotificationAdded) -> tuple[Principal, Notification | None]:
    """The subscriber now, and the notification the event announces if it is the subscriber's
    own (in the token's organization). UNAUTHENTICATED once its token or session is not valid."""
    loader = _deliveries.get(db)
    if loader is None or loader.loop is not asyncio.get_running_loop() or loader.signer is not signer:
        loader = _deliveries[db] = _Deliveries(db, signer)
    return await loader.load((subscriber, event))


async def _deliver_batch(db: Database, signer: TokenSigner,
                         deliveries: Sequence[tuple[Subscriber, NotificationAdded]]) -> list:
    answers: list = [None] * len(deliveries)
    claims: dict[int, AccessClaims] = {}
    for n, (subscriber, _) in enumerate(deliveries):
        try:
            claims[n] = _claims(signer, subscriber)
        except Unauthenticated as error:
            answers[n] = error
    wanted: dict[int, Principal] = {}
    async with db.reading() as session:
        principals = await load_principals(session, list(claims.values()),
                                           [deliveries[n][0].client for n in claims])
        for n, actor in zip(claims, principals, strict=False):
            event = deliveries[n][1]
            if actor is None:
                answers[n] = Unauthenticated("The session is no longer valid")
            elif actor.organization_id is not None and event.organization_id != actor.organization_id:
                answers[n] = (actor, None)
            else:
                wanted[n] = actor
        ids = list({deliveries[n][1].notification_id for n in wanted})
        rows = {row.id: row for row in (await session.execute(
            select(Notification).where(Notification.id.in_(ids)))).scalars()} if ids else {}
    for n, actor in wanted.items():
        row = rows.get(deliveries[n][1].notification_id)
        answers[n] = (actor, row if row is not None and _is_mine(row, actor) else None)
    return answers


# Created-at is stamped by the writing process, committed a little later: replay reaches back.
REPLAY_SLACK = timedelta(seconds=5)


async def replay_notifications(db: Database, signer: TokenSigner, subscriber: Subscriber, *, since: datetime,
                               delivered: set[uuid.UUID]) -> tuple[Principal, list[Notification]]:
    """The subscriber's notifications created since `since` and not yet delivered, oldest
    first: what a subscription replays after the listener lost its connection for a while."""
    async with db.reading() as session:
        actor = await _recheck(session, signer, subscriber)
        rows = (await session.execute(
            select(Notification).where(*_mine(actor), Notification.created_at >= since)
            .order_by(Notification.created_at, Notification.id).limit(MAX_REPLAY + len(delivered))
        )).scalars().all()
    return actor, [row for row in rows if row.id not in delivered][:MAX_REPLAY]


async def watch_folder(db: Database, actor: Principal, folder_id: uuid.UUID) -> Folder:
    """The folder a folderEvents subscription watches: NOT_FOUND unless live and viewable."""
    async with db.reading() as session:
        await permissions.require(session, actor, FOLDER, folder_id, permissions.Capability.VIEW)
        return await session.get(Folder, folder_id)


async def deliver_folder_event(db: Database, signer: TokenSigner, subscriber: Subscriber, folder_id: uuid.UUID,
                               event: FolderChanged) -> tuple[Principal, Folder | Document | None]:
    """The subscriber now, and the child the event is about if the subscriber may see it (rules
    in the module doc); NOT_FOUND when it may no longer VIEW the watched folder."""
    async with db.reading() as session:
        actor = await _recheck(session, signer, subscriber)
        if event.organization_id != actor.organization_id or event.folder_id != folder_id:
            return actor, None
        node_key = (event.node_kind, event.node_id)
        found = await permissions.evaluate(session, Actor.of(actor), [(FOLDER, folder_id), node_key])
        if not found[(FOLDER, folder_id)].visible:
            raise NotFound("Folder not found")
        access = found[node_key]
        if not access.found:
            return actor, None
        node = await session.get(Folder if event.node_kind == FOLDER else Document, event.node_id)
        if access.visible:
            return actor, node
        if event.kind != "REMOVED":
            return actor, None
        folder = await session.get(Folder, folder_id)
        return actor, node if await _could_view_in(session, Actor.of(actor), folder, node) else None


_UUID = UUID(as_uuid=True)


async def _could_view_in(session: AsyncSession, actor: Actor, folder: Folder, node: Folder | Document) -> bool:
    """Whether the actor could VIEW `node` were it a live direct child of `folder`: the one
    evaluation, run on a candidate placed there."""
    kind = FOLDER if isinstance(node, Folder) else DOCUMENT
    path = [*folder.path, node.id] if kind == FOLDER else list(folder.path)
    candidate = select(
        literal_column(f"'{kind}'").label("kind"), literal(node.id, _UUID).label("id"),
        literal(node.id if kind == FOLDER else folder.id, _UUID).label("holder_id"),
        literal(path, ARRAY(_UUID)).label("path"),
        # The drive's columns: the folder's (a child is in its parent's drive).
        literal(folder.department_id, _UUID).label("department_id"),
        literal(folder.owner_type, String).label("owner_type"), literal(folder.owner_id, _UUID).label("owner_id"),
        literal(node.created_by, _UUID).label("created_by"),
        false().label("hidden"),
    )
    row = (await session.execute(permissions.access_select(actor, candidate))).first()
    return row is not None and to_access(row).can_view
