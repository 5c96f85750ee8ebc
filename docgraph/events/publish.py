"""What services call inside their transaction to announce a change: notifications, folder
events and outbox jobs.

Every helper writes its rows in the CALLER's session and calls `pg_notify` in that same
transaction, so PostgreSQL delivers the announcement to every process's LISTEN connection when
(and only when) the transaction commits; a rollback announces nothing. Helpers never commit.

Payloads carry ids only (subscribers load the rows themselves, with the subscriber's own access
check), and stay well under PostgreSQL's 8000-byte NOTIFY limit: notifications for many
recipients are split over several payloads.

Wire format (JSON, uuids as 32 hex digits):
    {"t": "n", "o": org, "r": [[recipient, notification], ...]}      notifications
    {"t": "f", "o": org, "f": folder, "k": kind, "nk": node kind, "n": node}   folder events
The jobs channel carries the job kind only: it just wakes workers.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Group, GroupMember, MemberRole, Membership, Notification, OutboxJob, Role
from ..models.workflow import NotificationType

log = logging.getLogger("docgraph.events")

EVENTS_CHANNEL = "docgraph_events"
JOBS_CHANNEL = "docgraph_jobs"

# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; leave room for the envelope.
MAX_PAYLOAD_BYTES = 7000



class FolderEventKind(StrEnum):
    """What happened to a direct child of a watched folder."""

    ADDED = "ADDED"
    UPDATED = "UPDATED"
    REMOVED = "REMOVED"


FOLDER_EVENT_KINDS: tuple[FolderEventKind, ...] = tuple(FolderEventKind)
NODE_KINDS = ("FOLDER", "DOCUMENT")
NOTIFICATION_TYPES: tuple[NotificationType, ...] = tuple(NotificationType)
NOTIFICATION_RESOURCE_TYPES = ("FOLDER", "DOCUMENT", "APPROVAL")


# --- the events subscribers receive ---------------------------------------------------------------

def user_topic(user_id: uuid.UUID) -> str:
    return f"user:{user_id.hex}"


def folder_topic(folder_id: uuid.UUID) -> str:
    return f"folder:{folder_id.hex}"


@dataclass(frozen=True)
class NotificationAdded:
    organization_id: uuid.UUID
    recipient_id: uuid.UUID
    notification_id: uuid.UUID

    @property
    def topic(self) -> str:
        return user_topic(self.recipient_id)


@dataclass(frozen=True)
class FolderChanged:
    """A direct child (`node_kind`, `node_id`) of `folder_id` was ADDED, UPDATED or REMOVED."""

    organization_id: uuid.UUID
    folder_id: uuid.UUID
    kind: str
    node_kind: str
    node_id: uuid.UUID

    @property
    def topic(self) -> str:
        return folder_topic(self.folder_id)


Event = NotificationAdded | FolderChanged


def decode(payload: str) -> list[Event]:
    """The events in one NOTIFY payload of the events channel; [] (logged) when malformed."""
    try:
        message = json.loads(payload)
        organization_id = uuid.UUID(message["o"])
        if message["t"] == "n":
            return [NotificationAdded(organization_id, uuid.UUID(recipient), uuid.UUID(notification))
                    for recipient, notification in message["r"]]
        if message["t"] == "f" and message["k"] in FOLDER_EVENT_KINDS and message["nk"] in NODE_KINDS:
            return [FolderChanged(organization_id, uuid.UUID(message["f"]), message["k"], message["nk"],
                                  uuid.UUID(message["n"]))]
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring a malformed event payload (%s): %.200s", exc, payload)
        return []
    log.warning("ignoring an event of unknown type: %.200s", payload)
    return []


def _dumps(message: dict) -> str:
    return json.dumps(message, separators=(",", ":"))


def _notification_payloads(organization_id: uuid.UUID, pairs: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> list[str]:
    """As few payloads as fit under the size limit (about 100 recipients each)."""
    payloads: list[str] = []
    batch: list[list[str]] = []
    envelope = len(_dumps({"t": "n", "o": organization_id.hex, "r": []}))
    size = envelope
    for recipient, notification in pairs:
        item = [recipient.hex, notification.hex]
        item_size = len(_dumps(item)) + 1
        if batch and size + item_size > MAX_PAYLOAD_BYTES:
            payloads.append(_dumps({"t": "n", "o": organization_id.hex, "r": batch}))
            batch, size = [], envelope
        batch.append(item)
        size += item_size
    if batch:
        payloads.append(_dumps({"t": "n", "o": organization_id.hex, "r": batch}))
    return payloads


_NOTIFY_MANY = text("SELECT pg_notify(:channel, payload) FROM unnest(CAST(:payloads AS text[])) AS payload")


async def _notify(session: AsyncSession, channel: str, payloads: list[str]) -> None:
    """Queue NOTIFYs in the session's transaction (one round trip); sent by PostgreSQL on commit."""
    if payloads:
        await session.execute(_NOTIFY_MANY, {"channel": channel, "payloads": payloads})


# --- notifications ------------------------------------------------------------------------------

async def notify_users(
    session: AsyncSession,
    organization_id: uuid.UUID,
    recipients: Iterable[uuid.UUID],
    type: str,
    title: str,
    message: str,
    resource_type: str | None = None,
    resource_id: uuid.UUID | None = None,
) -> list[Notification]:
    """One `notification` row per distinct recipient, announced to live subscribers on commit.

    `type` is a NotificationType value; `resource_type` FOLDER, DOCUMENT or APPROVAL (the
    notification's `resource`, shown only to recipients who may see it)."""
    if type not in NOTIFICATION_TYPES:
        raise ValueError(f"unknown notification type {type!r}")
    if (resource_type is None) != (resource_id is None):
        raise ValueError("resource_type and resource_id go together")
    if resource_type is not None and resource_type not in NOTIFICATION_RESOURCE_TYPES:
        raise ValueError(f"unknown notification resource type {resource_type!r}")
    recipients = list(dict.fromkeys(recipients))
    if not recipients:
        return []
    rows = [
        Notification(organization_id=organization_id, recipient_id=recipient, type=type, title=title[:255],
                     message=message[:2000], resource_type=resource_type, resource_id=resource_id)
        for recipient in recipients
    ]
    session.add_all(rows)
    await session.flush()
    await _notify(session, EVENTS_CHANNEL,
                  _notification_payloads(organization_id, [(row.recipient_id, row.id) for row in rows]))
    return rows


async def recipients_of(session: AsyncSession, organization_id: uuid.UUID, subject_type: str,
                        subject_id: uuid.UUID) -> list[uuid.UUID]:
    """The live members of the organization a share subject stands for: the user itself, a
    group's members, or a role's holders (custom roles by assignment, system roles by
    membership)."""
    live_member = and_(Membership.organization_id == organization_id, Membership.left_at.is_(None))
    if subject_type == "USER":
        query = select(Membership.user_id).where(live_member, Membership.user_id == subject_id)
    elif subject_type == "GROUP":
        query = (
            select(GroupMember.user_id)
            .join(Group, Group.id == GroupMember.group_id)
            .join(Membership, and_(Membership.user_id == GroupMember.user_id, live_member))
            .where(GroupMember.group_id == subject_id, Group.organization_id == organization_id,
                   Group.deleted_at.is_(None))
        )
    elif subject_type == "ROLE":
        role = await session.get(Role, subject_id)
        if role is None or role.organization_id != organization_id or role.deleted_at is not None:
            return []
        if role.is_system:
            query = select(Membership.user_id).where(live_member, Membership.system_role == role.system_key)
        else:
            query = (
                select(MemberRole.user_id)
                .join(Membership, and_(Membership.user_id == MemberRole.user_id, live_member))
                .where(MemberRole.role_id == subject_id)
            )
    else:
        raise ValueError(f"unknown subject type {subject_type!r}")
    return list((await session.execute(query)).scalars().all())


async def notify_subject(
    session: AsyncSession,
    organization_id: uuid.UUID,
    subject_type: str,
    subject_id: uuid.UUID,
    type: str,
    title: str,
    message: str,
    resource_type: str | None = None,
    resource_id: uuid.UUID | None = None,
    *,
    exclude: Iterable[uuid.UUID] = (),
) -> list[Notification]:
    """`notify_users` for every member behind a USER, GROUP or ROLE subject, minus `exclude`
    (typically the acting user)."""
    excluded = set(exclude)
    recipients = [user for user in await recipients_of(session, organization_id, subject_type, subject_id)
                  if user not in excluded]
    return await notify_users(session, organization_id, recipients, type, title, message,
                              resource_type, resource_id)


# --- folder events ------------------------------------------------------------------------------

async def folder_event(
    session: AsyncSession,
    organization_id: uuid.UUID,
    folder_id: uuid.UUID | None,
    kind: str,
    node_kind: str,
    node_id: uuid.UUID,
) -> None:
    """Announce that a direct child of `folder_id` was ADDED, UPDATED or REMOVED (delivered to
    `folderEvents(folderId)` subscribers on commit). A None folder (a drive root has no parent)
    announces nothing."""
    if kind not in FOLDER_EVENT_KINDS:
        raise ValueError(f"unknown folder event kind {kind!r}")
    if node_kind not in NODE_KINDS:
        raise ValueError(f"unknown node kind {node_kind!r}")
    if folder_id is None:
        return
    await _notify(session, EVENTS_CHANNEL, [_dumps({
        "t": "f", "o": organization_id.hex, "f": folder_id.hex, "k": kind, "nk": node_kind, "n": node_id.hex,
    })])


async def node_moved(session: AsyncSession, organization_id: uuid.UUID, from_folder_id: uuid.UUID,
                     to_folder_id: uuid.UUID, node_kind: str, node_id: uuid.UUID) -> None:
    """A move is REMOVED from the old parent and ADDED to the new one."""
    if from_folder_id == to_folder_id:
        return
    await folder_event(session, organization_id, from_folder_id, "REMOVED", node_kind, node_id)
    await folder_event(session, organization_id, to_folder_id, "ADDED", node_kind, node_id)


# --- outbox jobs --------------------------------------------------------------------------------

async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    run_after: datetime | None = None,
    dedupe_key: str | None = None,
    *,
    organization_id: uuid.UUID | None = None,
) -> int | None:
    """Record a background job in the caller's transaction and wake the workers on commit.

    Returns the job id, or None when a job with the same `dedupe_key` exists already (the
    producer's "at most once"). A job due later is found by the workers' polling."""
    values: dict[str, Any] = {"kind": kind, "payload": payload, "dedupe_key": dedupe_key,
                              "organization_id": organization_id}
    if run_after is not None:
        values["run_after"] = run_after
    statement = (
        insert(OutboxJob).values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxJob.id)
    )
    job_id = (await session.execute(statement)).scalar_one_or_none()
    if job_id is not None and run_after is None:
        await _notify(session, JOBS_CHANNEL, [kind])
    return job_id
