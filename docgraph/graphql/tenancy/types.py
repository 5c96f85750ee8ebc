"""Users, organizations, departments, groups, roles and the viewer as API types, with the
inputs and payloads of the tenancy mutations.

Objects are rows (the viewer: its Principal); scalar fields read them, relation fields load
through the request's loaders. Relations of an organization are readable only with a token for
that organization. Each Node type has `resolve_node(info, uuid)`, which answers None for rows
outside the viewer's organization (for `node`/`nodes`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry

from ... import models
from ...auth.principal import Principal
from ...pagination import PageRequest
from ...services import members as member_service
from ...services import organizations as organization_service
from ...services.tenancy import require_current_organization
from ..context import Info, Later
from ..enums import OrganizationStatus, SystemRole
from ..pagination import Connection, Node, lazy_type, node_id, shows, to_connection


# Types of domains that import this one.
FolderRef = lazy_type("Folder", "docgraph.graphql.folders.types")


def _viewer_org(info: Info) -> uuid.UUID | None:
    return info.context.principal.organization_id


def _is_active(root: models.User) -> bool:
    return root.is_active and root.deleted_at is None


@strawberry.type
class User(Node):
    id: strawberry.ID = node_id("User")
    email: str
    first_name: str
    last_name: str
    is_active: bool = strawberry.field(resolver=_is_active)
    last_login_at: datetime | None
    created_at: datetime

    @strawberry.field(graphql_type=SystemRole | None,
                      description="The user's system role in the viewer's organization; null if not a member.")
    @staticmethod
    async def system_role(root: models.User, info: Info) -> str | None:
        organization_id = _viewer_org(info)
        if organization_id is None:
            return None
        return await info.context.loaders.system_role.load((organization_id, root.id))

    is_type_of = shows(models.User)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> models.User | None:
        """Visible: the viewer, and members of the viewer's organization."""
        principal = info.context.principal
        if row_id != principal.user_id:
            if principal.organization_id is None:
                return None
            if await info.context.loaders.system_role.load((principal.organization_id, row_id)) is None:
                return None
        return await info.context.loaders.user.load(row_id)


def tenant_row(info: Info, row: Any) -> Any:
    """`row` when it is a live row of the viewer's organization, else None."""
    if row is None or row.organization_id != _viewer_org(info) or getattr(row, "deleted_at", None):
        return None
    return row


@strawberry.type
class Role(Node):
    id: strawberry.ID = node_id("Role")
    name: str
    description: str | None
    is_system: bool

    @strawberry.field(graphql_type=list[User],
                      description="Members holding this custom role (system roles: see User.systemRole).")
    @staticmethod
    def members(root: models.Role, info: Info) -> Later[list[models.User]]:
        return info.context.loaders.role_members.load(root.id)

    is_type_of = shows(models.Role)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> models.Role | None:
        return tenant_row(info, await info.context.loaders.role.load(row_id))


@strawberry.type
class Department(Node):
    id: strawberry.ID = node_id("Department")
    name: str

    @strawberry.field(graphql_type=FolderRef)
    @staticmethod
    def root_folder(root: models.Department, info: Info) -> Later[models.Folder | None]:
        return info.context.loaders.folder.load(root.root_folder_id)

    @strawberry.field(graphql_type=list[User])
    @staticmethod
    def admins(root: models.Department, info: Info) -> Later[list[models.User]]:
        return info.context.loaders.department_admins.load(root.id)

    is_type_of = shows(models.Department)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> models.Department | None:
        return tenant_row(info, await info.context.loaders.department.load(row_id))


@strawberry.type
class Group(Node):
    id: strawberry.ID = node_id("Group")
    name: str

    @strawberry.field(graphql_type=Department | None)
    @staticmethod
    async def department(root: models.Group, info: Info) -> models.Department | None:
        if root.department_id is None:
            return None
        return await info.context.loaders.department.load(root.department_id)

    @strawberry.field(graphql_type=list[User])
    @staticmethod
    def members(root: models.Group, info: Info) -> Later[list[models.User]]:
        return info.context.loaders.group_members.load(root.id)

    is_type_of = shows(models.Group)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> models.Group | None:
        return tenant_row(info, await info.context.loaders.group.load(row_id))


@strawberry.type
class Organization(Node):
    id: strawberry.ID = node_id("Organization")
    name: str
    description: str | None
    status: OrganizationStatus
    created_at: datetime

    @strawberry.field(graphql_type=list[Department])
    @staticmethod
    async def departments(root: models.Organization, info: Info) -> list[models.Department]:
        require_current_organization(info.context.principal, root.id)
        return await info.context.loaders.departments_of_organization.load(root.id)

    @strawberry.field(graphql_type=list[Group])
    @staticmethod
    async def groups(root: models.Organization, info: Info) -> list[models.Group]:
        require_current_organization(info.context.principal, root.id)
        return await info.context.loaders.groups_of_organization.load(root.id)

    @strawberry.field(graphql_type=list[Role])
    @staticmethod
    async def roles(root: models.Organization, info: Info) -> list[models.Role]:
        require_current_organization(info.context.principal, root.id)
        return await info.context.loaders.roles_of_organization.load(root.id)

    @strawberry.field(graphql_type=Connection[User], description="Live members, ordered by email.")
    @staticmethod
    async def members(root: models.Organization, info: Info, first: int | None = None,
                      after: str | None = None) -> Connection[models.User]:
        request = PageRequest.parse(first, after)
        db = info.context.db
        page = await member_service.list_members(db, info.context.principal, root.id, request)
        return to_connection(page, lambda: member_service.count_members(db, root.id))

    is_type_of = shows(models.Organization)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> models.Organization | None:
        if row_id != _viewer_org(info):
            return None
        return await info.context.loaders.organization.load(row_id)


@strawberry.type(description="The signed-in user. A super admin may have no organization; everyone else has one.")
class Viewer:
    """Objects are Principals."""

    system_role: SystemRole | None
    is_super_admin: bool

    @strawberry.field(graphql_type=User)
    @staticmethod
    def user(root: Principal, info: Info) -> Later[models.User | None]:
        return info.context.loaders.user.load(root.user_id)

    @strawberry.field(graphql_type=Organization | None)
    @staticmethod
    async def organization(root: Principal, info: Info) -> models.Organization | None:
        if root.organization_id is None:
            return None
        return await info.context.loaders.organization.load(root.organization_id)

    @strawberry.field(graphql_type=list[Organization],
                      description="Organizations the viewer can switch to (every live one for super admins).")
    @staticmethod
    async def organizations(root: Principal, info: Info) -> list[models.Organization]:
        return await organization_service.organizations_of(info.context.db, root.user_id,
                                                           everything=root.is_super_admin)

    @strawberry.field(graphql_type=FolderRef | None, description="The viewer's My Drive root in the current organization.")
    @staticmethod
    async def my_drive(root: Principal, info: Info) -> models.Folder | None:
        if root.organization_id is None:
            return None
        return await info.context.loaders.my_drive.load((root.organization_id, root.user_id))


# --- inputs and payloads ---------------------------------------------------------------------------

@strawberry.input
class CreateOrganizationInput:
    name: str
    description: str | None = None
    admin_email: str
    admin_password: str | None = None
    admin_first_name: str | None = None
    admin_last_name: str | None = None


@strawberry.input
class CreateUserInput:
    email: str
    password: str
    first_name: str
    last_name: str
    system_role: SystemRole


@strawberry.input
class AddMemberInput:
    email: str
    system_role: SystemRole


@strawberry.input
class SetSystemRoleInput:
    user_id: strawberry.ID
    system_role: SystemRole


@strawberry.input
class RemoveMemberInput:
    user_id: strawberry.ID


@strawberry.input
class CreateDepartmentInput:
    name: str


@strawberry.input
class SetDepartmentAdminInput:
    department_id: strawberry.ID
    user_id: strawberry.ID
    is_admin: bool


@strawberry.input
class CreateGroupInput:
    name: str
    department_id: strawberry.ID | None = None


@strawberry.input
class GroupMemberInput:
    group_id: strawberry.ID
    user_id: strawberry.ID


@strawberry.input
class CreateRoleInput:
    name: str
    description: str | None = None


@strawberry.input
class RoleMemberInput:
    role_id: strawberry.ID
    user_id: strawberry.ID


@strawberry.type
class OrganizationPayload:
    organization: models.Organization = strawberry.field(graphql_type=Organization)


@strawberry.type
class UserPayload:
    user: models.User = strawberry.field(graphql_type=User)


@strawberry.type
class DepartmentPayload:
    department: models.Department = strawberry.field(graphql_type=Department)


@strawberry.type
class GroupPayload:
    group: models.Group = strawberry.field(graphql_type=Group)


@strawberry.type
class RolePayload:
    role: models.Role = strawberry.field(graphql_type=Role)
