"""Organizations, users, memberships, roles, departments and groups."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlmodel import Field, SQLModel

from .base import enum_check, fk, id_field, timestamp


class OrganizationStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    SUSPENDED = "SUSPENDED"


class SystemRole(StrEnum):
    ADMIN = "ADMIN"
    EDITOR = "EDITOR"
    VIEWER = "VIEWER"


SYSTEM_ROLES: tuple[SystemRole, ...] = tuple(SystemRole)


class Organization(SQLModel, table=True):
    __tablename__ = "organization"
    __table_args__ = (
        CheckConstraint(enum_check("status", OrganizationStatus), name="ck_organization_status"),
        Index("uq_organization_live_name", text("lower(name)"), unique=True,
              postgresql_where=text("deleted_at IS NULL")),
    )

    id: uuid.UUID = id_field()
    name: str = Field(max_length=255)
    description: str | None = Field(default=None, max_length=500)
    status: str = Field(default="ACTIVE", sa_type=String(16))
    # Approval policy, trash retention, size limits, quota, allowed content types.
    settings: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSONB, sa_column_kwargs={"server_default": text("'{}'::jsonb")}
    )
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
    deleted_at: datetime | None = timestamp(nullable=True)


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (Index("uq_users_email", text("lower(email)"), unique=True),)

    id: uuid.UUID = id_field()
    email: str = Field(max_length=255)
    password_hash: str = Field(max_length=100)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    is_active: bool = True
    is_super_admin: bool = False
    last_login_at: datetime | None = timestamp(nullable=True)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
    deleted_at: datetime | None = timestamp(nullable=True)


class Membership(SQLModel, table=True):
    """004's UserOrganization, carrying the member's one system role."""

    __tablename__ = "membership"
    __table_args__ = (
        CheckConstraint(enum_check("system_role", SYSTEM_ROLES), name="ck_membership_system_role"),
        Index("uq_membership_live", "user_id", "organization_id", unique=True,
              postgresql_where=text("left_at IS NULL")),
        Index("uq_membership_default", "user_id", unique=True,
              postgresql_where=text("is_default AND left_at IS NULL")),
    )

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = fk("users.id", index=True)
    organization_id: uuid.UUID = fk("organization.id", index=True)
    system_role: str = Field(sa_type=String(16))
    is_default: bool = False
    joined_at: datetime = timestamp()
    left_at: datetime | None = timestamp(nullable=True)


class Role(SQLModel, table=True):
    __tablename__ = "role"
    __table_args__ = (
        CheckConstraint(
            "system_key IS NULL OR " + enum_check("system_key", SYSTEM_ROLES), name="ck_role_system_key"
        ),
        CheckConstraint("is_system = (system_key IS NOT NULL)", name="ck_role_system_consistent"),
        Index("uq_role_live_name", "organization_id", text("lower(name)"), unique=True,
              postgresql_where=text("deleted_at IS NULL")),
    )

    id: uuid.UUID = id_field()
    organization_id: uuid.UUID = fk("organization.id", index=True)
    name: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=500)
    is_system: bool = False
    system_key: str | None = Field(default=None, sa_type=String(16))
    created_at: datetime = timestamp()
    deleted_at: datetime | None = timestamp(nullable=True)


class MemberRole(SQLModel, table=True):
    """Custom roles held by a member; the system role lives on the membership."""

    __tablename__ = "member_role"

    role_id: uuid.UUID = Field(foreign_key="role.id", primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", primary_key=True, index=True)
    organization_id: uuid.UUID = fk("organization.id", index=True)
    created_at: datetime = timestamp()


class Department(SQLModel, table=True):
    __tablename__ = "department"
    __table_args__ = (
        Index("uq_department_live_name", "organization_id", text("lower(name)"), unique=True,
              postgresql_where=text("deleted_at IS NULL")),
    )

    id: uuid.UUID = id_field()
    organization_id: uuid.UUID = fk("organization.id", index=True)
    name: str = Field(max_length=255)
    # Set right after the root folder is inserted, in the same transaction.
    root_folder_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(
            UUID(as_uuid=True),
            ForeignKey("folder.id", use_alter=True, name="fk_department_root_folder"),
            nullable=True,
            unique=True,
        ),
    )
    created_at: datetime = timestamp()
    deleted_at: datetime | None = timestamp(nullable=True)


class DepartmentAdmin(SQLModel, table=True):
    __tablename__ = "department_admin"

    department_id: uuid.UUID = Field(foreign_key="department.id", primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", primary_key=True, index=True)
    organization_id: uuid.UUID = fk("organization.id", index=True)
    created_at: datetime = timestamp()


class Group(SQLModel, table=True):
    __tablename__ = "groups"
    __table_args__ = (
        Index("uq_groups_live_name", "organization_id", text("lower(name)"), unique=True,
              postgresql_where=text("deleted_at IS NULL")),
    )

    id: uuid.UUID = id_field()
    organization_id: uuid.UUID = fk("organization.id", index=True)
    department_id: uuid.UUID | None = fk("department.id", nullable=True)
    name: str = Field(max_length=255)
    created_at: datetime = timestamp()
    deleted_at: datetime | None = timestamp(nullable=True)


class GroupMember(SQLModel, table=True):
    __tablename__ = "group_member"

    group_id: uuid.UUID = Field(foreign_key="groups.id", primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", primary_key=True, index=True)
    organization_id: uuid.UUID = fk("organization.id", index=True)
    created_at: datetime = timestamp()
