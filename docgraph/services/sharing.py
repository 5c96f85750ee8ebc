"""Grants: share, change and revoke access; what is shared with me; explain an access.

Rules (DESIGN "Access control", and the choices it leaves open):
- Sharing needs SHARE on the resource and grants at most what the sharer has (implicit access
  has everything). One row per (resource, subject): sharing again updates that row.
- A row with no capability is a restriction; writing one needs MANAGE.
- Changing or revoking a row someone else granted needs MANAGE; a row you granted yourself
  needs only SHARE (and what it grants must still be within what you have). Sharing again to a
  subject who already has someone else's row changes that row, so it needs MANAGE too.
- Subjects: live members (users), live groups and roles of the organization; anything else,
  or another organization's, is NOT_FOUND. `expiresAt` must lie in the future.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .. import permissions
from ..auth.principal import Principal
from ..db import Database
from ..errors import BadInput, Conflict, Forbidden, NotFound
from ..events import publish
from ..models import Document, Folder, Grant, Group, Role
from ..models.base import utcnow
from ..models.grants import SUBJECT_TYPES
from ..pagination import CountFn, Key, Keyset, Page, PageRequest, counter, read_page
from ..permissions import DOCUMENT, FOLDER, Access, Actor, Capability, Explanation, ResourceKey
from . import audit
from .tenancy import live_in_organization, member_user
from .unchanged import UNCHANGED, Unchanged

_AUDIT_TYPE = "PERMISSION"


# --- rules ----------------------------------------------------------------------------------------

def clean_expiry(expires_at: datetime | None) -> datetime | None:
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    if expires_at <= utcnow():
        raise BadInput("expiresAt must be in the future", field="expiresAt")
    return expires_at


def check_grantable(access: Access, capabilities: frozenset[Capability]) -> None:
    """What a sharer may write: a subset of its own capabilities; a restriction needs MANAGE."""
    if not capabilities and not access.can_manage:
        raise Forbidden("Only holders of MANAGE can write a restriction (a share with no capability)")
    missing = capabilities - access.capabilities
    if missing:
        names = ", ".join(sorted(c.value for c in missing))
        raise Forbidden(f"You can only share what you have yourself; you lack {names}")


def check_may_change(access: Access, grant: Grant, actor: Principal) -> None:
    """Your own grants need SHARE (already required), anyone else's MANAGE."""
    if grant.granted_by != actor.user_id and not access.can_manage:
        raise Forbidden("Changing or revoking a share someone else granted needs MANAGE")


def resource_of(grant: Grant) -> ResourceKey:
    return (FOLDER, grant.folder_id) if grant.folder_id else (DOCUMENT, grant.document_id)


def capabilities_of(grant: Grant) -> list[str]:
    return [c.value for c in permissions.CAPABILITIES if getattr(grant, c.column)]


def _snapshot(grant: Grant) -> dict:
    return {"capabilities": capabilities_of(grant),
            "expiresAt": grant.expires_at.isoformat() if grant.expires_at else None,
            "grantedBy": str(grant.granted_by) if grant.granted_by else None}


def _apply(grant: Grant, capabilities: frozenset[Capability], expires_at: datetime | None,
           actor: Principal) -> None:
    for capability in permissions.CAPABILITIES:
        setattr(grant, capability.column, capability in capabilities)
    grant.expires_at = expires_at
    grant.granted_by = actor.user_id
    grant.granted_at = utcnow()


async def _resource_name(session: AsyncSession, key: ResourceKey) -> str | None:
    model = Folder if key[0] == FOLDER else Document
    row = await session.get(model, key[1])
    return row.name if row else None


async def _check_subject(session: AsyncSession, organization_id: uuid.UUID, subject_type: str,
                         subject_id: uuid.UUID) -> None:
    if subject_type == "USER":
        await member_user(session, organization_id, subject_id)
    elif subject_type == "GROUP":
        await live_in_organization(session, Group, subject_id, organization_id, "Group")
    elif subject_type == "ROLE":
        await live_in_organization(session, Role, subject_id, organization_id, "Role")
    else:
        raise BadInput(f"subjectType must be one of {', '.join(SUBJECT_TYPES)}")


async def _grant_for_update(session: AsyncSession, organization_id: uuid.UUID, grant_id: uuid.UUID) -> Grant:
    grant = await session.get(Grant, grant_id, with_for_update=True)
    if grant is None or grant.organization_id != organization_id:
        raise NotFound("Share not found")
    return grant


def _audit_details(grant: Grant, **extra) -> dict:
    return {"shareId": str(grant.id), "subjectType": grant.subject_type, "subjectId": str(grant.subject_id),
            **_snapshot(grant), **extra}


# --- use cases ------------------------------------------------------------------------------------

@audit.audited("SHARE", _AUDIT_TYPE)
async def share(db: Database, actor: Principal, *, resource: ResourceKey, subject_type: str,
                subject_id: uuid.UUID, capabilities: Iterable[Capability],
                expires_at: datetime | None = None) -> Grant:
    """Give `subject` these capabilities on the resource (or update its existing row)."""
    organization_id = actor.require_organization()
    capabilities = frozenset(capabilities)
    expires_at = clean_expiry(expires_at)
    kind, resource_id = resource
    async with db.transaction() as session:
        access = await permissions.require(session, actor, kind, resource_id, Capability.SHARE)
        await _check_subject(session, organization_id, subject_type, subject_id)
        check_grantable(access, capabilities)
        column = Grant.folder_id if kind == FOLDER else Grant.document_id
        grant = (await session.execute(
            select(Grant).where(column == resource_id, Grant.subject_type == subject_type,
                                Grant.subject_id == subject_id).with_for_update()
        )).scalar_one_or_none()
        before = None
        if grant is not None:
            check_may_change(access, grant, actor)
            before = _snapshot(grant)
        else:
            grant = Grant(organization_id=organization_id, subject_type=subject_type, subject_id=subject_id,
                          folder_id=resource_id if kind == FOLDER else None,
                          document_id=resource_id if kind == DOCUMENT else None)
            session.add(grant)
        _apply(grant, capabilities, expires_at, actor)
        try:
            await session.flush()
        except IntegrityError:  # the same subject was shared concurrently: one row per pair
            raise Conflict("This resource was just shared with the same subject; try again") from None
        name = await _resource_name(session, resource)
        await audit.record_by(session, actor, "SHARE", kind, resource_id=resource_id, resource_name=name,
                              details=_audit_details(grant, before=before))
        if before is None and capabilities:
            await publish.notify_subject(
                session, organization_id, subject_type, subject_id, "SHARED_WITH_YOU", "Shared with you",
                f'A {kind.lower()} was shared with you: "{name}"', kind, resource_id, exclude=[actor.user_id])
    return grant


@audit.audited("PERMISSION_CHANGE", _AUDIT_TYPE)
async def update_share(db: Database, actor: Principal, *, share_id: uuid.UUID, capabilities: Iterable[Capability],
                       expires_at: datetime | Unchanged | None = UNCHANGED) -> Grant:
    """New capabilities (and expiry, when given; null removes it) for an existing share."""
    organization_id = actor.require_organization()
    capabilities = frozenset(capabilities)
    if expires_at is not UNCHANGED:
        expires_at = clean_expiry(expires_at)
    async with db.transaction() as session:
        grant = await _grant_for_update(session, organization_id, share_id)
        resource = resource_of(grant)
        access = await permissions.require(session, actor, *resource, Capability.SHARE)
        check_may_change(access, grant, actor)
        check_grantable(access, capabilities)
        before = _snapshot(grant)
        _apply(grant, capabilities, grant.expires_at if expires_at is UNCHANGED else expires_at, actor)
        await session.flush()
        await audit.record_by(session, actor, "PERMISSION_CHANGE", resource[0], resource_id=resource[1],
                              resource_name=await _resource_name(session, resource),
                              details=_audit_details(grant, before=before))
    return grant


@audit.audited("PERMISSION_CHANGE", _AUDIT_TYPE)
async def revoke_share(db: Database, actor: Principal, *, share_id: uuid.UUID) -> Grant:
    """Delete a share; returns the row as it was."""
    organization_id = actor.require_organization()
    async with db.transaction() as session:
        grant = await _grant_for_update(session, organization_id, share_id)
        resource = resource_of(grant)
        access = await permissions.require(session, actor, *resource, Capability.SHARE)
        check_may_change(access, grant, actor)
        await session.delete(grant)
        await session.flush()
        await audit.record_by(session, actor, "PERMISSION_CHANGE", resource[0], resource_id=resource[1],
                              resource_name=await _resource_name(session, resource),
                              details=_audit_details(grant, revoked=True))
    return grant


# --- reads ----------------------------------------------------------------------------------------

_NEWEST_FIRST = Keyset("granted_at", (Key.time(Grant.granted_at, "granted_at"), Key.id(Grant.id)), descending=True)
# A resource's shares: to users first, then to groups and roles, each by grant time.
_SHARES_ORDER = Keyset("shares", (Key.flag(Grant.subject_type != "USER", "not_user"),
                                  Key.time(Grant.granted_at, "granted_at"), Key.id(Grant.id)))


def _unexpired_grants_on(kind: str, resource: Callable[[Any], Any]) -> Select[Any]:
    """Unexpired grants whose resource (its folder or document column, by `kind`) meets `resource`."""
    column = Grant.folder_id if kind == FOLDER else Grant.document_id
    return select(Grant).where(resource(column), or_(Grant.expires_at.is_(None), Grant.expires_at > func.now()))


async def live_grants_on(db: Database, kind: str, resource_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Grant]]:
    """Unexpired grants of each resource (USER first, then by grant time). The caller decides
    who may see them (SHARE or MANAGE on the resource)."""
    query = (_unexpired_grants_on(kind, lambda column: column.in_(resource_ids))
             .order_by(*_SHARES_ORDER.list_order()))
    async with db.reading() as session:
        rows = (await session.execute(query)).scalars().all()
    found: dict[uuid.UUID, list[Grant]] = {i: [] for i in resource_ids}
    for grant in rows:
        found[grant.folder_id if kind == FOLDER else grant.document_id].append(grant)
    return found


async def grants_page(db: Database, kind: str, resource_id: uuid.UUID,
                      page: PageRequest) -> tuple[Page[Grant], CountFn]:
    """A page of `live_grants_on` one resource, and their count. The caller decides who may see
    them."""
    query = _unexpired_grants_on(kind, lambda column: column == resource_id)
    result = await read_page(db, query, _SHARES_ORDER, page, key_of=lambda row: (
        row.Grant.subject_type != "USER", row.Grant.granted_at, row.Grant.id), row_of=lambda row: row.Grant)
    return result, counter(db, query.with_only_columns(Grant.id).subquery())


async def visible_shares(db: Database, actor: Principal, share_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Grant]:
    """The shares (by id) the actor may see: those on a resource it may SHARE or MANAGE, and
    those whose subject it is (itself, one of its groups or roles) on a resource it may view."""
    who = Actor.of(actor)
    async with db.reading() as session:
        grants = (await session.execute(
            select(Grant).where(Grant.id.in_(share_ids), Grant.organization_id == who.organization_id)
        )).scalars().all()
        if not grants:
            return {}
        access = await permissions.evaluate(session, who, {resource_of(g) for g in grants})
        subjects = permissions.subjects_of(who).subquery()
        mine = set((await session.execute(
            select(Grant.id).where(Grant.id.in_([g.id for g in grants]),
                                   tuple_(Grant.subject_type, Grant.subject_id).in_(select(subjects)))
        )).scalars())
    result = {}
    for grant in grants:
        seen = access[resource_of(grant)]
        if seen.visible and (seen.can_share or seen.can_manage or grant.id in mine):
            result[grant.id] = grant
    return result


async def shared_with_me(db: Database, actor: Principal, page: PageRequest) -> tuple[Page[Grant], CountFn]:
    """Resources shared with the actor: live (unexpired) USER grants for it and GROUP grants
    for its groups, that carry a capability, were granted by someone else, and whose resource
    is live and viewable by the actor now. One entry per resource (its USER grant when there
    is one, else the latest group grant), newest first."""
    who = Actor.of(actor)
    g = Grant.__table__
    offered = (
        permissions.live_grants_for(who, include_roles=False)
        .where(or_(*(g.c[c.column] for c in permissions.CAPABILITIES)), g.c.granted_by.is_distinct_from(who.user_id))
        .subquery("offered")
    )
    visible = permissions.visible_resource_ids(
        who,
        folder_where=(Folder.id.in_(select(offered.c.folder_id)),),
        document_where=(Document.id.in_(select(offered.c.document_id)),),
    ).subquery("visible")
    resource_id = func.coalesce(offered.c.folder_id, offered.c.document_id)
    one_per_resource = (
        select(offered.c.id)
        .ext(distinct_on(resource_id))
        .join(visible, visible.c.id == resource_id)
        .order_by(resource_id, offered.c.subject_type != "USER", offered.c.granted_at.desc(), offered.c.id)
    ).subquery("entries")
    query = select(Grant).join(one_per_resource, one_per_resource.c.id == Grant.id)
    result = await read_page(db, query, _NEWEST_FIRST, page, key_of=lambda row: (row.Grant.granted_at, row.Grant.id),
                             row_of=lambda row: row.Grant)
    return result, counter(db, one_per_resource)


async def explain_access(db: Database, actor: Principal, resource: ResourceKey,
                         user_id: uuid.UUID | None = None) -> Explanation:
    """Why `user_id` (default: the actor) may or may not do each thing to the resource. The
    actor must see the resource; asking about someone else needs organization ADMIN (or
    super admin), and that someone must be a member."""
    who = Actor.of(actor)
    target = user_id or actor.user_id
    async with db.reading() as session:
        seen = await permissions.evaluate(session, who, [resource])
        permissions.check(seen[resource], Capability.VIEW)
        if target != actor.user_id:
            if not (actor.is_org_admin or actor.is_super_admin):
                raise Forbidden("Only admins can ask about someone else's access")
            await member_user(session, who.organization_id, target)
        return await permissions.explain(session, Actor(target, who.organization_id), *resource)
