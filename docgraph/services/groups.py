"""Groups (optionally in a department) and their members."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import func, select

from ..auth.principal import Principal
from ..db import Database
from ..models import Department, Group, GroupMember, User
from ..pagination import CountFn, Page, PageRequest
from . import audit
from .tenancy import (
    by_name,
    children_of_organizations,
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


@audit.audited("CREATE", "GROUP")
async def create_group(db: Database, actor: Principal, *, name: str, department_id: uuid.UUID | None) -> Group:
    organization_id = require_org_admin(actor)
    name = clean_name(name, field="name", max_length=255)
    async with db.transaction() as session:
        if department_id is not None:
            await live_in_organization(session, Department, department_id, organization_id, "Department")
        group = Group(organization_id=organization_id, name=name, department_id=department_id)
        session.add(group)
        await flush_unique(session, {"uq_groups_live_name": "A group with this name already exists"})
        await audit.record_by(session, actor, "CREATE", "GROUP", resource_id=group.id, resource_name=name,
                              details={"departmentId": str(department_id) if department_id else None})
    return group


@audit.audited("UPDATE", "GROUP")
async def set_group_member(db: Database, actor: Principal, *, group_id: uuid.UUID, user_id: uuid.UUID,
                           member: bool) -> Group:
    """Adds (member=True) or removes a member of the group; both are idempotent."""
    organization_id = require_org_admin(actor)
    async with db.transaction() as session:
        group = await live_in_organization(session, Group, group_id, organization_id, "Group")
        user = await member_user(session, organization_id, user_id)
        await set_link(session, GroupMember, "group_id", group.id, user.id, organization_id, member)
        await audit.record_by(session, actor, "UPDATE", "GROUP", resource_id=group.id, resource_name=group.name,
                              details={"added" if member else "removed": str(user.id)})
    return group


# --- reads ------------------------------------------------------------------------------------------

async def groups_by_ids(db: Database, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Group]:
    return await db.rows_by_ids(Group, ids)


async def groups_of(db: Database, organization_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Group]]:
    """Live groups of each organization, by name."""
    return await children_of_organizations(db, Group, organization_ids, func.lower(Group.name))


async def group_members(db: Database, group_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[User]]:
    return await users_through(db, GroupMember, GroupMember.group_id, group_ids)


async def groups_page(db: Database, organization_id: uuid.UUID, page: PageRequest) -> tuple[Page[Group], CountFn]:
    """A page of the organization's live groups by name, and their count."""
    return await live_rows_page(db, Group, organization_id, by_name(Group), page)


async def group_members_page(db: Database, group_id: uuid.UUID, page: PageRequest) -> tuple[Page[User], CountFn]:
    """A page of a group's members by email, and their count."""
    query = select(User).join(GroupMember, GroupMember.user_id == User.id).where(GroupMember.group_id == group_id)
    return await users_page(db, query, page)
