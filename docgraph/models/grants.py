"""Grants: the one access-control table (003's access_control + 004's Permission)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, String, text
from sqlmodel import Field, SQLModel

from .base import enum_check, fk, id_field, timestamp

SUBJECT_TYPES = ("USER", "GROUP", "ROLE")


class Capability(StrEnum):
    """What a grant may give, one boolean column each (can_view, ...)."""

    VIEW = "VIEW"
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    SHARE = "SHARE"
    MANAGE = "MANAGE"

    @property
    def column(self) -> str:
        """The grant column holding this capability (can_view, ...)."""
        return f"can_{self.value.lower()}"


CAPABILITIES: tuple[Capability, ...] = tuple(Capability)
# The grant / Access column of each capability, in CAPABILITIES order (hot paths read these).
CAPABILITY_COLUMNS: tuple[str, ...] = tuple(c.column for c in CAPABILITIES)


class Grant(SQLModel, table=True):
    """One row per (resource, subject). A row with no capability is a restriction."""

    __tablename__ = "grants"
    __table_args__ = (
        CheckConstraint(enum_check("subject_type", SUBJECT_TYPES), name="ck_grants_subject_type"),
        CheckConstraint("num_nonnulls(folder_id, document_id) = 1", name="ck_grants_one_resource"),
        Index("uq_grants_folder_subject", "folder_id", "subject_type", "subject_id", unique=True,
              postgresql_where=text("folder_id IS NOT NULL")),
        Index("uq_grants_document_subject", "document_id", "subject_type", "subject_id", unique=True,
              postgresql_where=text("document_id IS NOT NULL")),
        Index("ix_grants_subject", "subject_type", "subject_id"),
    )

    id: uuid.UUID = id_field()
    organization_id: uuid.UUID = fk("organization.id", index=True)
    folder_id: uuid.UUID | None = fk("folder.id", nullable=True, ondelete="CASCADE")
    document_id: uuid.UUID | None = fk("document.id", nullable=True, ondelete="CASCADE")
    subject_type: str = Field(sa_type=String(8))
    subject_id: uuid.UUID
    can_view: bool = False
    can_create: bool = False
    can_update: bool = False
    can_delete: bool = False
    can_share: bool = False
    can_manage: bool = False
    granted_by: uuid.UUID | None = fk("users.id", nullable=True)
    granted_at: datetime = timestamp()
    expires_at: datetime | None = timestamp(nullable=True)
