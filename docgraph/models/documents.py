"""Documents, their immutable versions, content-addressed blobs and upload sessions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlmodel import Field, SQLModel

from .base import enum_check, fk, id_field, timestamp

UPLOAD_STATUSES = ("OPEN", "COMPLETED", "ABORTED", "EXPIRED")


class Blob(SQLModel, table=True):
    """One stored object per (organization, sha256); versions with equal content share it."""

    __tablename__ = "blob"
    __table_args__ = (
        Index("uq_blob_content", "organization_id", "sha256", unique=True),
        CheckConstraint("size >= 0", name="ck_blob_size"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="ck_blob_sha256"),
    )

    id: uuid.UUID = id_field()
    organization_id: uuid.UUID = fk("organization.id")
    sha256: str = Field(sa_type=String(64))
    size: int = Field(sa_type=BigInteger)
    storage_key: str = Field(max_length=300, sa_column_kwargs={"unique": True})
    created_at: datetime = timestamp()
    # Set by the worker once the object is gone from storage; the row stays as a tombstone.
    purged_at: datetime | None = timestamp(nullable=True)


class Document(SQLModel, table=True):
    __tablename__ = "document"
    __table_args__ = (
        Index("uq_document_live_name", "folder_id", text("lower(name)"), unique=True,
              postgresql_where=text("deleted_at IS NULL")),
        Index("ix_document_folder_page", "folder_id", text("lower(name)"), "id"),
        Index("ix_document_tags", "tags", postgresql_using="gin"),
        Index("ix_document_metadata", "metadata", postgresql_using="gin",
              postgresql_ops={"metadata": "jsonb_path_ops"}),
        Index("ix_document_deletion", "deletion_id", postgresql_where=text("deletion_id IS NOT NULL")),
        # What an access check reads of a document, found without visiting the table.
        Index("ix_document_access", "id",
              postgresql_include=["organization_id", "folder_id", "created_by", "deleted_at"]),
        CheckConstraint("file_size >= 0", name="ck_document_file_size"),
        CheckConstraint("version_count >= 1", name="ck_document_version_count"),
        CheckConstraint("(locked_by IS NULL) = (locked_at IS NULL)", name="ck_document_lock"),
    )

    id: uuid.UUID = id_field()
    organization_id: uuid.UUID = fk("organization.id", index=True)
    folder_id: uuid.UUID = fk("folder.id")
    name: str = Field(max_length=255)
    description: str | None = Field(default=None, max_length=500)
    content_type: str = Field(max_length=100)
    file_size: int = Field(sa_type=BigInteger)
    current_version_id: uuid.UUID | None = Field(
        default=None,
        sa_column=Column(
            UUID(as_uuid=True),
            ForeignKey("document_version.id", use_alter=True, name="fk_document_current_version"),
            nullable=True,
        ),
    )
    version_count: int = 1
    locked_by: uuid.UUID | None = fk("users.id", nullable=True)
    locked_at: datetime | None = timestamp(nullable=True)
    lock_expires_at: datetime | None = timestamp(nullable=True)
    tags: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    )
    metadata_: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column("metadata", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    )
    created_by: uuid.UUID = fk("users.id")
    created_at: datetime = timestamp(index=True)
    updated_at: datetime = timestamp()
    deleted_at: datetime | None = timestamp(nullable=True)
    deleted_by: uuid.UUID | None = fk("users.id", nullable=True)
    deletion_id: uuid.UUID | None = None


class DocumentVersion(SQLModel, table=True):
    __tablename__ = "document_version"
    __table_args__ = (
        Index("uq_document_version_number", "document_id", "version_number", unique=True),
        CheckConstraint("version_number >= 1", name="ck_document_version_number"),
        CheckConstraint("content_hash ~ '^[0-9a-f]{64}$'", name="ck_document_version_hash"),
    )

    id: uuid.UUID = id_field()
    organization_id: uuid.UUID = fk("organization.id")
    document_id: uuid.UUID = fk("document.id", index=True)
    version_number: int
    file_size: int = Field(sa_type=BigInteger)
    content_type: str = Field(max_length=100)
    content_hash: str = Field(sa_type=String(64))
    blob_id: uuid.UUID = fk("blob.id", index=True)
    original_filename: str | None = Field(default=None, max_length=255)
    change_comment: str | None = Field(default=None, max_length=500)
    created_by: uuid.UUID = fk("users.id")
    created_at: datetime = timestamp()
    download_count: int = 0
    last_downloaded_at: datetime | None = timestamp(nullable=True)


class UploadSession(SQLModel, table=True):
    """A resumable upload: parts go to storage, completeUpload turns it into a version."""

    __tablename__ = "upload_session"
    __table_args__ = (
        CheckConstraint(enum_check("status", UPLOAD_STATUSES), name="ck_upload_session_status"),
        CheckConstraint("num_nonnulls(folder_id, document_id) = 1", name="ck_upload_session_target"),
        CheckConstraint("size >= 0", name="ck_upload_session_size"),
        Index("ix_upload_session_open", "expires_at", postgresql_where=text("status = 'OPEN'")),
    )

    id: uuid.UUID = id_field()
    organization_id: uuid.UUID = fk("organization.id")
    user_id: uuid.UUID = fk("users.id")
    folder_id: uuid.UUID | None = fk("folder.id", nullable=True)
    document_id: uuid.UUID | None = fk("document.id", nullable=True)
    file_name: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int = Field(sa_type=BigInteger)
    sha256: str | None = Field(default=None, sa_type=String(64))
    part_size: int = Field(sa_type=BigInteger)
    staging_key: str | None = Field(default=None, max_length=300)
    multipart_upload_id: str | None = Field(default=None, max_length=1024)
    # Set when the organization already holds this content: no transfer needed.
    existing_blob_id: uuid.UUID | None = fk("blob.id", nullable=True)
    status: str = Field(default="OPEN", sa_type=String(16))
    expires_at: datetime = timestamp()
    created_at: datetime = timestamp()
    completed_at: datetime | None = timestamp(nullable=True)
    # Progress, for reclaiming abandoned sessions before they expire (services/uploads.py):
    # when a part last arrived or progress was last seen, and the bytes of parts seen then.
    active_at: datetime = timestamp()
    received_bytes: int = Field(default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})
