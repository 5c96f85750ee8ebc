"""Who is asking: the access token checked against the live user, membership and session."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import Database
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


# One statement per request (or per batch of live deliveries): the user is live, still a member,
# and the session not revoked. The role is read here, not from the token, so a demotion takes
# effect at once.
_PRINCIPALS_SQL = text("""
    SELECT k.n, u.is_super_admin, m.system_role
    FROM unnest(CAST(:users AS uuid[]), CAST(:orgs AS uuid[]), CAST(:sids AS uuid[]))
         WITH ORDINALITY AS k(user_id, org_id, sid, n)
    JOIN users u ON u.id = k.user_id
    LEFT JOIN membership m
        ON m.user_id = u.id AND m.organization_id = k.org_id AND m.left_at IS NULL
    LEFT JOIN organization o ON o.id = m.organization_id
    WHERE u.is_active AND u.deleted_at IS NULL
      AND (k.org_id IS NULL OR u.is_super_admin
           OR (m.id IS NOT NULL AND o.deleted_at IS NULL AND o.status = 'ACTIVE'))
      AND NOT EXISTS (
          SELECT 1 FROM refresh_token r WHERE r.family_id = k.sid AND r.revoked_at IS NOT NULL)
""")


async def load_principals(session: AsyncSession, claims: Sequence[AccessClaims],
                          clients: Sequence[ClientInfo]) -> list[Principal | None]:
    """The principal of each token's claims as it is now, None where the user, membership or
    session is no longer live: one statement for any number of tokens."""
    if not claims:
        return []
    rows = await session.execute(_PRINCIPALS_SQL, {
        "users": [c.user_id for c in claims], "orgs": [c.organization_id for c in claims],
        "sids": [c.session_id for c in claims]})
    live = {row.n: row for row in rows}
    return [
        Principal(user_id=c.user_id, organization_id=c.organization_id, system_role=live[n].system_role,
                  is_super_admin=live[n].is_super_admin, session_id=c.session_id, client=client)
        if n in live else None
        for n, (c, client) in enumerate(zip(claims, clients, strict=False), start=1)
    ]


async def load_principal(session: AsyncSession, claims: AccessClaims, client: ClientInfo) -> Principal:
    principal = (await load_principals(session, [claims], [client]))[0]
    if principal is None:
        raise Unauthenticated("The session is no longer valid")
    return principal


async def read_principal(db: Database, claims: AccessClaims, client: ClientInfo) -> Principal:
    """`load_principal` in its own short read (a request's authentication)."""
    async with db.reading() as session:
        return await load_principal(session, claims, client)
