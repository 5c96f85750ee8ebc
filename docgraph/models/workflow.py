"""Approvals, notifications and the outbox of background jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Identity, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from .base import enum_check, fk, id_field, timestamp


class ApprovalAction(StrEnum):
    REPLACE = "REPLACE"
    DELETE = "DELETE"


class ApprovalStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


class NotificationType(StrEnum):
    APPROVAL_REQUESTED = "APPROVAL_REQUESTED"
    APPROVAL_DECIDED = "APPROVAL_DECIDED"
    SHARED_WITH_YOU = "SHARED_WITH_YOU"
    DOCUMENT_REPLACED = "DOCUMENT_REPLACED"
    DOCUMENT_DELETED = "DOCUMENT_DELETED"


RESOURCE_TYPES = ("FOLDER", "DOCUMENT")


class Approval(SQLModel, table=True):
    __tablename__ = "approval"
    __table_args__ = (
        CheckConstraint(enum_check("action", ApprovalAction), name="ck_approval_action"),
        CheckConstraint(enum_check("status", ApprovalStatus), name="ck_approval_status"),
        CheckConstraint("num_nonnulls(folder_id, document_id) = 1", name="ck_approval_one_resource"),
        CheckConstraint("action = 'DELETE' OR staged_blob_id IS NOT NULL", name="ck_approval_replace_staged"),
        CheckConstraint("(status = 'PENDING') = (reviewed_at IS NULL)", name="ck_approval_reviewed"),
        Index("ix_approval_pending", "organization_id", "requested_at",
              postgresql_where=text("status = 'PENDING'")),
    )

    id: uuid.UUID = id_field()
    organization_id: uuid.UUID = fk("organization.id", index=True)
    action: str = Field(sa_type=String(16))
    status: str = Field(default="PENDING", sa_type=String(16))
    folder_id: uuid.UUID | None = fk("folder.id", nullable=True, index=True)
    document_id: uuid.UUID | None = fk("document.id", nullable=True, index=True)
    requested_by: uuid.UUID = fk("users.id", index=True)
    requested_at: datetime = timestamp()
    comment: str | None = Field(default=None, max_length=1000)
    reviewed_by: uuid.UUID | None = fk("users.id", nullable=True)
    reviewed_at: datetime | None = timestamp(nullable=True)
    review_comment: str | None = Field(default=None, max_length=1000)
    # REPLACE: the uploaded content waiting for a decision, and the version it was based on.
    staged_blob_id: uuid.UUID | None = fk("blob.id", nullable=True)
    staged_file_size: int | None = Field(default=None, sa_type=BigInteger)
    staged_content_type: str | None = Field(default=None, max_length=100)
    staged_content_hash: str | None = Field(default=None, sa_type=String(64))
    staged_file_name: str | None = Field(default=None, max_length=255)
    base_version_id: uuid.UUID | None = fk("document_version.id", nullable=True)


class Notification(SQLModel, table=True):
    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint(enum_check("type", NotificationType), name="ck_notification_type"),
        CheckConstraint(
            "resource_type IS NULL OR " + enum_check("resource_type", (*RESOURCE_TYPES, "APPROVAL")),
            name="ck_notification_resource_type",
        ),
        Index("ix_notification_recipient", "recipient_id", "created_at", "id"),
        Index("ix_notification_unread", "recipient_id", postgresql_where=text("read_at IS NULL")),
    )

    id: uuid.UUID = id_field()
    organization_id: uuid.UUID = fk("organization.id")
    recipient_id: uuid.UUID = fk("users.id")
    type: str = Field(sa_type=String(32))
    title: str = Field(max_length=255)
    message: str = Field(max_length=2000)
    resource_type: str | None = Field(default=None, sa_type=String(16))
    resource_id: uuid.UUID | None = None
    read_at: datetime | None = timestamp(nullable=True)
    created_at: datetime = timestamp()


class OutboxJob(SQLModel, table=True):
    """An external side effect recorded in the transaction that causes it; run by workers."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "run_after", postgresql_where=text("completed_at IS NULL")),
    )

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    organization_id: uuid.UUID | None = fk("organization.id", nullable=True)
    kind: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONB)
    # Same key → same effect: lets a producer enqueue a job at most once.
    dedupe_key: str | None = Field(default=None, max_length=200, sa_column_kwargs={"unique": True})
    run_after: datetime = timestamp()
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime = timestamp()
    completed_at: datetime | None = timestamp(nullable=True)
