"""Batch functions of the tenancy relations, used through `info.context.loaders.get(name, fn)`.

Each resolves every pending key of a request in one statement, in its own short session, and
answers in key order (an empty list, or None, for keys with nothing)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, tuple_

from ..models import Department, DepartmentAdmin, Folder, Group, GroupMember, Membership, MemberRole, Role, User

if TYPE_CHECKING:
    from .context import Context

OrgUser = tuple[uuid.UUID, uuid.UUID]  # (organization id, user id)


async def _lists(context: Context, keys: Sequence[Any], query) -> list[list[Any]]:
    """Runs a query of (key, row) pairs and groups the rows per key, keeping the query's order."""
    async with context.db.reading() as session:
        pairs = (await session.execute(query)).all()
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for key, row in pairs:
        grouped[key].append(row)
    return [grouped.get(key, []) for key in keys]


def _children_of_organizations(model, *order):
    async def load(context: Context, organization_ids: Sequence[uuid.UUID]) -> list[list[Any]]:
        query = (select(model.organization_id, model)
                 .where(model.organization_id.in_(organization_ids), model.deleted_at.is_(None))
                 .order_by(*order, model.id))
        return await _lists(context, organization_ids, query)

    return load


departments_of_organizations = _children_of_organizations(Department, func.lower(Department.name))
groups_of_organizations = _children_of_organizations(Group, func.lower(Group.name))
# System roles first (ADMIN, EDITOR, VIEWER), then custom roles by name.
roles_of_organizations = _children_of_organizations(
    Role, Role.is_system.desc(), Role.system_key, func.lower(Role.name))


def _users_through(link, key_column):
    """Users linked to each key through a join table, ordered by email."""

    async def load(context: Context, keys: Sequence[uuid.UUID]) -> list[list[User]]:
        query = (select(key_column, User).join(User, User.id == link.user_id)
                 .where(key_column.in_(keys)).order_by(func.lower(User.email), User.id))
        return await _lists(context, keys, query)

    return load


department_admins = _users_through(DepartmentAdmin, DepartmentAdmin.department_id)
group_members = _users_through(GroupMember, GroupMember.group_id)
role_members = _users_through(MemberRole, MemberRole.role_id)


async def my_drives(context: Context, keys: Sequence[OrgUser]) -> list[Folder | None]:
    """The My Drive root of each (organization, member)."""
    query = select(Folder).where(
        tuple_(Folder.organization_id, Folder.owner_id).in_(list(keys)),
        Folder.owner_type == "USER", Folder.parent_id.is_(None),
    )
    async with context.db.reading() as session:
        rows = (await session.execute(query)).scalars().all()
    found = {(row.organization_id, row.owner_id): row for row in rows}
    return [found.get(key) for key in keys]


async def system_roles(context: Context, keys: Sequence[OrgUser]) -> list[str | None]:
    """Each (organization, user)'s system role, None when the user is not a live member."""
    query = select(Membership.organization_id, Membership.user_id, Membership.system_role).where(
        tuple_(Membership.organization_id, Membership.user_id).in_(list(keys)), Membership.left_at.is_(None))
    async with context.db.reading() as session:
        rows = (await session.execute(query)).all()
    found = {(row.organization_id, row.user_id): row.system_role for row in rows}
    return [found.get(key) for key in keys]
