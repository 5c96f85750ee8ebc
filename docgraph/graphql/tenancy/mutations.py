"""Mutations of organizations, members, departments, groups and roles."""

from __future__ import annotations

from typing import Annotated

import strawberry

from ...globalid import decode_as
from ...services import departments, groups, members, organizations, roles
from ..context import Info
from .types import (
    AddMemberInput,
    CreateDepartmentInput,
    CreateGroupInput,
    CreateOrganizationInput,
    CreateRoleInput,
    CreateUserInput,
    DepartmentPayload,
    GroupMemberInput,
    GroupPayload,
    OrganizationPayload,
    RemoveMemberInput,
    RoleMemberInput,
    RolePayload,
    SetDepartmentAdminInput,
    SetSystemRoleInput,
    UserPayload,
)


@strawberry.type
class Mutation:
    @strawberry.mutation(description=(
        "Create an organization with its system roles and its first admin (super admins only)."))
    async def create_organization(
            self, info: Info,
            input: Annotated[CreateOrganizationInput, strawberry.argument(
                description="The organization's name and description, and its first admin.")],
    ) -> OrganizationPayload:
        context = info.context
        row = await organizations.create_organization(
            context.db, context.principal, name=input.name, description=input.description,
            admin_email=input.admin_email, admin_password=input.admin_password,
            admin_first_name=input.admin_first_name, admin_last_name=input.admin_last_name,
            bcrypt_rounds=context.settings.bcrypt_rounds,
        )
        return OrganizationPayload(organization=row)

    @strawberry.mutation(description=(
        "Create an account and make it a member of the viewer's organization (organization admins)."))
    async def create_user(
            self, info: Info,
            input: Annotated[CreateUserInput, strawberry.argument(
                description="The new user's credentials, names and system role.")],
    ) -> UserPayload:
        context = info.context
        row = await members.create_user(
            context.db, context.principal, email=input.email, password=input.password,
            first_name=input.first_name, last_name=input.last_name, system_role=input.system_role.value,
            bcrypt_rounds=context.settings.bcrypt_rounds,
        )
        return UserPayload(user=row)

    @strawberry.mutation(description="Add an existing account to the viewer's organization (organization admins).")
    async def add_member(
            self, info: Info,
            input: Annotated[AddMemberInput, strawberry.argument(
                description="The account's email and the system role it gets.")],
    ) -> UserPayload:
        row = await members.add_member(info.context.db, info.context.principal, email=input.email,
                                       system_role=input.system_role.value)
        return UserPayload(user=row)

    @strawberry.mutation(description=(
        "Change a member's system role (organization admins; the last admin stays an admin)."))
    async def set_system_role(
            self, info: Info,
            input: Annotated[SetSystemRoleInput, strawberry.argument(
                description="The member and its new system role.")],
    ) -> UserPayload:
        row = await members.set_system_role(info.context.db, info.context.principal,
                                            user_id=decode_as(input.user_id, "User"),
                                            system_role=input.system_role.value)
        return UserPayload(user=row)

    @strawberry.mutation(description="Remove a member from the viewer's organization (organization admins).")
    async def remove_member(
            self, info: Info,
            input: Annotated[RemoveMemberInput, strawberry.argument(description="The member to remove.")],
    ) -> UserPayload:
        row = await members.remove_member(info.context.db, info.context.principal,
                                          user_id=decode_as(input.user_id, "User"))
        return UserPayload(user=row)

    @strawberry.mutation(description="Create a department with its drive (organization admins).")
    async def create_department(
            self, info: Info,
            input: Annotated[CreateDepartmentInput, strawberry.argument(description="The department's name.")],
    ) -> DepartmentPayload:
        row = await departments.create_department(info.context.db, info.context.principal, name=input.name)
        return DepartmentPayload(department=row)

    @strawberry.mutation(description="Make a member an admin of a department, or no longer one (organization admins).")
    async def set_department_admin(
            self, info: Info,
            input: Annotated[SetDepartmentAdminInput, strawberry.argument(
                description="The department, the member, and whether the member administers it.")],
    ) -> DepartmentPayload:
        row = await departments.set_department_admin(
            info.context.db, info.context.principal, department_id=decode_as(input.department_id, "Department"),
            user_id=decode_as(input.user_id, "User"), is_admin=input.is_admin,
        )
        return DepartmentPayload(department=row)

    @strawberry.mutation(description="Create a group (organization admins).")
    async def create_group(
            self, info: Info,
            input: Annotated[CreateGroupInput, strawberry.argument(
                description="The group's name and optional department.")],
    ) -> GroupPayload:
        department_id = decode_as(input.department_id, "Department") if input.department_id else None
        row = await groups.create_group(info.context.db, info.context.principal, name=input.name,
                                        department_id=department_id)
        return GroupPayload(group=row)

    @strawberry.mutation(description="Add a member to a group (organization admins).")
    async def add_group_member(
            self, info: Info,
            input: Annotated[GroupMemberInput, strawberry.argument(description="The group and the member to add.")],
    ) -> GroupPayload:
        return await _set_group_member(info, input, member=True)

    @strawberry.mutation(description="Remove a member from a group (organization admins).")
    async def remove_group_member(
            self, info: Info,
            input: Annotated[GroupMemberInput, strawberry.argument(description="The group and the member to remove.")],
    ) -> GroupPayload:
        return await _set_group_member(info, input, member=False)

    @strawberry.mutation(description="Create a custom role (organization admins).")
    async def create_role(
            self, info: Info,
            input: Annotated[CreateRoleInput, strawberry.argument(description="The role's name and description.")],
    ) -> RolePayload:
        row = await roles.create_role(info.context.db, info.context.principal, name=input.name,
                                      description=input.description)
        return RolePayload(role=row)

    @strawberry.mutation(description="Custom roles only; system roles change through setSystemRole.")
    async def add_role_member(
            self, info: Info,
            input: Annotated[RoleMemberInput, strawberry.argument(
                description="The custom role and the member to give it to.")],
    ) -> RolePayload:
        return await _set_role_member(info, input, member=True)

    @strawberry.mutation(description="Take a custom role from a member (organization admins).")
    async def remove_role_member(
            self, info: Info,
            input: Annotated[RoleMemberInput, strawberry.argument(
                description="The custom role and the member to take it from.")],
    ) -> RolePayload:
        return await _set_role_member(info, input, member=False)


async def _set_group_member(info: Info, input: GroupMemberInput, *, member: bool) -> GroupPayload:
    row = await groups.set_group_member(info.context.db, info.context.principal,
                                        group_id=decode_as(input.group_id, "Group"),
                                        user_id=decode_as(input.user_id, "User"), member=member)
    return GroupPayload(group=row)


async def _set_role_member(info: Info, input: RoleMemberInput, *, member: bool) -> RolePayload:
    row = await roles.set_role_member(info.context.db, info.context.principal,
                                      role_id=decode_as(input.role_id, "Role"),
                                      user_id=decode_as(input.user_id, "User"), member=member)
    return RolePayload(role=row)
