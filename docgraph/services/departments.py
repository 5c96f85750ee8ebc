"""Departments: each owns an organization drive (its root folder) and has admins."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert

from ..auth.principal import Principal
from ..db import Database
from ..models import Department, DepartmentAdmin, Folder, User
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
    users_page,
    users_through,
)

# The audit log has no DEPARTMENT resource type: departments are part of the organization's
# structure, so they are audited as ORGANIZATION rows carrying the department's id and name.
DEPARTMENT_AUDIT_TYPE = "ORGANIZATION"


@audit.audited("CREATE", DEPARTMENT_AUDIT_TYPE)
async def create_department(db: Database, actor: Principal, *, name: str) -> Department:
    """The department and its root folder (the department's drive), in one transaction."""
    organization_id = require_org_admin(actor)
    name = clean_name(name, field="name", max_length=255)
    async with db.transaction() as session:
        department = Department(organization_id=organization_id, name=name)
        session.add(department)
        await flush_unique(session, {"uq_department_live_name": "A department with this name already exists"})
        root_id = uuid.uuid4()
        session.add(Folder(
            id=root_id, organization_id=organization_id, name=name, owner_type="ORG", owner_id=organization_id,
            department_id=department.id, parent_id=None, path=[root_id], created_by=actor.user_id,
        ))
        await session.flush()
        department.root_folder_id = root_id
        await session.flush()
        await audit.record_by(session, actor, "CREATE", DEPARTMENT_AUDIT_TYPE, resource_id=department.id,
                              resource_name=name, details={"department": True, "rootFolderId": str(root_id)})
    return department


@audit.audited("PERMISSION_CHANGE", "USER")
async def set_department_admin(db: Database, actor: Principal, *, department_id: uuid.UUID,
                               user_id: uuid.UUID, is_admin: bool) -> Department:
    """Makes a member an admin of the department, or stops it being one (idempotent)."""
    organization_id = require_org_admin(actor)
    async with db.transaction() as session:
        department = await live_in_organization(session, Department, department_id, organization_id, "Department")
        user = await member_user(session, organization_id, user_id)
        if is_admin:
            await session.execute(
                insert(DepartmentAdmin)
                .values(department_id=department.id, user_id=user.id, organization_id=organization_id)
                .on_conflict_do_nothing()
            )
        else:
            await session.execute(delete(DepartmentAdmin).where(
                DepartmentAdmin.department_id == department.id, DepartmentAdmin.user_id == user.id))
        await audit.record_by(
            session, actor, "PERMISSION_CHANGE", "USER", resource_id=user.id, resource_name=user.email,
            details={"departmentId": str(department.id), "department": department.name, "isAdmin": is_admin},
        )
    return department


# --- reads ------------------------------------------------------------------------------------------

async def departments_by_ids(db: Database, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Department]:
    return await db.rows_by_ids(Department, ids)


async def departments_of(db: Database, organization_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Department]]:
    """Live departments of each organization, by name."""
    return await children_of_organizations(db, Department, organization_ids, func.lower(Department.name))


async def department_admins(db: Database, department_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[User]]:
    return await users_through(db, DepartmentAdmin, DepartmentAdmin.department_id, department_ids)


async def departments_page(db: Database, organization_id: uuid.UUID,
                           page: PageRequest) -> tuple[Page[Department], CountFn]:
    """A page of the organization's live departments by name, and their count."""
    return await live_rows_page(db, Department, organization_id, by_name(Department), page)


async def department_admins_page(db: Database, department_id: uuid.UUID,
                                 page: PageRequest) -> tuple[Page[User], CountFn]:
    """A page of a department's admins by email, and their count."""
    query = (select(User).join(DepartmentAdmin, DepartmentAdmin.user_id == User.id)
             .where(DepartmentAdmin.department_id == department_id))
    return await users_page(db, query, page)
