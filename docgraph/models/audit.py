"""The append-only, hash-chained audit log (004's AuditLog)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Identity, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from .base import enum_check, id_field, timestamp


class AuditAction(StrEnum):
    CREATE = "CREATE"
    READ = "READ"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    DOWNLOAD = "DOWNLOAD"
    SHARE = "SHARE"
    LOGIN = "LOGIN"
    LOGOUT = "LOGOUT"
    PERMISSION_CHANGE = "PERMISSION_CHANGE"
    LOCK = "LOCK"
    UNLOCK = "UNLOCK"
    MOVE = "MOVE"
    RESTORE = "RESTORE"
    APPROVAL_REQUEST = "APPROVAL_REQUEST"
    APPROVE = "APPROVE"
    REJECT = "REJECT"


class AuditResourceType(StrEnum):
    DOCUMENT = "DOCUMENT"
    FOLDER = "FOLDER"
    USER = "USER"
    ROLE = "ROLE"
    PERMISSION = "PERMISSION"
    ORGANIZATION = "ORGANIZATION"
    GROUP = "GROUP"
    APPROVAL = "APPROVAL"


class AuditStatus(StrEnum):
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (
        CheckConstraint(enum_check("action", AuditAction), name="ck_audit_log_action"),
        CheckConstraint(enum_check("resource_type", AuditResourceType), name="ck_audit_log_resource_type"),
        CheckConstraint(enum_check("status", AuditStatus), name="ck_audit_log_status"),
        Index("ix_audit_log_org_time", "organization_id", "timestamp", "id"),
        Index("uq_audit_log_chain", "organization_id", "chain_seq", unique=True),
    )

    id: uuid.UUID = id_field()
    # Null for events outside any organization (e.g. a failed login for an unknown email).
    organization_id: uuid.UUID | None = Field(default=None, foreign_key="organization.id")
    user_id: uuid.UUID | None = Field(default=None, foreign_key="users.id", index=True)
    action: str = Field(sa_type=String(32))
    resource_type: str = Field(sa_type=String(16))
    resource_id: uuid.UUID | None = Field(default=None, index=True)
    resource_name: str | None = Field(default=None, max_length=255)
    change_details: dict[str, Any] | None = Field(default=None, sa_type=JSONB)
    ip_address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=500)
    timestamp: datetime = timestamp()
    status: str = Field(default="SUCCESS", sa_type=String(8))
    error_message: str | None = Field(default=None, max_length=2000)
    # Position in the organization's chain, and sha256(previous hash + this row's content).
    chain_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    prev_hash: str | None = Field(default=None, sa_type=String(64))
    row_hash: str = Field(sa_type=String(64))
    # A global order for rows without an organization and for export.
    seq: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), unique=True))
