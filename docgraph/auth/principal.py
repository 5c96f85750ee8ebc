"""Who is asking: the access token checked against the live user, membership and session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import Unauthenticated
from .tokens import AccessClaims


@dataclass(frozen=True)
class ClientInfo:
    """Where a request came from, for the audit log and throttling."""

    ip_address: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    organization_id: uuid.UUID | None
    system_role: str | None
    is_super_admin: bool
    session_id: uuid.UUID | None = None
    client: ClientInfo = ClientInfo()

    @property
    def is_org_admin(self) -> bool:
        return self.system_role == "ADMIN"

    def require_organization(self) -> uuid.UUID:
        if self.organization_id is None:
            raise Unauthenticated("This needs a token for an organization; use switchOrganization")
        return self.organization_id


# One statement per request: the user is live, still a member, and the session not revoked.
# The role is read here, not from the token, so a demotion takes effect at once.
_PRINCIPAL_SQL = text("""
    SELECT u.is_super_admin, m.system_role
    FROM users u
    LEFT JOIN membership m
        ON m.user_id = u.id AND m.organization_id = :org AND m.left_at IS NULL
    LEFT JOIN organization o ON o.id = m.organization_id
    WHERE u.id = :user AND u.is_active AND u.deleted_at IS NULL
      AND (CAST(:org AS uuid) IS NULL OR u.is_super_admin
           OR (m.id IS NOT NULL AND o.deleted_at IS NULL AND o.status = 'ACTIVE'))
      AND NOT EXISTS (
          SELECT 1 FROM refresh_token r WHERE r.family_id = :sid AND r.revoked_at IS NOT NULL)
""")


async def load_principal(session: AsyncSession, claims: AccessClaims, client: ClientInfo) -> Principal:
    row = (
        await session.execute(
            _PRINCIPAL_SQL,
            {"user": claims.user_id, "org": claims.organization_id, "sid": claims.session_id},
        )
    ).first()
    if row is None:
        raise Unauthenticated("The session is no longer valid")
    return Principal(
        user_id=claims.user_id,
        organization_id=claims.organization_id,
        system_role=row.system_role,
        is_super_admin=row.is_super_admin,
        session_id=claims.session_id,
        client=client,
    )
