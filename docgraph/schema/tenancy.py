"""Users, organizations, departments, groups, roles and the viewer as API types, with the
inputs and payloads of the tenancy mutations.

Scalar fields are plain attributes; relation fields load through per-request loaders
(docgraph/resolvers/tenancy_loaders.py). Relations of an organization are readable only with a
token for that organization. Each Node type has `resolve_node(info, uuid)`, which answers None
for rows outside the viewer's organization (for `node`/`nodes`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from .. import globalid, models
from ..auth.principal import Principal
from ..pagination import PageRequest
from ..resolvers import tenancy_loaders
from ..resolvers.context import Info
from ..resolvers.loaders import rows_by_id
from ..services import members as member_service
from ..services import organizations as organization_service
from ..services.tenancy import require_current_organization
from .common import Connection, Node, to_connection
from .enums import OrganizationStatus, SystemRole
from .types_registry import register_node

if TYPE_CHECKING:
    from .folders import Folder

FolderRef = Annotated["Folder", strawberry.lazy("docgraph.schema.folders")]


def _folder(row: models.Folder | None):
    from .folders import Folder

    return Folder.from_model(row) if row is not None else None


def _viewer_org(info: Info) -> uuid.UUID | None:
    return info.context.principal.organization_id


@register_node
@strawberry.type
class User(Node):
    id: strawberry.ID
    email: str
    first_name: str
    last_name: str
    is_active: bool
    last_login_at: datetime | None
    created_at: datetime
    row_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: models.User) -> User:
        return cls(
            id=strawberry.ID(globalid.encode("User", row.id)), email=row.email,
            first_name=row.first_name, last_name=row.last_name,
            is_active=row.is_active and row.deleted_at is None,
            last_login_at=row.last_login_at, created_at=row.created_at, row_id=row.id,
        )

    @strawberry.field(description="The user's system role in the viewer's organization; null if not a member.")
    async def system_role(self, info: Info) -> SystemRole | None:
        organization_id = _viewer_org(info)
        if organization_id is None:
            return None
        role = await info.context.loaders.get("system_role", tenancy_loaders.system_roles).load(
            (organization_id, self.row_id))
        return SystemRole(role) if role else None

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> User | None:
        """Visible: the viewer, and members of the viewer's organization."""
        principal = info.context.principal
        if row_id != principal.user_id:
            if principal.organization_id is None:
                return None
            loader = info.context.loaders.get("system_role", tenancy_loaders.system_roles)
            if await loader.load((principal.organization_id, row_id)) is None:
                return None
        row = await info.context.loaders.user.load(row_id)
        return cls.from_model(row) if row is not None else None


async def _tenant_row(info: Info, model, row_id: uuid.UUID):
    """A live row of the viewer's organization, or None."""
    # Same name and batch function as the shared loaders' `department`/`role`, so one is shared.
    row = await info.context.loaders.get(model.__name__.lower(), rows_by_id(model)).load(row_id)
    if row is None or row.organization_id != _viewer_org(info) or getattr(row, "deleted_at", None):
        return None
    return row


async def _users(info: Info, name: str, batch, key: uuid.UUID) -> list[User]:
    return [User.from_model(row) for row in await info.context.loaders.get(name, batch).load(key)]


@register_node
@strawberry.type
class Role(Node):
    id: strawberry.ID
    name: str
    description: str | None
    is_system: bool
    row_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: models.Role) -> Role:
        return cls(id=strawberry.ID(globalid.encode("Role", row.id)), name=row.name,
                   description=row.description, is_system=row.is_system, row_id=row.id)

    @strawberry.field(description="Members holding this custom role (system roles: see User.systemRole).")
    async def members(self, info: Info) -> list[User]:
        return await _users(info, "role_members", tenancy_loaders.role_members, self.row_id)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> Role | None:
        row = await _tenant_row(info, models.Role, row_id)
        return cls.from_model(row) if row is not None else None


@register_node
@strawberry.type
class Department(Node):
    id: strawberry.ID
    name: str
    row: strawberry.Private[models.Department]

    @classmethod
    def from_model(cls, row: models.Department) -> Department:
        return cls(id=strawberry.ID(globalid.encode("Department", row.id)), name=row.name, row=row)

    @strawberry.field
    async def root_folder(self, info: Info) -> FolderRef:
        return _folder(await info.context.loaders.folder.load(self.row.root_folder_id))

    @strawberry.field
    async def admins(self, info: Info) -> list[User]:
        return await _users(info, "department_admins", tenancy_loaders.department_admins, self.row.id)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> Department | None:
        row = await _tenant_row(info, models.Department, row_id)
        return cls.from_model(row) if row is not None else None


@register_node
@strawberry.type
class Group(Node):
    id: strawberry.ID
    name: str
    row: strawberry.Private[models.Group]

    @classmethod
    def from_model(cls, row: models.Group) -> Group:
        return cls(id=strawberry.ID(globalid.encode("Group", row.id)), name=row.name, row=row)

    @strawberry.field
    async def department(self, info: Info) -> Department | None:
        if self.row.department_id is None:
            return None
        row = await info.context.loaders.department.load(self.row.department_id)
        return Department.from_model(row) if row is not None else None

    @strawberry.field
    async def members(self, info: Info) -> list[User]:
        return await _users(info, "group_members", tenancy_loaders.group_members, self.row.id)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> Group | None:
        row = await _tenant_row(info, models.Group, row_id)
        return cls.from_model(row) if row is not None else None


@register_node
@strawberry.type
class Organization(Node):
    id: strawberry.ID
    name: str
    description: str | None
    status: OrganizationStatus
    created_at: datetime
    row_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: models.Organization) -> Organization:
        return cls(id=strawberry.ID(globalid.encode("Organization", row.id)), name=row.name,
                   description=row.description, status=OrganizationStatus(row.status),
                   created_at=row.created_at, row_id=row.id)

    async def _children(self, info: Info, name: str, batch) -> list:
        require_current_organization(info.context.principal, self.row_id)
        return await info.context.loaders.get(name, batch).load(self.row_id)

    @strawberry.field
    async def departments(self, info: Info) -> list[Department]:
        rows = await self._children(info, "organization_departments", tenancy_loaders.departments_of_organizations)
        return [Department.from_model(row) for row in rows]

    @strawberry.field
    async def groups(self, info: Info) -> list[Group]:
        rows = await self._children(info, "organization_groups", tenancy_loaders.groups_of_organizations)
        return [Group.from_model(row) for row in rows]

    @strawberry.field
    async def roles(self, info: Info) -> list[Role]:
        rows = await self._children(info, "organization_roles", tenancy_loaders.roles_of_organizations)
        return [Role.from_model(row) for row in rows]

    @strawberry.field(description="Live members, ordered by email.")
    async def members(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[User]:
        request = PageRequest.parse(first, after)
        db = info.context.db
        page = await member_service.list_members(db, info.context.principal, self.row_id, request)
        return to_connection(page, User.from_model, lambda: member_service.count_members(db, self.row_id))

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> Organization | None:
        if row_id != _viewer_org(info):
            return None
        row = await info.context.loaders.organization.load(row_id)
        return cls.from_model(row) if row is not None else None


@strawberry.type(description="The signed-in user. A super admin may have no organization; everyone else has one.")
class Viewer:
    system_role: SystemRole | None
    is_super_admin: bool
    principal: strawberry.Private[Principal]

    @classmethod
    def from_principal(cls, principal: Principal) -> Viewer:
        return cls(system_role=SystemRole(principal.system_role) if principal.system_role else None,
                   is_super_admin=principal.is_super_admin, principal=principal)

    @strawberry.field
    async def user(self, info: Info) -> User:
        return User.from_model(await info.context.loaders.user.load(self.principal.user_id))

    @strawberry.field
    async def organization(self, info: Info) -> Organization | None:
        if self.principal.organization_id is None:
            return None
        row = await info.context.loaders.organization.load(self.principal.organization_id)
        return Organization.from_model(row) if row is not None else None

    @strawberry.field(description="Organizations the viewer can switch to (every live one for super admins).")
    async def organizations(self, info: Info) -> list[Organization]:
        rows = await organization_service.organizations_of(
            info.context.db, self.principal.user_id, everything=self.principal.is_super_admin)
        return [Organization.from_model(row) for row in rows]

    @strawberry.field(description="The viewer's My Drive root in the current organization.")
    async def my_drive(self, info: Info) -> FolderRef | None:
        if self.principal.organization_id is None:
            return None
        loader = info.context.loaders.get("my_drive", tenancy_loaders.my_drives)
        return _folder(await loader.load((self.principal.organization_id, self.principal.user_id)))


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
    organization: Organization


@strawberry.type
class UserPayload:
    user: User


@strawberry.type
class DepartmentPayload:
    department: Department


@strawberry.type
class GroupPayload:
    group: Group


@strawberry.type
class RolePayload:
    role: Role
