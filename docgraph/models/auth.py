"""Refresh tokens and the failed-login record used for throttling."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, String
from sqlmodel import Field, SQLModel

from .base import fk, id_field, timestamp


class RefreshToken(SQLModel, table=True):
    """Stored hashed. Rotation links tokens into a family; reuse revokes the family."""

    __tablename__ = "refresh_token"

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = fk("users.id", index=True)
    organization_id: uuid.UUID | None = fk("organization.id", nullable=True)
    family_id: uuid.UUID = Field(index=True)
    token_hash: str = Field(sa_type=String(64), sa_column_kwargs={"unique": True})
    created_at: datetime = timestamp()
    expires_at: datetime = timestamp()
    used_at: datetime | None = timestamp(nullable=True)
    revoked_at: datetime | None = timestamp(nullable=True)


class LoginFailure(SQLModel, table=True):
    __tablename__ = "login_failure"
    __table_args__ = (
        Index("ix_login_failure_email", "email", "failed_at"),
        Index("ix_login_failure_ip", "ip_address", "failed_at"),
    )

    id: uuid.UUID = id_field()
    email: str = Field(max_length=255)
    ip_address: str | None = Field(default=None, max_length=64)
    failed_at: datetime = timestamp()
