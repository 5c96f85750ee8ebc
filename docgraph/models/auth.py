"""Refresh tokens and the counters that throttle unauthenticated attempts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, String
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


class AuthThrottle(SQLModel, table=True):
    """Unauthenticated attempts (sign-ins, refresh tokens) counted per scope and key in fixed
    windows (services/throttle.py): one row per window, updated in place, never one per attempt."""

    __tablename__ = "auth_throttle"

    # "account_address" (key: email|address) or "address" (key: the address, or an IPv6 /64).
    scope: str = Field(sa_type=String(16), primary_key=True)
    key: str = Field(sa_type=String(400), primary_key=True)
    window_start: datetime = Field(sa_type=DateTime(timezone=True), primary_key=True)
    # Attempts counted (in flight or failed); attempts refused once over the limit.
    attempts: int = Field(default=0)
    refused: int = Field(default=0)
    # For the summary audit row of a window with refusals: the account and the last address.
    email: str | None = Field(default=None, max_length=255)
    ip_address: str | None = Field(default=None, max_length=64)
    last_at: datetime = timestamp()
