"""Audit rows: written in the use case's transaction, hash-chained per organization."""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import ClientInfo, Principal
from ..db import Database
from ..errors import DocgraphError, RateLimited, Unauthenticated
from ..models import AuditLog
from ..models.base import utcnow

# Every chain is serialized by a transaction-scoped advisory lock on its organization.
_LOCK_SQL = text(
    "SELECT pg_advisory_xact_lock(hashtextextended(coalesce(CAST(CAST(:org AS uuid) AS text), 'global'), 7))")
_LAST_SQL = text("""
    SELECT chain_seq, row_hash FROM audit_log
    WHERE organization_id IS NOT DISTINCT FROM :org
    ORDER BY chain_seq DESC LIMIT 1
""")

HASHED_FIELDS = (
    "id", "organization_id", "user_id", "action", "resource_type", "resource_id", "resource_name",
    "change_details", "ip_address", "user_agent", "timestamp", "status", "error_message", "chain_seq",
)


def row_hash(entry: AuditLog, prev_hash: str | None) -> str:
    content = {name: getattr(entry, name) for name in HASHED_FIELDS}
    content["timestamp"] = entry.timestamp.isoformat()
    canonical = json.dumps(content, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(((prev_hash or "") + canonical).encode()).hexdigest()


async def record(
    session: AsyncSession,
    *,
    action: str,
    resource_type: str,
    organization_id: uuid.UUID | None,
    user_id: uuid.UUID | None,
    client: ClientInfo | None = None,
    resource_id: uuid.UUID | None = None,
    resource_name: str | None = None,
    details: dict[str, Any] | None = None,
    status: str = "SUCCESS",
    error_message: str | None = None,
) -> AuditLog:
    """Append one row to the organization's chain, inside the caller's transaction."""
    await session.execute(_LOCK_SQL, {"org": organization_id})
    last = (await session.execute(_LAST_SQL, {"org": organization_id})).first()
    client = client or ClientInfo()
    if details is not None:
        # Hashed as it will be read back (UUIDs, datetimes as strings after a JSON round trip),
        # so `docgraph audit verify` recomputes the same hash from the stored row.
        details = json.loads(json.dumps(details, default=str))
    entry = AuditLog(
        organization_id=organization_id, user_id=user_id, action=action, resource_type=resource_type,
        resource_id=resource_id, resource_name=resource_name, change_details=details,
        ip_address=client.ip_address, user_agent=(client.user_agent or "")[:500] or None,
        timestamp=utcnow(), status=status, error_message=error_message,
        chain_seq=(last.chain_seq + 1) if last else 1,
        prev_hash=last.row_hash if last else None,
        row_hash="",
    )
    entry.row_hash = row_hash(entry, entry.prev_hash)
    session.add(entry)
    await session.flush()
    return entry


async def home_organization(session: AsyncSession, user_id: uuid.UUID) -> uuid.UUID | None:
    """The chain of a user's events outside any organization (sign-in failures): the default
    membership's organization, or the only one; None (the global chain) when that is ambiguous."""
    rows = (await session.execute(text("""
        SELECT organization_id, is_default FROM membership WHERE user_id = :user_id AND left_at IS NULL
    """), {"user_id": user_id})).all()
    defaults = [row.organization_id for row in rows if row.is_default]
    if defaults:
        return defaults[0]
    return rows[0].organization_id if len(rows) == 1 else None


async def record_by(session: AsyncSession, actor: Principal, action: str, resource_type: str,
                    **fields: Any) -> AuditLog:
    """`record` for an action a signed-in principal performed in its organization."""
    return await record(
        session, action=action, resource_type=resource_type, organization_id=actor.organization_id,
        user_id=actor.user_id, client=actor.client, **fields,
    )


async def record_failure(db: Database, actor: Principal | None, action: str, resource_type: str,
                         error: Exception, **fields: Any) -> None:
    """A denied or failed attempt, in its own transaction (the use case's was rolled back)."""
    async with db.transaction() as session:
        await record(
            session, action=action, resource_type=resource_type,
            organization_id=actor.organization_id if actor else fields.pop("organization_id", None),
            user_id=actor.user_id if actor else fields.pop("user_id", None),
            client=actor.client if actor else fields.pop("client", None),
            status="FAILURE", error_message=str(error)[:2000], **fields,
        )


P = ParamSpec("P")
R = TypeVar("R")


def _is_refusal(error: Exception) -> bool:
    """Refusals a client caused (bad input, no access, conflicts, limits): audited as FAILURE.
    Unauthenticated calls have no actor to record; throttling is recorded by login itself."""
    return isinstance(error, DocgraphError) and not isinstance(error, Unauthenticated | RateLimited) \
        and error.code != DocgraphError.code


def audited(action: str, resource_type: str, *, resource: str | None = None
            ) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Wrap a use case `fn(db, actor, ...)`: a refusal it raises is written to the audit log as
    a FAILURE (in its own transaction: the use case's was rolled back), then re-raised.
    `resource` names the keyword argument holding the target's id, recorded as resourceId."""

    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(fn)
        async def wrapper(db: Database, actor: Principal, *args: Any, **kwargs: Any) -> R:
            try:
                return await fn(db, actor, *args, **kwargs)
            except DocgraphError as error:
                if not _is_refusal(error):
                    raise
                target = kwargs.get(resource) if resource else None
                await record_failure(db, actor, action, resource_type, error,
                                     resource_id=target if isinstance(target, uuid.UUID) else None,
                                     details={"code": error.code, "operation": fn.__name__})
                raise

        return wrapper

    return decorate
