"""Members of an organization: creating users, adding, re-roling and removing members, listing."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.passwords import hash_password
from ..auth.principal import Principal
from ..db import Database
from ..errors import Conflict, NotFound
from ..models import DepartmentAdmin, GroupMember, MemberRole, Membership, User
from ..models.base import utcnow
from ..pagination import CountFn, Page, PageRequest
from . import audit
from .tenancy import (
    OrgUser,
    clean_email,
    clean_name,
    clean_system_role,
    flush_unique,
    join_organization,
    live_membership,
    member_user,
    require_current_organization,
    require_org_admin,
    user_by_email,
    users_page,
)


@audit.audited("CREATE", "USER")
async def create_user(db: Database, actor: Principal, *, email: str, password: str, first_name: str,
                      last_name: str, system_role: str, bcrypt_rounds: int) -> User:
    """A new user account and its membership (with My Drive) in the caller's organization."""
    organization_id = require_org_admin(actor)
    email = clean_email(email)
    first_name = clean_name(first_name, field="firstName", max_length=100)
    last_name = clean_name(last_name, field="lastName", max_length=100)
    system_role = clean_system_role(system_role)
    password_hash = await hash_password(password, bcrypt_rounds)  # before the transaction: slow

    async with db.transaction() as session:
        user = User(email=email, password_hash=password_hash, first_name=first_name, last_name=last_name)
        session.add(user)
        await flush_unique(session, {
            "uq_users_email": "A user with this email already exists; add them with addMember",
        })
        await join_organization(session, user, organization_id, system_role)
        await audit.record_by(session, actor, "CREATE", "USER", resource_id=user.id, resource_name=email,
                              details={"systemRole": system_role})
    return user


@audit.audited("UPDATE", "USER")
async def add_member(db: Database, actor: Principal, *, email: str, system_role: str) -> User:
    """An existing user (found by email) joins the caller's organization."""
    organization_id = require_org_admin(actor)
    system_role = clean_system_role(system_role)
    async with db.transaction() as session:
        user = await user_by_email(session, email)
        if user is None or user.deleted_at is not None or not user.is_active:
            raise NotFound("No active user with this email")
        if await live_membership(session, organization_id, user.id) is not None:
            raise Conflict("This user is already a member of the organization")
        await join_organization(session, user, organization_id, system_role)
        await audit.record_by(session, actor, "UPDATE", "USER", resource_id=user.id, resource_name=user.email,
                              details={"joined": True, "systemRole": system_role})
    return user


@audit.audited("PERMISSION_CHANGE", "USER")
async def set_system_role(db: Database, actor: Principal, *, user_id: uuid.UUID, system_role: str) -> User:
    organization_id = require_org_admin(actor)
    system_role = clean_system_role(system_role)
    async with db.transaction() as session:
        admins = await _lock_admins(session, organization_id)
        user = await member_user(session, organization_id, user_id)
        membership = await live_membership(session, organization_id, user_id, for_update=True)
        previous = membership.system_role
        if previous == "ADMIN" and system_role != "ADMIN" and len(admins) <= 1:
            raise Conflict("Cannot demote the last admin of the organization; make someone else ADMIN first")
        membership.system_role = system_role
        await audit.record_by(session, actor, "PERMISSION_CHANGE", "USER", resource_id=user.id,
                              resource_name=user.email, details={"systemRole": {"from": previous, "to": system_role}})
    return user


@audit.audited("DELETE", "USER")
async def remove_member(db: Database, actor: Principal, *, user_id: uuid.UUID) -> User:
    """Ends the membership (kept as history) and drops the user's department-admin, group and
    custom-role rows in the organization. Their My Drive stays, for a possible return."""
    organization_id = require_org_admin(actor)
    async with db.transaction() as session:
        admins = await _lock_admins(session, organization_id)
        user = await member_user(session, organization_id, user_id)
        membership = await live_membership(session, organization_id, user_id, for_update=True)
        if membership.system_role == "ADMIN" and len(admins) <= 1:
            raise Conflict("Cannot remove the last admin of the organization; make someone else ADMIN first")
        membership.left_at = utcnow()
        membership.is_default = False
        for table in (DepartmentAdmin, GroupMember, MemberRole):
            await session.execute(delete(table).where(table.organization_id == organization_id,
                                                      table.user_id == user_id))
        await audit.record_by(session, actor, "DELETE", "USER", resource_id=user.id, resource_name=user.email,
                              details={"left": True, "systemRole": membership.system_role})
    return user


async def _lock_admins(session: AsyncSession, organization_id: uuid.UUID) -> list[uuid.UUID]:
    """The organization's admin memberships, locked (always first, always in id order), so two
    admins demoting or removing each other at the same moment cannot leave it without one.
    Every change of a membership's role or liveness takes this lock first, so what the use
    case reads after it stays true until it commits."""
    return list((await session.execute(
        select(Membership.id).where(Membership.organization_id == organization_id,
                                    Membership.system_role == "ADMIN", Membership.left_at.is_(None))
        .order_by(Membership.id).with_for_update()
    )).scalars())


# --- reads ------------------------------------------------------------------------------------------

def _members_query(organization_id: uuid.UUID):
    return (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organization_id == organization_id, Membership.left_at.is_(None))
    )


async def list_members(db: Database, actor: Principal, organization_id: uuid.UUID,
                       page: PageRequest) -> tuple[Page[User], CountFn]:
    """Live members by email (case-insensitive), and their count."""
    require_current_organization(actor, organization_id)
    return await users_page(db, _members_query(organization_id), page)


async def users_by_ids(db: Database, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, User]:
    """User rows by id (members or not: callers decide what to show)."""
    return await db.rows_by_ids(User, ids)


async def system_roles(db: Database, keys: Sequence[OrgUser]) -> dict[OrgUser, str]:
    """Each (organization, user)'s system role; absent when the user is not a live member."""
    query = select(Membership.organization_id, Membership.user_id, Membership.system_role).where(
        tuple_(Membership.organization_id, Membership.user_id).in_(list(keys)), Membership.left_at.is_(None))
    async with db.reading() as session:
        rows = (await session.execute(query)).all()
    return {(row.organization_id, row.user_id): row.system_role for row in rows}
