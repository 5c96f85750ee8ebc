"""Rows for tests, inserted directly (fast: no API round trips, cheap bcrypt cost).

Only the tenancy basics live here; folders, documents and grants are made through services or
the API in the tests that need them, so their rules are exercised, not bypassed.
"""

from __future__ import annotations

import uuid

import bcrypt

from docgraph import models
from docgraph.process import Services

DEFAULT_PASSWORD = "correct-horse-battery"
_HASH = bcrypt.hashpw(DEFAULT_PASSWORD.encode(), bcrypt.gensalt(4)).decode()


class Factory:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def organization(self, name: str | None = None, **settings) -> models.Organization:
        org = models.Organization(name=name or f"Org {uuid.uuid4().hex[:6]}", settings=settings)
        async with self.services.db.transaction() as session:
            session.add(org)
            await session.flush()
            for key in models.tenancy.SYSTEM_ROLES:
                session.add(models.Role(organization_id=org.id, name=key, is_system=True, system_key=key))
        return org

    async def user(self, org: models.Organization | None = None, role: str = "EDITOR", *,
                   email: str | None = None, super_admin: bool = False, is_default: bool = True,
                   first_name: str = "Test", last_name: str | None = None) -> models.User:
        user = models.User(
            email=email or f"user-{uuid.uuid4().hex[:8]}@example.com", password_hash=_HASH,
            first_name=first_name, last_name=last_name or role.title(), is_super_admin=super_admin,
        )
        async with self.services.db.transaction() as session:
            session.add(user)
            await session.flush()
        if org is not None:
            await self.join(user, org, role, is_default=is_default)
        return user

    async def join(self, user: models.User, org: models.Organization, role: str = "EDITOR", *,
                   is_default: bool = False) -> models.Folder:
        """Membership plus the member's My Drive root; returns the My Drive."""
        async with self.services.db.transaction() as session:
            session.add(models.Membership(user_id=user.id, organization_id=org.id, system_role=role,
                                          is_default=is_default))
            drive_id = uuid.uuid4()
            drive = models.Folder(
                id=drive_id, organization_id=org.id, name="My Drive", owner_type="USER",
                owner_id=user.id, path=[drive_id], created_by=user.id,
            )
            session.add(drive)
        return drive

    async def department(self, org: models.Organization, name: str | None = None, *,
                         by: models.User, admins: tuple[models.User, ...] = ()) -> models.Department:
        async with self.services.db.transaction() as session:
            department = models.Department(organization_id=org.id, name=name or f"Dept {uuid.uuid4().hex[:6]}")
            session.add(department)
            await session.flush()
            root_id = uuid.uuid4()
            session.add(models.Folder(
                id=root_id, organization_id=org.id, name=department.name, owner_type="ORG",
                owner_id=org.id, department_id=department.id, path=[root_id], created_by=by.id,
            ))
            await session.flush()
            department.root_folder_id = root_id
            for admin in admins:
                session.add(models.DepartmentAdmin(department_id=department.id, user_id=admin.id,
                                                   organization_id=org.id))
        return department

    async def group(self, org: models.Organization, *members: models.User, name: str | None = None,
                    department: models.Department | None = None) -> models.Group:
        async with self.services.db.transaction() as session:
            group = models.Group(organization_id=org.id, name=name or f"Group {uuid.uuid4().hex[:6]}",
                                 department_id=department.id if department else None)
            session.add(group)
            await session.flush()
            for member in members:
                session.add(models.GroupMember(group_id=group.id, user_id=member.id, organization_id=org.id))
        return group

    async def role(self, org: models.Organization, *members: models.User, name: str | None = None) -> models.Role:
        async with self.services.db.transaction() as session:
            role = models.Role(organization_id=org.id, name=name or f"Role {uuid.uuid4().hex[:6]}")
            session.add(role)
            await session.flush()
            for member in members:
                session.add(models.MemberRole(role_id=role.id, user_id=member.id, organization_id=org.id))
        return role

    def token(self, user: models.User, org: models.Organization | None) -> str:
        """An access token as login would issue it (its session has no refresh row yet)."""
        return self.services.signer.issue(user.id, org.id if org else None, uuid.uuid4())
