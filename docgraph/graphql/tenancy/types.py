"""Users, organizations, departments, groups, roles and the viewer as API types, with the
inputs and payloads of the tenancy mutations.

Objects are rows (the viewer: its Principal); scalar fields read them, relation fields load
through the request's loaders. Relations of an organization are readable only with a token for
that organization. Each Node type has `resolve_node(info, uuid)`, which answers None for rows
outside the viewer's organization (for `node`/`nodes`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol, TypeVar

import strawberry

from ... import models
from ...auth.principal import Principal
from ...services import departments as department_service
from ...services import groups as group_service
from ...services import members as member_service
from ...services import organizations as organization_service
from ...services import roles as role_service
from ...services.tenancy import require_current_organization
from ..context import Info, Later
from ..enums import OrganizationStatus, SystemRole
from ..pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    Node,
    lazy_type,
    node_id,
    page_request,
    shows,
    to_connection,
)

# Types of domains that import this one.
FolderRef = lazy_type("Folder", "docgraph.graphql.folders.types")


def _viewer_org(info: Info) -> uuid.UUID | None:
    return info.context.principal.organization_id


def _is_active(root: models.User) -> bool:
    return root.is_active and root.deleted_at is None


@strawberry.type(description="A person with an account. Others see members of their own organization only.")
class User(Node):
    id: strawberry.ID = node_id("User")
    email: str = strawberry.field(description="The address the user signs in with (unique, case-insensitive).")
    first_name: str = strawberry.field(description="Given name, as the user entered it.")
    last_name: str = strawberry.field(description="Family name, as the user entered it.")
    is_active: bool = strawberry.field(
        resolver=_is_active, description="False once the account is deactivated or deleted: it cannot sign in.")
    last_login_at: datetime | None = strawberry.field(description="The last successful sign-in; null if never.")
    created_at: datetime = strawberry.field(description="When the account was created.")

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


class _TenantRow(Protocol):
    organization_id: uuid.UUID


R = TypeVar("R", bound=_TenantRow)


def tenant_row(info: Info, row: R | None) -> R | None:
    """`row` when it is a live row of the viewer's organization, else None."""
    if row is None or row.organization_id != _viewer_org(info) or getattr(row, "deleted_at", None):
        return None
    return row


@strawberry.type(description="A role of the organization: a system role (ADMIN, EDITOR, VIEWER) or a custom one "
                              "that shares can name as their subject.")
class Role(Node):
    id: strawberry.ID = node_id("Role")
    name: str = strawberry.field(description="The role's name, unique in its organization.")
    description: str | None = strawberry.field(description="What the role is for, as its creator wrote it.")
    is_system: bool = strawberry.field(description="True for ADMIN, EDITOR and VIEWER, which cannot be changed.")

    @strawberry.field(graphql_type=list[User],
                      description="Members holding this custom role (system roles: see User.systemRole); all of "
                                  "them at once: membersConnection pages through many.")
    @staticmethod
    def members(root: models.Role, info: Info) -> Later[list[models.User]]:
        return info.context.loaders.role_members.load(root.id)

    @strawberry.field(graphql_type=Connection[User],
                      description="Members holding this custom role, by email, a page at a time.")
    @staticmethod
    async def members_connection(root: models.Role, info: Info, first: First = None, after: After = None,
                                 last: Last = None, before: Before = None) -> Connection[models.User]:
        return to_connection(*await role_service.role_members_page(
            info.context.db, root.id, page_request(first, after, last, before)))

    is_type_of = shows(models.Role)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> models.Role | None:
        return tenant_row(info, await info.context.loaders.role.load(row_id))


@strawberry.type(description="A department of the organization, with its own drive (a root folder).")
class Department(Node):
    id: strawberry.ID = node_id("Department")
    name: str = strawberry.field(description="The department's name, unique in its organization.")

    @strawberry.field(graphql_type=FolderRef, description="The root folder of the department's drive.")
    @staticmethod
    def root_folder(root: models.Department, info: Info) -> Later[models.Folder | None]:
        # Set in the transaction that creates the department: never null once committed.
        return info.context.loaders.folder.load(root.root_folder_id)  # type: ignore[arg-type]

    @strawberry.field(graphql_type=list[User],
                      description="The department's admins: they have full access to everything in its drive. "
                                  "All of them at once: adminsConnection pages through many.")
    @staticmethod
    def admins(root: models.Department, info: Info) -> Later[list[models.User]]:
        return info.context.loaders.department_admins.load(root.id)

    @strawberry.field(graphql_type=Connection[User], description="The department's admins, by email, a page at a time.")
    @staticmethod
    async def admins_connection(root: models.Department, info: Info, first: First = None, after: After = None,
                                last: Last = None, before: Before = None) -> Connection[models.User]:
        return to_connection(*await department_service.department_admins_page(
            info.context.db, root.id, page_request(first, after, last, before)))

    is_type_of = shows(models.Department)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> models.Department | None:
        return tenant_row(info, await info.context.loaders.department.load(row_id))


@strawberry.type(description="A named set of members that shares can name as their subject.")
class Group(Node):
    id: strawberry.ID = node_id("Group")
    name: str = strawberry.field(description="The group's name, unique in its organization.")

    @strawberry.field(graphql_type=Department | None, description="The department the group belongs to, if any.")
    @staticmethod
    async def department(root: models.Group, info: Info) -> models.Department | None:
        if root.department_id is None:
            return None
        return await info.context.loaders.department.load(root.department_id)

    @strawberry.field(graphql_type=list[User],
                      description="The group's members, all at once: membersConnection pages through many.")
    @staticmethod
    def members(root: models.Group, info: Info) -> Later[list[models.User]]:
        return info.context.loaders.group_members.load(root.id)

    @strawberry.field(graphql_type=Connection[User], description="The group's members, by email, a page at a time.")
    @staticmethod
    async def members_connection(root: models.Group, info: Info, first: First = None, after: After = None,
                                 last: Last = None, before: Before = None) -> Connection[models.User]:
        return to_connection(*await group_service.group_members_page(
            info.context.db, root.id, page_request(first, after, last, before)))

    is_type_of = shows(models.Group)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> models.Group | None:
        return tenant_row(info, await info.context.loaders.group.load(row_id))


@strawberry.type(description="A tenant: its members, departments, groups, roles and drives. Its relations are "
                              "readable with a token for that organization.")
class Organization(Node):
    id: strawberry.ID = node_id("Organization")
    name: str = strawberry.field(description="The organization's name, unique among organizations.")
    description: str | None = strawberry.field(description="A free description of the organization.")
    status: OrganizationStatus = strawberry.field(description="Whether its members may sign in to it.")
    created_at: datetime = strawberry.field(description="When the organization was created.")

    @strawberry.field(graphql_type=list[Department],
                      description="The organization's departments by name, all at once: departmentsConnection "
                                  "pages through many.")
    @staticmethod
    async def departments(root: models.Organization, info: Info) -> list[models.Department]:
        require_current_organization(info.context.principal, root.id)
        return await info.context.loaders.departments_of_organization.load(root.id)

    @strawberry.field(graphql_type=Connection[Department],
                      description="The organization's departments, by name, a page at a time.")
    @staticmethod
    async def departments_connection(root: models.Organization, info: Info, first: First = None,
                                     after: After = None, last: Last = None,
                                     before: Before = None) -> Connection[models.Department]:
        require_current_organization(info.context.principal, root.id)
        return to_connection(*await department_service.departments_page(
            info.context.db, root.id, page_request(first, after, last, before)))

    @strawberry.field(graphql_type=list[Group],
                      description="The organization's groups by name, all at once: groupsConnection pages through "
                                  "many.")
    @staticmethod
    async def groups(root: models.Organization, info: Info) -> list[models.Group]:
        require_current_organization(info.context.principal, root.id)
        return await info.context.loaders.groups_of_organization.load(root.id)

    @strawberry.field(graphql_type=Connection[Group],
                      description="The organization's groups, by name, a page at a time.")
    @staticmethod
    async def groups_connection(root: models.Organization, info: Info, first: First = None, after: After = None,
                                last: Last = None, before: Before = None) -> Connection[models.Group]:
        require_current_organization(info.context.principal, root.id)
        return to_connection(*await group_service.groups_page(
            info.context.db, root.id, page_request(first, after, last, before)))

    @strawberry.field(graphql_type=list[Role],
                      description="The organization's roles (system roles, then custom ones by name), all at once: "
                                  "rolesConnection pages through many.")
    @staticmethod
    async def roles(root: models.Organization, info: Info) -> list[models.Role]:
        require_current_organization(info.context.principal, root.id)
        return await info.context.loaders.roles_of_organization.load(root.id)

    @strawberry.field(graphql_type=Connection[Role],
                      description="The organization's roles (system roles, then custom ones by name), a page at a "
                                  "time.")
    @staticmethod
    async def roles_connection(root: models.Organization, info: Info, first: First = None, after: After = None,
                               last: Last = None, before: Before = None) -> Connection[models.Role]:
        require_current_organization(info.context.principal, root.id)
        return to_connection(*await role_service.roles_page(
            info.context.db, root.id, page_request(first, after, last, before)))

    @strawberry.field(graphql_type=Connection[User], description="Live members, ordered by email.")
    @staticmethod
    async def members(root: models.Organization, info: Info, first: First = None, after: After = None,
                      last: Last = None, before: Before = None) -> Connection[models.User]:
        return to_connection(*await member_service.list_members(
            info.context.db, info.context.principal, root.id, page_request(first, after, last, before)))

    is_type_of = shows(models.Organization)

    @classmethod
    async def resolve_node(cls, info: Info, row_id: uuid.UUID) -> models.Organization | None:
        if row_id != _viewer_org(info):
            return None
        return await info.context.loaders.organization.load(row_id)


@strawberry.type(description="The signed-in user. A super admin may have no organization; everyone else has one.")
class Viewer:
    """Objects are Principals."""

    system_role: SystemRole | None = strawberry.field(
        description="The viewer's system role in the current organization; null without one.")
    is_super_admin: bool = strawberry.field(description="Whether the viewer administers every organization.")

    @strawberry.field(graphql_type=User, description="The viewer's own account.")
    @staticmethod
    def user(root: Principal, info: Info) -> Later[models.User | None]:
        return info.context.loaders.user.load(root.user_id)

    @strawberry.field(graphql_type=Organization | None,
                      description="The organization the access token is for; null for a super admin without one.")
    @staticmethod
    async def organization(root: Principal, info: Info) -> models.Organization | None:
        if root.organization_id is None:
            return None
        return await info.context.loaders.organization.load(root.organization_id)

    @strawberry.field(graphql_type=list[Organization],
                      description="Organizations the viewer can switch to (every live one for super admins), by "
                                  "name, all at once: organizationsConnection pages through many.")
    @staticmethod
    async def organizations(root: Principal, info: Info) -> list[models.Organization]:
        return await organization_service.organizations_of(info.context.db, root.user_id,
                                                           everything=root.is_super_admin)

    @strawberry.field(graphql_type=Connection[Organization],
                      description="Organizations the viewer can switch to, by name, a page at a time.")
    @staticmethod
    async def organizations_connection(root: Principal, info: Info, first: First = None, after: After = None,
                                       last: Last = None, before: Before = None) -> Connection[models.Organization]:
        return to_connection(*await organization_service.organizations_page(
            info.context.db, root.user_id, page_request(first, after, last, before), everything=root.is_super_admin))

    @strawberry.field(graphql_type=FolderRef | None,
                      description="The viewer's My Drive root in the current organization.")
    @staticmethod
    async def my_drive(root: Principal, info: Info) -> models.Folder | None:
        if root.organization_id is None:
            return None
        return await info.context.loaders.my_drive.load((root.organization_id, root.user_id))


# --- inputs and payloads ---------------------------------------------------------------------------

@strawberry.input(description="A new organization and its first admin (super admins only).")
class CreateOrganizationInput:
    name: str = strawberry.field(description="The organization's name, unique among organizations.")
    description: str | None = strawberry.field(default=None, description="A free description of the organization.")
    admin_email: str = strawberry.field(
        description="The first admin: an existing account with this email, or a new one created with it.")
    admin_password: str | None = strawberry.field(
        default=None, description="Required when no account has adminEmail yet: the new admin's password.")
    admin_first_name: str | None = strawberry.field(default=None, description="The new admin's given name.")
    admin_last_name: str | None = strawberry.field(default=None, description="The new admin's family name.")


@strawberry.input(description="A new account, made a member of the viewer's organization (organization admins).")
class CreateUserInput:
    email: str = strawberry.field(description="The address the user will sign in with; must not be taken.")
    password: str = strawberry.field(description="The user's initial password.")
    first_name: str = strawberry.field(description="The user's given name.")
    last_name: str = strawberry.field(description="The user's family name.")
    system_role: SystemRole = strawberry.field(description="The system role the user gets in the organization.")


@strawberry.input(description="An existing account to add to the viewer's organization.")
class AddMemberInput:
    email: str = strawberry.field(description="The email of the account to add.")
    system_role: SystemRole = strawberry.field(description="The system role the new member gets.")


@strawberry.input(description="A member and the system role it gets instead of its current one.")
class SetSystemRoleInput:
    user_id: strawberry.ID = strawberry.field(description="The member (a User ID).")
    system_role: SystemRole = strawberry.field(description="The member's new system role.")


@strawberry.input(description="A member to remove from the viewer's organization.")
class RemoveMemberInput:
    user_id: strawberry.ID = strawberry.field(description="The member to remove (a User ID).")


@strawberry.input(description="A new department; its drive's root folder is created with it.")
class CreateDepartmentInput:
    name: str = strawberry.field(description="The department's name, unique in the organization.")


@strawberry.input(description="Makes a member an admin of a department, or no longer one.")
class SetDepartmentAdminInput:
    department_id: strawberry.ID = strawberry.field(description="The department (a Department ID).")
    user_id: strawberry.ID = strawberry.field(description="The member (a User ID).")
    is_admin: bool = strawberry.field(description="True to make the member an admin, false to remove the role.")


@strawberry.input(description="A new group of the viewer's organization.")
class CreateGroupInput:
    name: str = strawberry.field(description="The group's name, unique in the organization.")
    department_id: strawberry.ID | None = strawberry.field(
        default=None, description="The department the group belongs to (a Department ID); omit for none.")


@strawberry.input(description="A group and a member to add to it or remove from it.")
class GroupMemberInput:
    group_id: strawberry.ID = strawberry.field(description="The group (a Group ID).")
    user_id: strawberry.ID = strawberry.field(description="The member (a User ID).")


@strawberry.input(description="A new custom role of the viewer's organization.")
class CreateRoleInput:
    name: str = strawberry.field(description="The role's name, unique in the organization.")
    description: str | None = strawberry.field(default=None, description="What the role is for.")


@strawberry.input(description="A custom role and a member to give it to or take it from.")
class RoleMemberInput:
    role_id: strawberry.ID = strawberry.field(description="The custom role (a Role ID).")
    user_id: strawberry.ID = strawberry.field(description="The member (a User ID).")


@strawberry.type(description="The organization a mutation created or changed.")
class OrganizationPayload:
    organization: models.Organization = strawberry.field(
        graphql_type=Organization, description="The organization as it is now.")


@strawberry.type(description="The user a mutation created or changed.")
class UserPayload:
    user: models.User = strawberry.field(graphql_type=User, description="The user as it is now.")


@strawberry.type(description="The department a mutation created or changed.")
class DepartmentPayload:
    department: models.Department = strawberry.field(graphql_type=Department,
                                                     description="The department as it is now.")


@strawberry.type(description="The group a mutation created or changed.")
class GroupPayload:
    group: models.Group = strawberry.field(graphql_type=Group, description="The group as it is now.")


@strawberry.type(description="The role a mutation created or changed.")
class RolePayload:
    role: models.Role = strawberry.field(graphql_type=Role, description="The role as it is now.")
