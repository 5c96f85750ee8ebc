"""The one folder hierarchy: department roots, My Drive roots and their subfolders."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index, String, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlmodel import Field, SQLModel

from .base import enum_check, fk, id_field, timestamp

OWNER_TYPES = ("ORG", "USER")


class Folder(SQLModel, table=True):
    __tablename__ = "folder"
    __table_args__ = (
        CheckConstraint(enum_check("owner_type", OWNER_TYPES), name="ck_folder_owner_type"),
        # A root is either a department's drive or a member's My Drive.
        CheckConstraint(
            "(owner_type = 'ORG' AND department_id IS NOT NULL) OR "
            "(owner_type = 'USER' AND department_id IS NULL)",
            name="ck_folder_owner_department",
        ),
        # path = ancestors then self, root first; its last element is always the row's id.
        CheckConstraint("path[cardinality(path)] = id", name="ck_folder_path_ends_with_self"),
        CheckConstraint("(parent_id IS NULL) = (cardinality(path) = 1)", name="ck_folder_root_path"),
        Index("uq_folder_live_sibling", "parent_id", text("lower(name)"), unique=True,
              postgresql_where=text("deleted_at IS NULL AND parent_id IS NOT NULL")),
        Index("uq_folder_department_root", "department_id", unique=True,
              postgresql_where=text("parent_id IS NULL AND owner_type = 'ORG'")),
        Index("uq_folder_my_drive_root", "organization_id", "owner_id", unique=True,
              postgresql_where=text("parent_id IS NULL AND owner_type = 'USER'")),
        Index("ix_folder_path", "path", postgresql_using="gin"),
        Index("ix_folder_children", "parent_id", text("lower(name)"), "id"),
        Index("ix_folder_deletion", "deletion_id", postgresql_where=text("deletion_id IS NOT NULL")),
    )

    id: uuid.UUID = id_field()
    organization_id: uuid.UUID = fk("organization.id", index=True)
    parent_id: uuid.UUID | None = fk("folder.id", nullable=True, index=True)
    name: str = Field(max_length=255)
    description: str | None = Field(default=None, max_length=500)
    owner_type: str = Field(sa_type=String(8))
    # The member whose My Drive this is (USER), or the organization (ORG).
    owner_id: uuid.UUID
    department_id: uuid.UUID | None = fk("department.id", nullable=True, index=True)
    path: list[uuid.UUID] = Field(sa_column=Column(ARRAY(UUID(as_uuid=True)), nullable=False))
    created_by: uuid.UUID = fk("users.id")
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
    deleted_at: datetime | None = timestamp(nullable=True)
    deleted_by: uuid.UUID | None = fk("users.id", nullable=True)
    # Shared by every row one delete operation hid, so restore brings back exactly that set.
    deletion_id: uuid.UUID | None = None
