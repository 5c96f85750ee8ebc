"""Custom roles and their members. System roles (ADMIN, EDITOR, VIEWER) are made with the
organization, never change, and are held through the membership (see members.set_system_role)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select

from ..auth.principal import Principal
from ..db import Database
from ..errors import BadInput, Conflict
from ..models import MemberRole, Role, User
from ..models.tenancy import SYSTEM_ROLES
from ..pagination import CountFn, Key, Keyset, Page, PageRequest
from . import audit
from .tenancy import (
    children_of_organizations,
    clean_description,
    clean_name,
    flush_unique,
    live_in_organization,
    live_rows_page,
    member_user,
    require_org_admin,
    set_link,
    users_page,
    users_through,
)


@audit.audited("CREATE", "ROLE")
async def create_role(db: Database, actor: Principal, *, name: str, description: str | None) -> Role:
    organization_id = require_org_admin(actor)
    name = clean_name(name, field="name", max_length=100)
    description = clean_description(description)
    if name.upper() in SYSTEM_ROLES:
        raise Conflict(f"{name!r} is a system role name and is reserved")
    async with db.transaction() as session:
        role = Role(organization_id=organization_id, name=name, description=description)
        session.add(role)
        await flush_unique(session, {"uq_role_live_name": "A role with this name already exists"})
        await audit.record_by(session, actor, "CREATE", "ROLE", resource_id=role.id, resource_name=name)
    return role


@audit.audited("UPDATE", "ROLE")
async def set_role_member(db: Database, actor: Principal, *, role_id: uuid.UUID, user_id: uuid.UUID,
                          member: bool) -> Role:
    """Gives (member=True) or takes a custom role from a member; both are idempotent."""
    organization_id = require_org_admin(actor)
    async with db.transaction() as session:
        role = await live_in_organization(session, Role, role_id, organization_id, "Role")
        if role.is_system:
            raise BadInput("System roles are held through the membership: use setSystemRole", field="roleId")
        user = await member_user(session, organization_id, user_id)
        await set_link(session, MemberRole, "role_id", role.id, user.id, organization_id, member)
        await audit.record_by(session, actor, "UPDATE", "ROLE", resource_id=role.id, resource_name=role.name,
                              details={"added" if member else "removed": str(user.id)})
    return role


# --- reads ------------------------------------------------------------------------------------------

async def roles_by_ids(db: Database, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Role]:
    return await db.rows_by_ids(Role, ids)


async def roles_of(db: Database, organization_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Role]]:
    """Live roles of each organization: system roles first (ADMIN, EDITOR, VIEWER), then custom
    roles by name."""
    return await children_of_organizations(db, Role, organization_ids,
                                           Role.is_system.desc(), Role.system_key, func.lower(Role.name))


async def role_members(db: Database, role_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[User]]:
    """Members holding each custom role."""
    return await users_through(db, MemberRole, MemberRole.role_id, role_ids)


# System roles first (ADMIN, EDITOR, VIEWER), then custom roles by name.
_ROLES_ORDER = Keyset("roles", (
    Key.flag(Role.is_system.is_(False), "custom"), Key.text(func.coalesce(Role.system_key, ""), "system_key"),
    Key.text(func.lower(Role.name), "sort_name"), Key.id(Role.id),
))


async def roles_page(db: Database, organization_id: uuid.UUID, page: PageRequest) -> tuple[Page[Role], CountFn]:
    """A page of the organization's live roles (system roles first), and their count."""
    return await live_rows_page(db, Role, organization_id, _ROLES_ORDER, page)


async def role_members_page(db: Database, role_id: uuid.UUID, page: PageRequest) -> tuple[Page[User], CountFn]:
    """A page of the members holding a custom role by email, and their count."""
    query = select(User).join(MemberRole, MemberRole.user_id == User.id).where(MemberRole.role_id == role_id)
    return await users_page(db, query, page)
